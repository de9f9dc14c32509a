"""Ctrl-C (SIGINT) and SIGTERM for the long commands: stop cleanly, say what finished, exit 130 (or 143).

``with long_command(prefect=...)`` around a command's work:

1. installs one handler for SIGINT and SIGTERM. The first signal asks the run to stop
   (:func:`pipelines.runtime.request_stop`): the loops stop before their next file or session, a load
   in progress stops at its next chain, and DuckDB statements running on the warehouse are interrupted
   (:func:`gex_warehouse.writer.interrupt_busy`), so the open transaction rolls back. When no warehouse
   work is under way the handler raises :class:`pipelines.runtime.Interrupted` at once; in commands that
   run Prefect flows only inside :func:`pipelines.runtime.interruptible` regions (waiting for the warehouse
   lock, for files, for the temporary API), never in the middle of Prefect's engine;
2. with ``prefect=True``, owns the temporary Prefect API (:class:`pipelines.api_server.TemporaryApi`):
   started now, in its own session (the terminal's Ctrl-C does not reach it), stopped on the way out, and
   stopped by the kernel if ``gex`` dies (SIGKILL included);
3. on the way out after a stop request, prints one line on stderr, e.g.
   ``gex: interrupted: 3 of 7 files ingested, 12 of 40 sessions computed, exports not written; nothing
   half-written; run the same command again to resume``, and exits 130 (SIGINT) or 143 (SIGTERM,
   128 + 15, the shell's convention: a scheduler sees that the service manager stopped the run).

A second signal exits at once (same code) without waiting for the current unit: every write is one
transaction, so the warehouse is still whole (DuckDB discards the uncommitted one when it next opens).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import typer

from gex_cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED

#: What every interrupted run says after the tally.
RESUME = "nothing half-written; run the same command again to resume"

_api: Any = None  # the command's TemporaryApi, for the second signal's emergency stop


def exit_code(signum: int) -> int:
    """130 for SIGINT, 143 for SIGTERM."""
    return EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED


def _leave_now(signum: int) -> None:
    """The second signal: one line, the API stopped without waiting, exit at once."""
    from pipelines import runtime

    os.write(2, f"gex: interrupted again ({signal.Signals(signum).name}): exiting now; {RESUME}\n".encode())
    if _api is not None:
        _api.kill_now()
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - the signal may have come in the middle of a write
        pass
    os._exit(exit_code(runtime.stop_signal()))


def _handler(signum: int, frame: FrameType | None) -> None:
    """SIGINT/SIGTERM while the command works (see the module docstring)."""
    from gex_warehouse import writer
    from pipelines import runtime

    if runtime.stop_requested():
        _leave_now(signum)
    runtime.request_stop(signum)
    if writer.is_busy():
        writer.interrupt_busy()  # the running statement fails and its transaction rolls back
        return  # the unit's own code stops at its next check (raising here would not stop DuckDB)
    if runtime.may_raise_now():
        raise runtime.Interrupted(signum)
    # inside Prefect's engine: the flow stops at its next check (before the next file or session)


def _late_handler(signum: int, frame: FrameType | None) -> None:
    """SIGINT/SIGTERM once the work is over (stopping the API): noted, never raised."""
    from pipelines import runtime

    if runtime.stop_requested():
        _leave_now(signum)
    runtime.request_stop(signum)


def _say_interrupted() -> int:
    from pipelines import runtime

    typer.echo(f"gex: interrupted: {runtime.tally.summary()}; {RESUME}", err=True)
    return exit_code(runtime.stop_signal())


@contextmanager
def long_command(*, prefect: bool = False) -> Iterator[None]:
    """Run a long command's body with the handling described in the module docstring."""
    global _api
    from pipelines import runtime

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    runtime.reset()
    runtime.defer_outside_interruptible(prefect)
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    runtime.set_handler(_handler)
    outcome: BaseException | None = None
    try:
        if prefect:
            _api = _start_api()
        yield
    except BaseException as exc:  # noqa: BLE001 - re-raised below unless the run was interrupted
        outcome = exc
    for s in previous:
        signal.signal(s, _late_handler)
    runtime.set_handler(None)
    code = _say_interrupted() if runtime.stop_requested() else None
    try:
        if _api is not None:
            _api.stop()
    finally:
        _api = None
        for s, h in previous.items():
            signal.signal(s, h)
    if code is None and runtime.stop_requested():  # a signal while the API stopped: the work was done
        code = _say_interrupted()
    if code is not None:
        _exit_now(code)
    if outcome is not None:
        raise outcome


def _exit_now(code: int) -> None:
    """Leave an interrupted run without the interpreter's teardown: everything is closed by now; run the
    exit hooks, flush, exit. The teardown took 2-3 s on a loaded machine (Prefect, polars and DuckDB
    loaded) and, with the crashed run's exception still referenced by Prefect (its traceback holding
    DuckDB connections), ended with duckdb's bindings reporting "nanobind: leaked ..." on stderr."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
            pass
    os._exit(code)


def _start_api() -> Any:
    """The command's temporary Prefect API, or ``None`` when ``PREFECT_API_URL`` names one already."""
    if os.environ.get("PREFECT_API_URL", "").strip():
        return None
    from pipelines.api_server import TemporaryApi

    api = TemporaryApi()
    api.start()
    return api


def prefect_ready() -> None:
    """Before the first flow (Prefect imported by then): wait for the command's temporary API and point
    Prefect at it; or, when a profile or ``prefect.toml`` configures an API, stop ours and use that one.
    A server that does not start is one clear line and exit 1."""
    global _api
    if _api is None:
        return
    from pipelines.api_server import ApiServerError, configured_api_url, use_api

    if configured_api_url() is not None:
        _api.stop()
        _api = None
        return
    from pipelines import runtime

    try:
        with runtime.interruptible():
            use_api(_api.wait_ready())
    except ApiServerError as exc:
        from gex_cli.errors import EXIT_BAD_INPUT, fail

        raise fail(str(exc), EXIT_BAD_INPUT) from None
