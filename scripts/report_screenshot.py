"""Screenshot of a `gex report` page, as docs/img/report.png shows it.

Run: ``uv run python scripts/report_screenshot.py WAREHOUSE OUT.png [--session D] [--underlying U]``

Renders the report of the warehouse (default: first underlying, latest session) and photographs the whole
page in headless Chromium (Debian's /usr/bin/chromium, network cut off) at a 1400-pixel-wide viewport. The
footer's "generated" instant is pinned to the session's valuation instant, so the same warehouse gives the
same picture. Fails if the page made a network request or logged an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from gex_report import data, page
from gex_report.browser import check_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--session", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--underlying", default=None)
    parser.add_argument("--width", type=int, default=1400, help="viewport width, CSS pixels")
    args = parser.parse_args(argv)
    con = data.open_read_only(args.warehouse)
    try:
        loaded = data.load(con, args.underlying, args.session)
    finally:
        con.close()
    pinned = loaded.day.get("valuation_ts")
    generated = pinned if isinstance(pinned, dt.datetime) else dt.datetime.combine(loaded.session, dt.time(), dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        size = page.write(loaded, html, warehouse_name=args.warehouse.name, generated_at=generated)
        check = check_page(html, screenshot=args.out, width=args.width)
    problems = check.network_requests + check.console_errors + check.page_errors
    if problems:
        print(f"report_screenshot: the page misbehaved: {problems}", file=sys.stderr)
        return 1
    print(f"{args.out}: {loaded.underlying} {loaded.session}, HTML {size / 1e6:.2f} MB, Chromium {check.chromium_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
