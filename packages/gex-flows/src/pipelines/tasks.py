"""Tasks shared by the flows: thin wrappers over :mod:`gex_warehouse` adding retries where the world is
flaky (file system, the warehouse file), plus the per-session engine the compute flows run.

Tasks receive the warehouse's path, never a connection: a flow *holds* the warehouse for its whole run
(:func:`gex_warehouse.writer.hold`, so the file stays locked and a second job waits or fails clearly) and
each task borrows a cursor (:func:`warehouse`); called outside a flow, a task opens and closes the file
itself. The flows call the warehouse tasks from their own thread, one at a time, so the flow's process is
the single writer. Only :func:`analyse_session` (pure) is submitted to the task runner.
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import duckdb
from gex.conventions import Conventions
from gex_service import alerts as al
from gex_service import compute as svc
from gex_service.compute import SessionOutcome
from gex_service.pool import chunk_mapper, cores
from gex_warehouse import compute as c
from gex_warehouse import export as ex
from gex_warehouse.advice import refresh_hedge_advice
from gex_warehouse.arrivals import is_partial, wait_for_landing
from gex_warehouse.config import ingest_memory_limit, warehouse_path
from gex_warehouse.connect import WarehouseError
from gex_warehouse.export_plan import plan_export
from gex_warehouse import levels_feed as lf
from gex_warehouse import mart_batch
from gex_warehouse.load import LoadResult, expand_paths, ingest_file, unchanged_since_loaded
from gex_warehouse.writer import hold, writer
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines import runtime

#: Parallel sessions in flight per batch, as a multiple of the runner's threads (bounds memory: each
#: snapshot holds its whole chain).
BATCH_PER_WORKER = 2
#: From this many jobs a flow reads and writes its snapshots in batches (``read_chains``/``write_sessions``: one
#: task and one transaction per batch of :func:`gex_service.compute.batch_for` jobs); below, one read and one
#: write task per snapshot, so a stop loses at most one snapshot's work.
FLOW_BATCH_MIN_JOBS = 200

T = TypeVar("T")


class Opaque(Generic[T]):
    """A task argument Prefect and Dask carry as it is, without walking through it: ``value``.

    Why: Prefect walks a task's arguments (``visit_collection``: lists, dicts, dataclasses) to find futures
    and record inputs, and Dask hashes a submitted task's arguments (``tokenize``) to name it. For a batch of
    chains or of mart frames both walk every frame: measured on the Dask backfill of 2,000 chains, ~10 s of
    the flow process's ~40 s of CPU, in the process every worker waits on (``docs/performance.md``). Prefect
    does not look inside a plain object, and Dask takes its name from ``__dask_tokenize__``: a random one,
    so two batches are never taken for the same task (as ``pure=False`` would). Pickles as any object does,
    so it crosses to a worker process or machine.
    """

    __slots__ = ("value", "_token")

    def __init__(self, value: T) -> None:
        self.value = value
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return f"Opaque({type(self.value).__name__})"


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only I/O trouble (a busy disk, a file system hiccup), never bad data nor a warehouse held by
    another process (that one is reported at once, see ``docs/flows.md``)."""
    try:
        state.result()
    except WarehouseError:
        return False
    except (duckdb.IOException, OSError):
        return True
    except BaseException:
        return False
    return False


@contextmanager
def warehouse(path: str | Path | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to write with: a cursor on the warehouse the flow holds (see :func:`hold_warehouse`), or
    the warehouse opened (created, migrated) for this task alone, checkpointed and closed after. After a
    stop request (Ctrl-C), the statement DuckDB aborted surfaces as :class:`pipelines.runtime.Interrupted`."""
    with runtime.stoppable(), writer(path, memory_limit=ingest_memory_limit()) as con:
        yield con


def hold_warehouse(path: str | Path | None, wait_seconds: float = 0.0) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """Hold the warehouse for a flow's whole run (one writer process; nested flows share it), waiting up
    to ``wait_seconds`` for another job to release it. Every flow starts here, so this is also where a flow
    takes the command line's signal handler back from Prefect (:func:`pipelines.runtime.claim_signals`)."""
    runtime.claim_signals()
    return hold(path, wait_seconds=wait_seconds, memory_limit=ingest_memory_limit())


# ---------------------------------------------------------------------------------------------
# ingest


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def list_landing(landing: str) -> list[str]:
    """Files of the landing folder (recursive, sorted; hidden ones and downloads in progress skipped)."""
    folder = Path(landing)
    if not folder.is_dir():
        raise FileNotFoundError(f"landing folder {folder} does not exist")
    return [str(p) for p in expand_paths([folder]) if not is_partial(p)]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def await_landing(
    landing: str, expect: list[str], session: dt.date | None, deadline_seconds: float, settle_seconds: float
) -> int:
    """Wait (up to ``deadline_seconds``) for the expected files to arrive and every file to settle; returns
    the number of data files. ``LandingNotReady`` at the deadline (not retried: the deadline is the policy)."""
    with runtime.interruptible():  # Ctrl-C while waiting for files: nothing to undo
        state = wait_for_landing(landing, expect=expect, session=session, deadline_seconds=deadline_seconds,
                                 settle_seconds=settle_seconds)
    return len(state.files)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def skip_unchanged(warehouse_file: str, paths: list[str]) -> dict[str, LoadResult]:
    """``{path: 'already loaded' result}`` for the files loaded before and untouched since (not re-read)."""
    with warehouse(warehouse_file) as con:
        return {str(p): r for p, r in unchanged_since_loaded(con, paths).items()}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=_transient, timeout_seconds=3600)
def ingest_one(warehouse_file: str, path: str) -> LoadResult:
    """Load one file (a no-op saying so when its content is already loaded: ``ingest_file`` hashes it).
    A stop request ends the load at its next chain, rolled back."""
    with warehouse(warehouse_file) as con:
        result = ingest_file(con, path, progress=lambda _stage, _records: runtime.check_stop())
        runtime.tally.done("files ingested")  # still busy: a Ctrl-C cannot fall between the commit and this
    return result


# ---------------------------------------------------------------------------------------------
# compute


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def plan_sessions(
    warehouse_file: str,
    underlying: str | None = None,
    session: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    force: bool = False,
    presets: list[str] | None = None,
) -> list[svc.Job]:
    """The jobs to compute (:func:`gex_service.compute.plan`: pending ones unless ``force``; ``presets``
    default native plus every preset the warehouse holds)."""
    with warehouse(warehouse_file) as con:
        return svc.plan(con, presets=presets, underlying=underlying, session=session, start=start, end=end, force=force)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def read_chain(warehouse_file: str, underlying: str, session: dt.date,
               valuation_ts: dt.datetime | None = None) -> c.ChainInput:
    """The chain, OI source, load id and rate of one snapshot of (underlying, session) (``None``: the daily
    one; ``KeyError`` when not loaded)."""
    with warehouse(warehouse_file) as con:
        return c.read_chain(con, underlying, session, valuation_ts)


@task(cache_policy=NO_CACHE)
def analyse_session(chain: c.ChainInput, conventions: Conventions) -> c.MartFrames:
    """Pure: one chain -> its mart rows (safe to run in threads: numpy/numba release the GIL), without the
    analysis' own frames (:func:`gex_warehouse.mart_batch.slim`: the per-contract frame is most of the bytes)."""
    return mart_batch.slim(c.compute_chain(chain, conventions))


@task(cache_policy=NO_CACHE)
def analyse_sessions(items: Opaque[list[tuple[c.ChainInput, Conventions]]]) -> mart_batch.PackedMarts:
    """Pure: :func:`analyse_session` of several chains in one task run, packed
    (:func:`gex_warehouse.mart_batch.analyse_packed`: one frame per mart table for the chunk; a chain whose
    data cannot be analysed gives its ``ValueError``/``KeyError`` in its place, and that job fails alone).
    Why: a task run costs ~1 s of Prefect and Dask bookkeeping whatever its work, more than the analysis of a
    typical single-stock chain (``docs/distributed.md``), and one packed result crosses the network and is
    unpickled by the writer much faster than a chunk's ~30 frames per chain. The chains come as :class:`Opaque`."""
    return mart_batch.analyse_packed(items.value)


def grouped_analysis(size: int) -> svc.GroupedAnalysis:
    """The whole-market flow path's ``analyse`` step: chains buffered into :func:`analyse_sessions` tasks of
    ``size`` (:class:`gex_service.compute.GroupedAnalysis`)."""

    def submit(items: list[tuple[c.ChainInput, Conventions]]) -> Any:
        with warnings.catch_warnings():
            # Dask warns of every task graph over 10 MB, advising to scatter the data first: the chains travel as
            # the tasks' arguments on purpose, the same bytes either way (docs/distributed.md); not a user's concern
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            return analyse_sessions.submit(Opaque(items))

    return svc.GroupedAnalysis(size, submit)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def read_chains(warehouse_file: str, keys: list[tuple[str, dt.date, dt.datetime | None]]) -> dict[Any, Any]:
    """Many snapshots with one query per valuation instant (:func:`gex_service.compute.read_batch`): ``{key:
    ChainInput, or the ValueError/KeyError of a snapshot that cannot be read}``."""
    with warehouse(warehouse_file) as con:
        return svc.read_batch(con, keys)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def write_sessions(warehouse_file: str, results: Opaque[list[tuple[c.MartFrames | None, c.RunRecord]]]) -> list[int]:
    """A batch of jobs' marts and ``mart.runs`` rows in one transaction (:func:`gex_warehouse.compute.write_results`;
    all or nothing, so a retry or a rerun redoes the whole batch). Returns the mart rows written per job. The
    results come as :class:`Opaque` (Prefect would walk every frame of the batch to look for futures)."""
    with warehouse(warehouse_file) as con:
        rows = c.write_results(con, results.value)
        runtime.tally.done("sessions computed", len(results.value))  # still busy: a Ctrl-C cannot fall in between
    return rows


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def write_session(warehouse_file: str, frames: c.MartFrames | None, run: c.RunRecord) -> int:
    """Replace the session's marts (when computed) and log the attempt in ``mart.runs``, in the flow's
    thread. Returns the mart rows written."""
    with warehouse(warehouse_file) as con:
        rows = svc.write_with(con)(frames, run)
        runtime.tally.done("sessions computed")  # still busy: a Ctrl-C cannot fall between the commit and this
    return rows


#: Host names a Dask worker on this machine listens on (``LocalCluster``: the loopback address).
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def workers_are_local() -> bool:
    """Whether the running flow's task runner analyses on this machine's cores: a thread pool, or a Dask
    cluster whose workers all listen on a loopback address or this host's name (``--dask local:N``, or a
    scheduler address whose workers run here). ``False`` for workers elsewhere, or when it cannot be told.

    Why: the writer's DuckDB runs on one thread while local workers hold the cores (as in ``gex compute``);
    with remote workers this machine's cores are the writer's own."""
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if isinstance(runner, ThreadPoolTaskRunner):
        return True
    try:
        from prefect_dask import DaskTaskRunner

        if not isinstance(runner, DaskTaskRunner):
            return False
        addresses = list(runner.client.scheduler_info()["workers"])
    except Exception:  # noqa: BLE001 - a runner that cannot say: treat as remote (DuckDB keeps its threads)
        return False
    hosts = {(urlsplit(a if "://" in a else f"tcp://{a}").hostname or "").lower() for a in addresses}
    # the host's own name, not its fully qualified one: socket.getfqdn() asks DNS, which can hang for seconds
    return bool(hosts) and hosts <= _LOOPBACK | {socket.gethostname().lower()}


@contextmanager
def _batch_writer_settings(warehouse_file: str) -> Iterator[None]:
    """DuckDB tuned for a run of many batches while the block runs, as ``gex compute`` tunes it
    (:func:`gex_service.compute.batch_writer_settings`: fewer checkpoints; one thread when the workers are
    local), restored after. Set and restored through short borrows of the held warehouse (the settings are
    the database's): a cursor kept for the whole run would count as busy and change how Ctrl-C is handled."""
    with writer(warehouse_file) as con:
        before = svc.apply_settings(con, svc.batch_writer_settings(con, single_threaded=workers_are_local()))
    try:
        yield
    finally:
        # after a failure or a stop the flow is leaving with that error: a restore that fails must not replace it
        with suppress(duckdb.Error), writer(warehouse_file) as con:
            svc.apply_settings(con, before)


def run_sessions(
    warehouse_file: str,
    todo: list[svc.Job],
    *,
    flow: str,
    flow_run_id: str | None,
    workers: int,
    on_outcome: Callable[[SessionOutcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[SessionOutcome]:
    """Compute ``todo`` inside a flow with the service's engine (:func:`gex_service.compute.run`): chains read
    and marts written by tasks in the flow's thread, the analysis submitted to the task runner in batches of
    ``BATCH_PER_WORKER * workers`` sessions."""
    runtime.tally.plan("sessions computed", len(todo))

    def progress(outcome: SessionOutcome) -> None:  # the count itself is taken inside write_session
        if on_outcome is not None:
            on_outcome(outcome)

    def stop() -> bool:
        runtime.check_stop()  # a stop request (Ctrl-C) ends the run between sessions (each is one transaction)
        return should_stop() if should_stop is not None else False

    def analyse(chain: c.ChainInput, conventions: Conventions) -> Any:
        return analyse_session.submit(chain, conventions)

    if len(todo) < FLOW_BATCH_MIN_JOBS:  # a night of a few underlyings: one transaction per snapshot
        return svc.run(
            todo,
            read=lambda u, s, v: read_chain(warehouse_file, u, s, v),
            write=lambda frames, run: write_session(warehouse_file, frames, run),
            analyse=analyse, flow=flow, flow_run_id=flow_run_id, batch=BATCH_PER_WORKER * workers,
            on_outcome=progress, should_stop=stop,
        )
    # a whole-market night: a batch read by one task and written in one transaction by another, analysed by
    # `workers` tasks of several chains each while the previous batch is written (gex_service.compute.run): the
    # per-task cost is paid per group of chains, not per chain; DuckDB tuned as `gex compute` tunes it
    batch = max(BATCH_PER_WORKER * workers, svc.batch_for(len(todo)))
    with _batch_writer_settings(warehouse_file):
        return svc.run(
            todo,
            read_many=lambda keys: read_chains(warehouse_file, keys),
            write_many=lambda results: write_sessions(warehouse_file, Opaque(results)),
            analyse=grouped_analysis(-(-batch // max(1, workers))), flow=flow, flow_run_id=flow_run_id,
            batch=batch, on_outcome=progress, should_stop=stop,
        )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def regimes(warehouse_file: str, keys: list[tuple[str, dt.date]]) -> list[dict[str, Any]]:
    """``mart.regime_daily`` summary rows of ``keys`` (session, underlying, preset, spot, total GEX $bn per
    1%, flip, regime), in ``keys`` order, native first; keys not computed are left out."""
    out: list[dict[str, Any]] = []
    with warehouse(warehouse_file) as con:
        newest = con.execute("SELECT max(session) FROM mart.regime_daily").fetchall()[0]
        latest = dict(con.execute("SELECT underlying, max(session) FROM mart.regime_daily GROUP BY ALL").fetchall())
        # the daily row of each session (end-of-day snapshot, else the latest intraday one)
        for u, s in keys:
            rows = con.execute(
                "SELECT preset, spot, total_gex_usd_per_1pct, gamma_flip, regime, partial_chain "
                f"FROM {c.DAILY_REGIME} WHERE underlying = ? AND session = ? ORDER BY preset <> 'native', preset", [u, s],
            ).fetchall()
            for preset, spot, gex, flip, regime, partial in rows:
                out.append({
                    "session": s.isoformat(), "underlying": u, "preset": preset, "spot": round(float(spot), 2),
                    "total_gex_bn_per_1pct": round(float(gex) / 1e9, 3),
                    "gamma_flip": None if flip is None else round(float(flip), 2),
                    "regime": regime, "partial_chain": bool(partial),
                    # the underlying's latest data is older than the warehouse's newest session (fetch failed?)
                    "data_stale": bool(latest.get(u) == s and newest[0] is not None and s < newest[0]),
                })
    return out


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def export_views(warehouse_file: str, exports: str | None, keys: list[tuple[str, dt.date]] | None = None,
                 force: bool = False) -> ex.ExportResult:
    """Refresh the hedging advice of the sessions to publish (stale ones, later ones of the same underlying,
    ``keys``, and those whose realised vol or hedge settings changed; every computed session with ``force``),
    then write their Parquet exports of the published views."""
    root = ex.exports_path(exports, warehouse_file)
    runtime.tally.step("exports")
    with warehouse(warehouse_file) as con:
        with chunk_mapper(cores()) as map_chunks:  # worker processes only for a large set, stopped right after
            refresh_hedge_advice(con, plan_export(con, keys, force=force).advice_keys, map_chunks)
        result = ex.export(con, root, keys, force=force)  # planned again: the new advice is an input of its own
        runtime.tally.step("exports", finished=True)
    return result


@task(cache_policy=NO_CACHE)
def levels_and_alerts(warehouse_file: str, exports: str | None, keys: list[tuple[str, dt.date]]) -> tuple[int, int]:
    """The levels feed of the exported sessions (``<exports>/levels``, ``gex_warehouse.levels_feed``), then
    the alerts of each underlying's newest one sent to ``$GEX_ALERT_URLS`` (``gex_service.alerts``: a failing
    URL logs one line, never fails the flow). Returns (feed files written, alerts found)."""
    from prefect import get_run_logger

    logger = get_run_logger()
    try:
        basis = lf.basis_from_env()
    except ValueError as exc:  # the user's basis is wrong: say so, publish the index levels anyway
        logger.warning("levels feed: %s; futures levels left out", exc)
        basis = {}
    with warehouse(warehouse_file) as con:
        feed = lf.write_levels(con, ex.exports_path(exports, warehouse_file), keys, basis)
        found = al.for_published(con, keys)
    sent = al.send(found)
    logger.info("levels feed: %d files -> %s; alerts: %d found, delivered to %d URL(s)", feed.files, feed.root,
                len(found), sent)
    return feed.files, len(found)


def flow_run_id() -> str | None:
    """The current Prefect flow run's id (``None`` outside a flow run)."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return str(run_id) if run_id else None


def warehouse_file(warehouse: str | None) -> str:
    """The warehouse path as a string (``--warehouse``, else ``$GEX_WAREHOUSE``, else the default)."""
    return str(warehouse_path(warehouse))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_condition_fn=_transient)
def latest_sessions(warehouse_file: str, underlyings: list[str] | None = None) -> list[tuple[str, dt.date]]:
    """The latest loaded session of each underlying (of ``underlyings``, default every loaded one), sorted."""
    with warehouse(warehouse_file) as con:
        loaded = c.loaded_sessions(con)
    latest: dict[str, dt.date] = {}
    for u, s in loaded:
        if underlyings is None or u in underlyings:
            latest[u] = max(s, latest.get(u, s))
    return sorted(latest.items())
