"""``gex report --intraday`` (a static intraday page) and ``gex report --serve`` (the live one, on a local server).

Exit codes (:mod:`gex_cli.errors`): 0 written / served until stopped; 1 no warehouse, locked before any
published snapshot, views missing, nothing to show, ``--out`` not writable, the port taken; 2 usage error
(unknown preset, bad port or poll interval); 130 Ctrl-C stopped the server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import math
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE
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
        with _stopped_by_signals():
            server.serve_forever()
    except _Stopped as stop:
        raise typer.Exit(EXIT_TERMINATED if stop.signum == signal.SIGTERM else EXIT_INTERRUPTED) from None
    except KeyboardInterrupt:  # Ctrl-C in a thread other than the main one (tests), where no handler is installed
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        server.server_close()


class _Stopped(Exception):
    """SIGINT or SIGTERM reached ``gex report --serve`` (``signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`_Stopped` while the block runs (exit 130 or 143, quietly), as the other long
    commands handle them (:mod:`gex_cli.interrupts`). Installed explicitly, not left to Python's default: a process
    started with SIGINT ignored (a background job of a script, some test runners) keeps it ignored otherwise, and
    Ctrl-C never stopped the server; SIGTERM ended it without closing the socket."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
