"""``gex report --intraday`` (a static intraday page) and ``gex report --serve`` (the live one, on a local server).

Exit codes (:mod:`gex_cli.errors`): 0 written / served until stopped; 1 no warehouse, locked before any
published snapshot, views missing, nothing to show, ``--out`` not writable, the port taken; 2 usage error
(unknown preset, bad port or poll interval); 130 Ctrl-C stopped the server.
"""

from __future__ import annotations

import datetime as dt
import errno
import math
from pathlib import Path

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES

#: Shortest poll interval, seconds (the page asks the server this often; the data changes every few minutes).
MIN_POLL_SECONDS = 0.5


def _check_preset(preset: str) -> None:
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)


def write_static(warehouse: Path | None, underlying: str | None, day: dt.date | None, preset: str, out: Path | None) -> None:
    """``gex report --intraday``: the session's snapshots as one self-contained page (no polling)."""
    _check_preset(preset)
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError

    from gex_report import data as report_data
    from gex_report import intraday_data as idd
    from gex_report.intraday_page import write_intraday
    from gex_report.page import ReportOutputError

    target = warehouse_path(warehouse)
    try:
        con = report_data.open_read_only(target)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        loaded = idd.load(con, underlying, day, preset)
    except report_data.ReportInputError as exc:
        raise _fail(f"{exc} ({target})", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    from gex_cli.report_cmd import page_path

    target_out = page_path(out, f"intraday_{loaded.underlying}_{loaded.session}.html")
    try:
        size = write_intraday(loaded, target_out, warehouse_name=target.name)
    except ReportOutputError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    typer.echo(f"wrote the {loaded.underlying} {loaded.session} intraday page ({loaded.snapshots.height} snapshots, "
               f"{loaded.intraday_count} intraday; {size / 1e6:.2f} MB, self-contained) to {target_out}")


def serve(warehouse: Path | None, underlying: str | None, day: dt.date | None, preset: str, host: str, port: int,
          poll: float) -> None:
    """``gex report --serve``: serve until Ctrl-C (then exit 130, quietly)."""
    _check_preset(preset)
    if not 0 <= port <= 65535:
        raise _fail(f"--port {port} must be between 0 and 65535", EXIT_USAGE)
    if not (math.isfinite(poll) and poll >= MIN_POLL_SECONDS):
        raise _fail(f"--poll {poll} must be at least {MIN_POLL_SECONDS} seconds", EXIT_USAGE)
    from gex_warehouse.config import warehouse_path

    from gex_warehouse.published import snapshot_path

    from gex_report.serve import ReportServer, ServeSettings

    target = warehouse_path(warehouse)
    if not target.exists() and not snapshot_path(target).exists():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    settings = ServeSettings(target, underlying=underlying.upper().lstrip("^") if underlying else None, session=day,
                             preset=preset, poll_seconds=poll)
    try:
        server = ReportServer(settings, host, port)
    except OSError as exc:
        reason = "the port is in use (give another with --port)" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise _fail(f"cannot listen on {host}:{port}: {reason}", EXIT_BAD_INPUT) from None
    typer.echo(f"serving the live intraday page on {server.url} (daily report: {server.url}daily) from {target}; "
               "Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        server.server_close()
