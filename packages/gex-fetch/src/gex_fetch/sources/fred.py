"""FRED constant-maturity Treasury series (no key): ``fredgraph.csv?id=DGS3MO`` (percent, one row a day).

``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS3MO&cosd=YYYY-MM-DD``. The "symbol" is the series
id (``DGS1MO``, ``DGS3MO``, ``DGS1``, ``DGS10``, ...); ``cosd`` starts the window on 1 January of the previous
year (the rates table replaces by date, so a nightly refetch of that window is idempotent). Two header
layouts exist (``DATE,DGS10`` and ``observation_date,DGS3MO``): both pass.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, looks_like_html

SERIES = re.compile(r"^DGS(\d+MO|\d+)$")


class Fred(Source):
    name = "fred"
    default_base_url = "https://fred.stlouisfed.org"
    kind = "rates"
    rate_per_s = 1.0
    burst = 2

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        if not SERIES.fullmatch(symbol):
            raise FetchError("config", f"fred takes a Treasury constant-maturity series id such as DGS3MO, not {symbol!r}")
        year = (session or dt.date.today()).year - 1
        return [PlannedRequest("rates", "/graph/fredgraph.csv", {"id": symbol, "cosd": f"{year}-01-01"}, accept="text/csv, */*")]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        if looks_like_html(response.body):
            raise FetchError("invalid", f"{response.url}: an HTML page came back instead of the FRED CSV")
        text = response.body.decode("utf-8-sig", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        header = lines[0].strip() if lines else ""
        m = re.fullmatch(r"(?:DATE|observation_date),(\S+)", header)
        if not m:
            raise FetchError("invalid", f"{response.url}: not a FRED series CSV (header {header[:60]!r})")
        if m.group(1) != symbol:
            raise FetchError("invalid", f"{response.url}: the CSV is series {m.group(1)}, not {symbol} as asked")
        if len(lines) < 2:
            raise FetchError("invalid", f"{response.url}: series {symbol} has no rows")
        return text
