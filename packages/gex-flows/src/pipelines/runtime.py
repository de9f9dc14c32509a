"""A run's stop request and its tally of finished work: what Ctrl-C (SIGINT) or SIGTERM acts on.

The command line (``gex_cli.interrupts``) installs the signal handlers; the loops of the flows and of the
plain commands call :func:`check_stop` between units of work (a file, a session) and inside long ones (the
per-chain progress of a load), and count what they finish in :data:`tally`. A unit of work is one
transaction, so stopping between units, or rolling the current one back, never leaves anything
half-written; the units finished stay, and a rerun resumes after them (files already loaded are skipped,
sessions already computed are not pending).

No Prefect import here: ``gex ingest`` and ``gex compute`` use it without Prefect.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any


class Interrupted(KeyboardInterrupt):
    """Raised where a run stops after a stop request. A ``KeyboardInterrupt``, so it passes every
    ``except Exception`` that contains bad data to one file or session, rolls back the transaction it
    crosses (the writers roll back on ``BaseException``), and Prefect records a crashed run, not a failed
    one."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_stop = threading.Event()
_signum = signal.SIGINT
#: The handler the command line installed (re-installed by :func:`claim_signals`).
_handler: Callable[[int, FrameType | None], Any] | None = None


def request_stop(signum: int = signal.SIGINT) -> None:
    """Ask the run to stop at its next :func:`check_stop` (called by the signal handler)."""
    global _signum
    if not _stop.is_set():
        _signum = signum
    _stop.set()


def stop_requested() -> bool:
    """Whether a stop was requested."""
    return _stop.is_set()


def stop_signal() -> int:
    """The signal that asked to stop (SIGINT or SIGTERM)."""
    return _signum


def check_stop() -> None:
    """Raise :class:`Interrupted` if a stop was requested (call between units of work)."""
    if _stop.is_set():
        raise Interrupted(_signum)


def wait_or_stop(seconds: float) -> None:
    """Sleep up to ``seconds``, raising :class:`Interrupted` as soon as a stop is requested."""
    if _stop.wait(seconds):
        raise Interrupted(_signum)


@contextmanager
def stoppable() -> Iterator[None]:
    """Around a unit of warehouse work: once a stop was requested, the error it causes (the DuckDB statement
    the handler interrupted fails with ``duckdb.InterruptException``) is raised as :class:`Interrupted`, so
    it is reported as an interruption, not as a failed file or session."""
    try:
        yield
    except Exception:
        if _stop.is_set():
            raise Interrupted(_signum) from None
        raise


_interruptible_depth = 0
#: Set for commands that run Prefect flows: a stop request raises only inside :func:`interruptible`.
_defer = False


def defer_outside_interruptible(on: bool) -> None:
    """With ``on``, the signal handler raises only inside :func:`interruptible` regions and otherwise leaves
    the stop to the next :func:`check_stop`. For runs of Prefect flows: an exception raised at an arbitrary
    point of Prefect's engine (e.g. while it creates a task run) makes Prefect 3.8 fail with its own
    traceback (``ValueError: Task run is not set``)."""
    global _defer
    _defer = on


@contextmanager
def interruptible() -> Iterator[None]:
    """A region where a stop request may raise at once: waiting (for the warehouse lock, for files, for the
    temporary API) or work outside Prefect's engine that writes nothing transactional."""
    global _interruptible_depth
    _interruptible_depth += 1
    try:
        check_stop()
        yield
    finally:
        _interruptible_depth -= 1


def may_raise_now() -> bool:
    """Whether the signal handler may raise :class:`Interrupted` where the main thread is now."""
    return _interruptible_depth > 0 or not _defer


def reset() -> None:
    """Forget a stop request and the tally (a new run in the same process; tests)."""
    _stop.clear()
    tally.clear()
    defer_outside_interruptible(False)


def set_handler(handler: Callable[[int, FrameType | None], Any] | None) -> None:
    """Record the command line's handler for :func:`claim_signals` (``None``: none installed)."""
    global _handler
    _handler = handler


def claim_signals() -> None:
    """Re-install the command line's SIGINT/SIGTERM handler (no-op when none is installed, e.g. a flow run
    that Prefect's runner started, or outside the main thread).

    Each flow calls this first: Prefect's flow engine replaces the SIGTERM handler during a flow run with
    one that raises anywhere, even inside a DuckDB statement (which then runs to its end and surfaces as
    ``RuntimeError: Query interrupted``). Prefect puts the previous handler back when the flow ends.
    """
    if _handler is None or threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not _handler:
            signal.signal(signum, _handler)


@dataclass
class _Count:
    done: int = 0
    total: int = 0


class Tally:
    """Units of work planned and finished in this process, by kind ("files ingested", "sessions
    computed", ...), in the order first planned; :meth:`summary` says it in one phrase."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}
        self._steps: dict[str, bool] = {}

    def plan(self, kind: str, n: int) -> None:
        """``n`` more units of ``kind`` to do."""
        with self._lock:
            self._counts.setdefault(kind, _Count()).total += n

    def done(self, kind: str, n: int = 1) -> None:
        """``n`` units of ``kind`` finished (committed)."""
        with self._lock:
            self._counts.setdefault(kind, _Count()).done += n

    def step(self, name: str, finished: bool = False) -> None:
        """A one-off step writing ``name`` (e.g. "exports"): started, or ``finished``."""
        with self._lock:
            self._steps[name] = finished

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._steps.clear()

    def summary(self) -> str:
        """E.g. ``3 of 7 files ingested, 12 of 40 sessions computed, exports not written``; ``nothing was
        written yet`` before any unit was planned."""
        with self._lock:
            parts = [f"{c.done} of {c.total} {kind}" for kind, c in self._counts.items() if c.total or c.done]
            parts += [f"{name} {'written' if ok else 'not written'}" for name, ok in self._steps.items()]
        return ", ".join(parts) if parts else "no work finished yet"


#: This process's tally.
tally = Tally()
