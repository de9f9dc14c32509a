"""``gex report``: write one self-contained offline HTML dashboard of an (underlying, session).

Exit codes follow :mod:`gex_cli.main`: 0 report written; 1 the warehouse is missing, empty, held by a
writer before any published snapshot exists, predates the published views, has no such
underlying/session, or ``--out`` cannot be written (read-only folder); 2 usage error (bad date, ``--out`` a folder).
``--intraday`` and ``--serve`` (the intraday page, static or live) are in :mod:`gex_cli.report_live`; ``--serve``
exits 130 on Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail


def report(
    session: Annotated[
        str | None, typer.Option("--session", help="Session to report, YYYY-MM-DD (default: the latest computed one).")
    ] = None,
    underlying: Annotated[
        str | None, typer.Option("--underlying", "-u", help="SPX, NDX, ... (default: the only, or first, in the warehouse).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write (default: warehouse/report_<UNDERLYING>_<SESSION>.html)."),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    intraday: Annotated[
        bool, typer.Option("--intraday", help="Write the intraday page instead: strike-by-time GEX heatmap, spot and flip "
                                              "through the day, 0-DTE share (default out: warehouse/intraday_<U>_<SESSION>.html).")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the live intraday page on http://HOST:PORT/ (it updates itself as "
                                           "snapshots are published) and the daily report at /daily; Ctrl-C stops.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address --serve binds (default 127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port --serve listens on (0: any free port).")] = 8765,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between the served page's checks for new snapshots.")] = 10.0,
    preset: Annotated[str, typer.Option("--preset", "-p", help="Preset of the intraday page: native, perfiliev, "
                                                               "perfiliev-early, gflows.")] = "native",
    scanner: Annotated[
        bool, typer.Option("--scanner", help="Write the scanner page instead: every underlying of the session in a sortable "
                           "table and net GEX vs call-gamma share (default --out warehouse/scanner_<SESSION>.html).")
    ] = False,
) -> None:
    """Write a self-contained HTML dashboard (works offline): GEX by strike, profile, flip and regime history, vol.

    Reads the published views (main.*) from the published snapshot beside the warehouse (so it works while a
    job writes the warehouse), else from the warehouse opened read-only. Charts are interactive (hover,
    zoom, pan); the file has every script and style inline and loads nothing from the network.
    """
    day: dt.date | None = None
    if session is not None:
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None

    if serve and out is not None:
        raise _fail("--out writes a file; --serve serves the page instead (use --intraday --out FILE for a static page)",
                    EXIT_USAGE)
    if scanner and (serve or intraday):
        raise _fail("--scanner writes the scanner page; it does not combine with --intraday or --serve", EXIT_USAGE)
    if serve or intraday:
        from gex_cli import report_live

        if serve:
            report_live.serve(warehouse, underlying, day, preset, host, port, poll)
        else:
            report_live.write_static(warehouse, underlying, day, preset, out)
        return

    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError, WarehouseLockedError

    from gex_report import data as report_data
    from gex_report.page import ReportOutputError, write

    target = warehouse_path(warehouse)
    if scanner:
        _scanner_page(target, day, out)
        return
    try:
        con = report_data.open_read_only(target)
    except WarehouseLockedError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None  # names the writer and says to wait
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        loaded = report_data.load(con, underlying, day)
    except report_data.ReportInputError as exc:
        raise _fail(f"{exc} ({target})", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    target_out = page_path(out, f"report_{loaded.underlying}_{loaded.session}.html")
    try:
        size = write(loaded, target_out, warehouse_name=target.name)
    except ReportOutputError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    typer.echo(f"wrote the {loaded.underlying} {loaded.session} report ({loaded.day.get('regime')} gamma, "
               f"{size / 1e6:.2f} MB, self-contained) to {target_out}")


def page_path(out: Path | None, default_name: str) -> Path:
    """Where a page goes: ``--out``, else ``warehouse/<default_name>``; a folder given as ``--out`` is a usage
    error (exit 2) naming a file to give instead."""
    target_out = out if out is not None else Path("warehouse") / default_name
    if target_out.is_dir():
        raise _fail(f"--out {target_out} is a folder; give the HTML file to write, e.g. {target_out / default_name}",
                    EXIT_USAGE)
    return target_out


def _scanner_page(target: Path, day: dt.date | None, out: Path | None) -> None:
    """``gex report --scanner``: the session's cross-section (gex_report.scanner_page) from the published view."""
    from gex_warehouse.connect import WarehouseError, WarehouseLockedError
    from gex_warehouse.scanner import ScanError, scan

    from gex_report import data as report_data
    from gex_report.page import ReportOutputError
    from gex_report.scanner_page import write_scanner

    try:
        con = report_data.open_read_only(target)
    except (WarehouseLockedError, WarehouseError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        result = scan(con, day)
    except ScanError as exc:
        raise _fail(f"{exc} ({target})", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    target_out = page_path(out, f"scanner_{result.session}.html")
    try:
        size = write_scanner(result, target_out, warehouse_name=target.name)
    except ReportOutputError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    typer.echo(f"wrote the scanner of {result.session} ({result.underlyings_in_session} underlyings, {size / 1e6:.2f} MB, "
               f"self-contained) to {target_out}")
