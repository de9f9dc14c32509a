"""Plan and run the computation of snapshot jobs (underlying, session, valuation instant, preset): chains in the
warehouse -> marts. A session keeps its end-of-day snapshot and every intraday one; each is a job.

:func:`plan` decides what to compute (pending jobs, or everything selected with ``force``);
:func:`run` reads each snapshot's chain once, analyses it under every preset asked, writes the marts and logs every
attempt in ``mart.runs``. Bad data in one session fails that job only: its outcome and its ``mart.runs`` row
say why, and the others go on. Steps are injectable so the flows can run them as Prefect tasks (retries, a
parallel task runner for the pure analysis) while ``gex compute`` runs them directly.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
from gex.conventions import Conventions
from gex.conventions import preset as get_preset
from gex_warehouse import compute as c


@dataclass(frozen=True)
class Job:
    """One snapshot of (underlying, session) to compute under one preset."""

    underlying: str
    session: dt.date
    preset: str
    #: valuation instant of the snapshot (UTC): its own instant intraday, the session close end-of-day;
    #: ``None`` means the session's daily snapshot (what ``core.sessions`` picks)
    valuation_ts: dt.datetime | None = None


@dataclass(frozen=True)
class SessionOutcome:
    """One job's attempt, as the CLI and the flows report it (and as ``mart.runs`` logs it)."""

    underlying: str
    session: dt.date
    status: str  # ok / failed
    rows_in: int = 0
    rows_out: int = 0
    seconds: float = 0.0
    message: str | None = None
    preset: str = "native"
    spot: float | None = None
    total_gex_usd_per_1pct: float | None = None
    gamma_flip: float | None = None
    regime: str | None = None
    partial_chain: bool = False
    valuation_ts: dt.datetime | None = None


class UnknownUnderlyingError(ValueError):
    """An underlying was asked for that has no chain loaded (message lists the loaded ones)."""


def normalise_symbol(symbol: str | None) -> str | None:
    """``"^spx"`` -> ``"SPX"`` (``None`` stays ``None``)."""
    return symbol.strip().upper().lstrip("^") if symbol else None


def check_underlying(con: duckdb.DuckDBPyConnection, underlying: str | None) -> None:
    """Raise :class:`UnknownUnderlyingError` when ``underlying`` has no chain loaded."""
    if underlying is None:
        return
    loaded = [u for (u,) in con.execute("SELECT DISTINCT underlying FROM raw.chain_snapshots ORDER BY 1").fetchall()]
    if underlying not in loaded:
        shown = ", ".join(loaded[:20]) + (f", ... ({len(loaded)} in all)" if len(loaded) > 20 else "")
        raise UnknownUnderlyingError(
            f"no chain of underlying {underlying} is loaded" + (f" (loaded: {shown})" if loaded else " (the warehouse has no chain yet)")
        )


def plan(
    con: duckdb.DuckDBPyConnection,
    *,
    presets: Iterable[str] | None = None,
    underlying: str | None = None,
    session: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
) -> list[Job]:
    """The jobs to run, one per snapshot and preset, sorted by underlying, session, valuation instant, then
    preset (native first).

    ``presets`` default: native plus every preset the warehouse already holds rows of, so a session loaded
    again is recomputed under each preset someone keeps. Without ``force`` only pending jobs
    (:func:`gex_warehouse.compute.pending`: not computed, loaded again since, or marked by a migration);
    with it every loaded chain selected. ``underlying`` must be loaded (:class:`UnknownUnderlyingError`).
    """
    names = list(dict.fromkeys(presets)) if presets else c.computed_presets(con)
    for name in names:
        get_preset(name)  # an unknown preset fails here, before any work
    check_underlying(con, underlying)
    if force:
        keys = [(u, s, v, p) for u, s, v in c.loaded_snapshots(con, underlying) for p in names]
    else:
        keys = c.pending(con, names, underlying)
    return [
        Job(u, s, p, v) for u, s, v, p in keys
        if (session is None or s == session) and (start is None or s >= start) and (end is None or s <= end)
    ]


class _Result(Protocol):
    def result(self) -> c.MartFrames: ...


class _Done:
    """A finished result, for runs without a task runner."""

    def __init__(self, fn: Callable[..., c.MartFrames], *args: Any) -> None:
        self._value: Any
        try:
            self._value = fn(*args)
        except Exception as exc:  # noqa: BLE001 - re-raised by result(), as a future would
            self._value = exc

    def result(self) -> c.MartFrames:
        if isinstance(self._value, Exception):
            raise self._value
        return self._value


def submit_inline(chain: c.ChainInput, conventions: Conventions) -> _Result:
    """Analyse now, in this thread (the default ``analyse`` step of :func:`run`)."""
    return _Done(c.compute_chain, chain, conventions)


def run(
    jobs: list[Job],
    *,
    read: Callable[[str, dt.date, dt.datetime | None], c.ChainInput],
    write: Callable[[c.MartFrames | None, c.RunRecord], int],
    analyse: Callable[[c.ChainInput, Conventions], _Result] = submit_inline,
    flow: str,
    flow_run_id: str | None = None,
    batch: int = 1,
    on_outcome: Callable[[SessionOutcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[SessionOutcome]:
    """Run ``jobs``: read each snapshot's chain once, submit its analysis under each preset,
    write the marts and the ``mart.runs`` row of each job in ``jobs`` order.

    Parameters
    ----------
    read, write:
        Warehouse steps, called from this thread (the single writer): :func:`gex_warehouse.compute.read_chain`
        and :func:`gex_warehouse.compute.write_marts` + ``record_run`` behind a connection, or tasks wrapping them.
    analyse:
        ``analyse(chain, conventions)`` returns something with ``.result()`` (a Prefect future, a
        concurrent future, or :func:`submit_inline`'s finished value): the pure step, safe in threads.
    batch:
        snapshot chains in flight at once (each holds its whole chain in memory).
    should_stop:
        Checked before each read and each write (it may also raise to abort): when it returns true, the run ends early with what is written (a rerun
        resumes from the pending jobs).
    """
    outcomes: list[SessionOutcome] = []
    chains: dict[tuple[str, dt.date, dt.datetime | None], list[Job]] = {}
    for job in jobs:
        chains.setdefault((job.underlying, job.session, job.valuation_ts), []).append(job)
    keys = list(chains)
    step = max(1, batch)
    for i in range(0, len(keys), step):
        if should_stop is not None and should_stop():
            break
        submitted = []
        for u, s, v in keys[i:i + step]:
            if should_stop is not None and should_stop():
                break
            started, t0 = dt.datetime.now(dt.timezone.utc), time.perf_counter()
            try:
                chain: c.ChainInput | None = read(u, s, v)
                error: Exception | None = None
            except (ValueError, KeyError) as exc:
                chain, error = None, exc
            for job in chains[(u, s, v)]:
                conventions = get_preset(job.preset)
                future = analyse(chain, conventions) if chain is not None else None
                submitted.append((job, conventions, started, t0, chain, future, error))
        for job, conventions, started, t0, chain, future, error in submitted:
            if should_stop is not None and should_stop():
                return outcomes  # analyses in flight are dropped: their jobs stay pending
            outcomes.append(_finish(job, conventions, started, t0, chain, future, error, write, flow, flow_run_id))
            if on_outcome is not None:
                on_outcome(outcomes[-1])
    return outcomes


def _finish(job: Job, conventions: Conventions, started: dt.datetime, t0: float, chain: c.ChainInput | None,
            future: _Result | None, error: Exception | None, write: Callable[[c.MartFrames | None, c.RunRecord], int],
            flow: str, flow_run_id: str | None) -> SessionOutcome:
    rows_in = chain.snapshot.frame.height if chain is not None else 0
    frames, status, message = None, "ok", None
    try:
        if error is not None:
            raise error
        assert future is not None
        frames = future.result()
        message = "; ".join(frames.analysis.warnings) or None
    except (ValueError, KeyError) as exc:  # bad data in a loaded chain: report it, go on with the others
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    record = json.dumps(conventions.as_record(), sort_keys=True)
    valuation_ts = chain.snapshot.valuation_ts if chain is not None else job.valuation_ts
    run_row = c.RunRecord(flow, job.underlying, job.session, rows_in, frames.rows if frames else 0, status, started,
                          started + dt.timedelta(seconds=seconds), record, message, flow_run_id, valuation_ts)
    rows_out = write(frames, run_row)
    a = frames.analysis if frames is not None else None
    return SessionOutcome(
        job.underlying, job.session, status, rows_in, rows_out, seconds, message, job.preset,
        spot=a.spot if a else None, total_gex_usd_per_1pct=a.total_gex if a else None,
        gamma_flip=a.gamma_flip if a else None, regime=a.regime if a else None,
        partial_chain=bool(a.coverage.partial) if a else False, valuation_ts=valuation_ts,
    )


def write_with(con: duckdb.DuckDBPyConnection) -> Callable[[c.MartFrames | None, c.RunRecord], int]:
    """The ``write`` step on an open writer connection: the marts (when computed), then the run log."""

    def write(frames: c.MartFrames | None, run_row: c.RunRecord) -> int:
        rows = c.write_marts(con, frames) if frames is not None else 0
        c.record_run(con, run_row)
        return rows

    return write


def compute(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Job],
    *,
    flow: str = "compute",
    on_outcome: Callable[[SessionOutcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[SessionOutcome]:
    """Run ``jobs`` on one open writer connection, each step in this thread (``gex compute``)."""
    return run(jobs, read=lambda u, s, v: c.read_chain(con, u, s, v), write=write_with(con), flow=flow,
               on_outcome=on_outcome, should_stop=should_stop)
