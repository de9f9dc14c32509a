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
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
from gex.conventions import Conventions
from gex.conventions import preset as get_preset
from gex_warehouse import compute as c
from gex_warehouse import mart_batch

from gex_service.pool import cores, spawned_pool


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


#: Reads a batch of snapshots: ``{(underlying, session, valuation_ts): ChainInput or the error reading it}``.
ReadMany = Callable[[list[tuple[str, dt.date, dt.datetime | None]]], dict[tuple[str, dt.date, dt.datetime | None], Any]]
#: Writes a batch of results (marts or ``None``, run record), one transaction; returns mart rows per result.
WriteMany = Callable[[list[tuple[c.MartFrames | None, c.RunRecord]]], list[int]]


def run(
    jobs: list[Job],
    *,
    read: Callable[[str, dt.date, dt.datetime | None], c.ChainInput] | None = None,
    write: Callable[[c.MartFrames | None, c.RunRecord], int] | None = None,
    read_many: ReadMany | None = None,
    write_many: WriteMany | None = None,
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
        Per-snapshot warehouse steps, called from this thread (the single writer):
        :func:`gex_warehouse.compute.read_chain` and :func:`gex_warehouse.compute.write_marts` + ``record_run``
        behind a connection, or tasks wrapping them. Each job is written in its own transaction.
    read_many, write_many:
        The batched steps instead (:func:`gex_warehouse.compute.read_chains`,
        :func:`gex_warehouse.compute.write_results`): one read and one transaction per batch of ``batch``
        snapshots (what a whole-market session needs: thousands of small chains). Give ``read`` or
        ``read_many``, ``write`` or ``write_many``.
    analyse:
        ``analyse(chain, conventions)`` returns something with ``.result()`` (a Prefect future, a
        concurrent future from :func:`process_pool`, or :func:`submit_inline`'s finished value): the pure step.
    batch:
        snapshot chains in flight at once (each holds its whole chain in memory).
    should_stop:
        Checked before each read and each write (it may also raise to abort): when it returns true, the run
        ends early with what is written (a rerun resumes from the pending jobs).
    """
    if (read is None) == (read_many is None) or (write is None) == (write_many is None):
        raise TypeError("give one of read / read_many and one of write / write_many")
    outcomes: list[SessionOutcome] = []
    chains: dict[tuple[str, dt.date, dt.datetime | None], list[Job]] = {}
    for job in jobs:
        chains.setdefault((job.underlying, job.session, job.valuation_ts), []).append(job)
    keys = list(chains)
    step = max(1, batch)

    def stopping() -> bool:
        return should_stop is not None and should_stop()

    # batched (write_many) over worker processes: batch i is written while the analyses of batch i + 1 run, so
    # the single writer and the analysis overlap; a stop drops the batches in flight (their jobs stay pending)
    in_flight: list[tuple[Job, Conventions, dt.datetime, float, c.ChainInput | None, Any, Exception | None]] = []

    def finish(submitted: list) -> bool:
        """Write a batched run's ``submitted`` analyses; False when stopped first (nothing written)."""
        if submitted and stopping():
            return False  # do not wait for analyses that will be dropped
        results = [(job, *_result(job, conventions, started, t0, chain, future, error, flow, flow_run_id))
                   for job, conventions, started, t0, chain, future, error in submitted]
        if not results:
            return True
        if stopping():
            return False  # the batch's analyses are dropped: its jobs stay pending
        assert write_many is not None
        rows = write_many([(frames, record) for _, frames, record in results])
        for (job, frames, record), rows_out in zip(results, rows):
            outcomes.append(_outcome(job, frames, record, rows_out=rows_out))
            if on_outcome is not None:
                on_outcome(outcomes[-1])
        return True

    for i in range(0, len(keys), step):
        if stopping():
            break
        batch_keys = keys[i:i + step]
        times: dict[tuple[str, dt.date, dt.datetime | None], tuple[dt.datetime, float]] = {}
        if read_many is not None:
            times = dict.fromkeys(batch_keys, (dt.datetime.now(dt.timezone.utc), time.perf_counter()))
            read_out = read_many(batch_keys)
        else:
            assert read is not None
            read_out = {}
            for key in batch_keys:
                if stopping():
                    break
                times[key] = (dt.datetime.now(dt.timezone.utc), time.perf_counter())
                try:
                    read_out[key] = read(*key)
                except (ValueError, KeyError) as exc:
                    read_out[key] = exc
        submitted = []
        for key in batch_keys:
            if key not in read_out:
                break  # stopped while reading
            started, t0 = times[key]
            got = read_out[key]
            chain, error = (None, got) if isinstance(got, Exception) else (got, None)
            for job in chains[key]:
                conventions = get_preset(job.preset)
                future = analyse(chain, conventions) if chain is not None else None
                submitted.append((job, conventions, started, t0, chain, future, error))
        if write_many is not None:
            if analyse is submit_inline:  # nothing runs meanwhile: write this batch now
                if not finish(submitted):
                    return outcomes
                continue
            previous, in_flight = in_flight, submitted
            if not finish(previous):
                return outcomes
            continue
        for job, conventions, started, t0, chain, future, error in submitted:
            if stopping():
                return outcomes  # analyses in flight are dropped: their jobs stay pending
            result = _result(job, conventions, started, t0, chain, future, error, flow, flow_run_id)
            assert write is not None
            outcomes.append(_outcome(job, *result, rows_out=write(result[0], result[1])))
            if on_outcome is not None:
                on_outcome(outcomes[-1])
    if write_many is not None and in_flight:
        finish(in_flight)
    return outcomes


def _result(job: Job, conventions: Conventions, started: dt.datetime, t0: float, chain: c.ChainInput | None,
            future: _Result | None, error: Exception | None, flow: str,
            flow_run_id: str | None) -> tuple[c.MartFrames | None, c.RunRecord]:
    """One job's marts (``None`` when it failed) and its ``mart.runs`` record: bad data in a loaded chain
    (``ValueError``/``KeyError``) fails this job only."""
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
    return frames, run_row


def _outcome(job: Job, frames: c.MartFrames | None, run_row: c.RunRecord, *, rows_out: int) -> SessionOutcome:
    a = frames.analysis if frames is not None else None
    return SessionOutcome(
        job.underlying, job.session, run_row.status, run_row.rows_in, rows_out,
        (run_row.finished_at - run_row.started_at).total_seconds(), run_row.message, job.preset,
        spot=a.spot if a else None, total_gex_usd_per_1pct=a.total_gex if a else None,
        gamma_flip=a.gamma_flip if a else None, regime=a.regime if a else None,
        partial_chain=bool(a.coverage.partial) if a else False, valuation_ts=run_row.valuation_ts,
    )


def write_with(con: duckdb.DuckDBPyConnection) -> Callable[[c.MartFrames | None, c.RunRecord], int]:
    """The ``write`` step on an open writer connection: the marts (when computed), then the run log."""

    def write(frames: c.MartFrames | None, run_row: c.RunRecord) -> int:
        rows = c.write_marts(con, frames) if frames is not None else 0
        c.record_run(con, run_row)
        return rows

    return write


class GroupedAnalysis:
    """``analyse(chain, conventions)`` for :func:`run` that sends chains to the workers in chunks of ``size``:
    each call buffers one chain and returns its future; a full buffer goes to ``submit`` (which runs
    :func:`gex_warehouse.mart_batch.analyse_packed` on the chunk somewhere and returns a future of its
    :class:`~gex_warehouse.mart_batch.PackedMarts`), and so does a partial one as soon as any of its futures is
    waited on (nothing waits on an unsubmitted chain).

    Why chunks: a result crosses processes once per chunk, packed (one frame per mart table), instead of ~30
    frames per chain (``gex_warehouse.mart_batch``); and a Prefect task costs ~1 s of bookkeeping whatever its
    work, more than the analysis of a typical single-stock chain (``docs/distributed.md``)."""

    def __init__(self, size: int, submit: Callable[[list[tuple[c.ChainInput, Conventions]]], Any]) -> None:
        self.size = max(1, size)
        self._submit = submit
        self._buffer: list[tuple[c.ChainInput, Conventions, _GroupedFuture]] = []

    def __call__(self, chain: c.ChainInput, conventions: Conventions) -> _GroupedFuture:
        future = _GroupedFuture(self)
        self._buffer.append((chain, conventions, future))
        if len(self._buffer) >= self.size:
            self.flush()
        return future

    def flush(self) -> None:
        """Submit the buffered chains as one chunk."""
        if not self._buffer:
            return
        items, self._buffer = self._buffer, []
        group = _Group(self._submit([(chain, conventions) for chain, conventions, _ in items]))
        for i, (_, _, future) in enumerate(items):
            future.group, future.index = group, i


class _Group:
    """One submitted chunk: its future, unpacked once when first waited on."""

    def __init__(self, future: Any) -> None:
        self.future = future
        self._outcomes: list[mart_batch.Outcome] | None = None

    def outcomes(self) -> list[mart_batch.Outcome]:
        if self._outcomes is None:
            self._outcomes = mart_batch.unpack(self.future.result())
        return self._outcomes


class _GroupedFuture:
    """One chain's result inside its chunk's (``result()`` as a future's: the marts, or the chain's error)."""

    def __init__(self, owner: GroupedAnalysis) -> None:
        self.owner = owner
        self.group: _Group | None = None
        self.index = 0

    def result(self) -> c.MartFrames:
        if self.group is None:
            self.owner.flush()
        assert self.group is not None
        got = self.group.outcomes()[self.index]
        if isinstance(got, Exception):
            raise got
        return got


#: Chunks per worker in each batch :func:`process_pool` analyses: chains differ ~400x in size (an index's
#: 20,000 contracts, a small stock's 50), so more chunks than workers keep every worker busy to the batch's end.
CHUNKS_PER_WORKER = 4


@contextmanager
def process_pool(workers: int, batch: int = 1) -> Iterator[Callable[[c.ChainInput, Conventions], _Result]]:
    """An ``analyse`` step for :func:`run` that spreads the pure analysis over ``workers`` processes
    (:func:`gex_service.pool.spawned_pool`: spawned, Ctrl-C left to the command, none outlives it), in chunks
    (:class:`GroupedAnalysis`) of about ``batch / (workers x CHUNKS_PER_WORKER)`` chains. Results are the same
    rows as inline: the analysis is deterministic."""
    with spawned_pool(workers) as pool:
        yield GroupedAnalysis(-(-batch // (workers * CHUNKS_PER_WORKER)),
                              lambda items: pool.submit(mart_batch.analyse_packed, items))


#: Most snapshots read and written per transaction by :func:`compute` (memory is that many chains at once,
#: ~150 MB of single-stock chains); see :func:`batch_for`.
MARKET_BATCH = 500


def batch_for(jobs: int) -> int:
    """Snapshots per transaction for a run of ``jobs``: a twentieth of the run (at most :data:`MARKET_BATCH`),
    so a whole-market session is written in ~20 transactions while a run of a few sessions keeps one
    transaction per snapshot (a stop loses at most ~5% of a large run's work, none of a small one's)."""
    return min(MARKET_BATCH, max(1, jobs // 20))


#: Below this many snapshots :func:`workers_for` keeps the analysis in this process (spawning workers costs
#: a few seconds of imports).
PROCESS_POOL_MIN_JOBS = 200


def workers_for(jobs: int, requested: int | None) -> int:
    """Analysis processes for ``jobs`` snapshots: ``requested`` when given, else every core for a large run
    (>= :data:`PROCESS_POOL_MIN_JOBS`) and 1 (inline) otherwise."""
    if requested is not None:
        return max(1, requested)
    return cores() if jobs >= PROCESS_POOL_MIN_JOBS else 1


def read_batch(con: duckdb.DuckDBPyConnection,
               keys: list[tuple[str, dt.date, dt.datetime | None]]) -> dict[tuple[str, dt.date, dt.datetime | None], Any]:
    """:func:`run`'s ``read_many`` on an open connection: ``{key: ChainInput, or the ValueError/KeyError of a
    snapshot that cannot be read}`` (:func:`gex_warehouse.compute.read_chains`; a key without a valuation
    instant is the session's daily snapshot, read alone)."""
    concrete = [k for k in keys if k[2] is not None]
    out: dict[tuple[str, dt.date, dt.datetime | None], Any] = dict(c.read_chains(con, concrete))  # type: ignore[arg-type]
    for u, s, v in keys:
        if v is None:  # the session's daily snapshot, whatever its instant
            try:
                out[(u, s, v)] = c.read_chain(con, u, s)
            except (ValueError, KeyError) as exc:
                out[(u, s, v)] = exc
    return out


def compute(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Job],
    *,
    flow: str = "compute",
    workers: int = 1,
    batch: int | None = None,
    on_outcome: Callable[[SessionOutcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    guard: Callable[[], AbstractContextManager[object]] | None = None,
    on_written: Callable[[int], None] | None = None,
) -> list[SessionOutcome]:
    """Run ``jobs`` on one open writer connection (``gex compute``): ``batch`` snapshots (default
    :func:`batch_for`) read with one query and written in one transaction, the analysis inline (``workers=1``) or over ``workers`` processes
    (:func:`process_pool`). ``guard()`` wraps every warehouse call (the CLI's stop handling);
    ``on_written(n)`` is called inside it right after each batch of ``n`` jobs commits."""
    def guarded() -> AbstractContextManager[object]:
        return guard() if guard is not None else nullcontext()

    def read_many(keys: list[tuple[str, dt.date, dt.datetime | None]]) -> dict[tuple[str, dt.date, dt.datetime | None], Any]:
        with guarded():
            return read_batch(con, keys)

    def write_many(results: list[tuple[c.MartFrames | None, c.RunRecord]]) -> list[int]:
        with guarded():
            rows = c.write_results(con, results)
            if on_written is not None:
                on_written(len(results))  # inside the guard: a stop cannot fall between the commit and the count
            return rows

    batch = batch or batch_for(len(jobs))
    with _fewer_checkpoints(con):
        return _run_on(con, jobs, read_many, write_many, flow=flow, workers=workers, batch=batch,
                       on_outcome=on_outcome, should_stop=should_stop)


def _run_on(con: duckdb.DuckDBPyConnection, jobs: list[Job], read_many: ReadMany, write_many: WriteMany, *, flow: str,
            workers: int, batch: int, on_outcome: Callable[[SessionOutcome], None] | None,
            should_stop: Callable[[], bool] | None) -> list[SessionOutcome]:
    """:func:`compute`'s run: inline, or over a process pool (see there)."""
    if workers <= 1:
        return run(jobs, read_many=read_many, write_many=write_many, flow=flow, batch=batch,
                   on_outcome=on_outcome, should_stop=should_stop)
    written: list[SessionOutcome] = []

    def record(outcome: SessionOutcome) -> None:
        written.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    try:
        with process_pool(workers, batch) as analyse, _single_threaded(con):
            return run(jobs, read_many=read_many, write_many=write_many, analyse=analyse, flow=flow, batch=batch,
                       on_outcome=record, should_stop=should_stop)
    except BrokenProcessPool as exc:
        raise WorkerDiedError(written) from exc


@contextmanager
def _single_threaded(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread while the analysis workers hold every core, its own setting restored after.

    Why: the writer's statements are small (a batch's reads and appends), so DuckDB's thread pool gains nothing
    on them and only competes with the workers. Measured on a 5,000-underlying session (this function with 2
    workers, 2 cores, 2 runs each in the order default, one, one, default): 77.6 and 81.2 s against 84.8 and 94.8 s
    with DuckDB's default of one thread per core; the same rows (``docs/performance.md``)."""
    with _settings(con, {"threads": "1"}):
        yield


#: The most WAL DuckDB gathers before it checkpoints while :func:`compute` writes (DuckDB's default: 16 MiB), MiB.
WRITER_CHECKPOINT_MAX_MIB = 256
#: ... and at most this share of the connection's ``memory_limit``: committed rows wait in memory for the
#: checkpoint, and DuckDB fails a ``COMMIT`` that would exceed the limit (seen: 256 MiB under ``gex compute``'s
#: default 512 MB failed the 5,000-underlying session's commits; 64 MiB passed).
WRITER_CHECKPOINT_MEMORY_SHARE = 1 / 8


@contextmanager
def _fewer_checkpoints(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's checkpoint threshold raised while a run writes (:func:`checkpoint_threshold_mib`), its setting
    restored after (a database-wide setting: the run holds the warehouse for writing alone).

    Why: with the default threshold every batch's commit of a whole-market run also checkpoints (a batch's marts
    are more than 16 MiB of WAL), rewriting each table's last, partly filled row group each time. Measured on the
    1,000-underlying session (20 batches, 2 workers, 2 cores): the commits took 7.5 and 6.5 s with 16 MiB against
    3.4 and 3.2 s with 256 MiB (plus ~0.9 s for the one checkpoint at the end); the writer process's CPU 15.0 s
    with 16 MiB against 13.1 s with 64 MiB. Crash safety is DuckDB's WAL either way: a commit is durable when it
    returns."""
    with _settings(con, batch_writer_settings(con, single_threaded=False)):
        yield


def batch_writer_settings(con: duckdb.DuckDBPyConnection, *, single_threaded: bool) -> dict[str, str]:
    """The DuckDB settings (name -> value) for a run that writes many batches on ``con``: the checkpoint
    threshold of :func:`_fewer_checkpoints` (when above DuckDB's default), and one thread when
    ``single_threaded`` (the analysis runs on this machine's cores: :func:`_single_threaded`). For runs that
    cannot keep one connection for the whole block (the flows borrow a cursor per step):
    :func:`apply_settings`, then the same with the values it returned."""
    values = {}
    mib = checkpoint_threshold_mib(con)
    if mib > 16:
        values["checkpoint_threshold"] = f"{mib}MiB"
    if single_threaded:
        values["threads"] = "1"
    return values


def apply_settings(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> dict[str, str]:
    """Set each DuckDB setting of ``values`` (names from this module's constants, never data; database-wide,
    so any cursor of the database will do). Returns their values before, to restore them the same way."""
    before: dict[str, str] = {}
    for name, value in values.items():
        (before[name],), = con.execute("SELECT current_setting($name)", {"name": name}).fetchall()
        con.execute(f"SET {name} = '{value}'")
    return before


_SIZE = re.compile(r"^\s*([0-9.]+)\s*(bytes|[KMGTP]i?B)\s*$", re.IGNORECASE)
_UNIT = {"bytes": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50}


def checkpoint_threshold_mib(con: duckdb.DuckDBPyConnection) -> int:
    """The checkpoint threshold for a run on ``con``, MiB: :data:`WRITER_CHECKPOINT_MAX_MIB`, at most
    :data:`WRITER_CHECKPOINT_MEMORY_SHARE` of its ``memory_limit`` (16, DuckDB's default, when the limit is
    unreadable)."""
    (limit,), = con.execute("SELECT current_setting('memory_limit')").fetchall()
    match = _SIZE.match(str(limit))
    if match is None:
        return 16
    limit_bytes = float(match.group(1)) * _UNIT[match.group(2).lower()]
    return max(16, min(WRITER_CHECKPOINT_MAX_MIB, int(limit_bytes * WRITER_CHECKPOINT_MEMORY_SHARE / 2**20)))


@contextmanager
def _settings(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> Iterator[None]:
    """DuckDB's settings at ``values`` (:func:`apply_settings`) while the block runs, restored after."""
    before = apply_settings(con, values)
    try:
        yield
    except BaseException:
        # the run failed or was stopped and the command is leaving with that error: a restore that fails on the
        # broken connection must not replace it (the setting only matters to a connection that goes on)
        with suppress(duckdb.Error):
            apply_settings(con, before)
        raise
    apply_settings(con, before)


class WorkerDiedError(RuntimeError):
    """An analysis worker process died (killed: out of memory, ``kill -9``) during :func:`compute`; the batches
    written before are kept (``outcomes``), the rest stay pending."""

    def __init__(self, outcomes: list[SessionOutcome]) -> None:
        self.outcomes = outcomes
        super().__init__(
            f"an analysis worker process died (killed, or out of memory?) after {len(outcomes)} snapshot(s) were "
            "written; the rest stay pending: run the command again to compute them (--workers 1 analyses in this "
            "process)")
