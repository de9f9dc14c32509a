"""Flow ``intraday``: one cycle of the intraday loop, every N minutes of regular trading hours.

A cycle fetches the watchlist **now** (``pipelines/fetch.py``: the vendors' current chains into the landing
archive), ingests exactly the bundles it fetched as intraday snapshots of today's session, computes the
pending snapshots of the fetched underlyings, and publishes: the levels feed of the touched sessions, the
published snapshot file readers open (``<warehouse>.published.duckdb``, with ``main.regime_snapshots``), the
Parquet exports only with ``parquet`` (else the nightly writes them), and the intraday alerts (spot crossing the gamma
flip, a regime change, a wall moving, between the newest snapshot and the one before it:
:func:`gex_service.alerts.for_snapshots`; sent to ``$GEX_ALERT_URLS``, never failing the cycle).

Scheduled runs (``gex serve --intraday``) fire on a cron of every possible run instant in New York time
(:func:`gex_fetch.schedule.intraday_cron`); the flow first checks the run's *scheduled* instant with
:func:`gex_fetch.schedule.is_intraday_due` and ends at once, saying so, outside the session's hours, on
holidays and after early closes. ``gex intraday --once`` runs one cycle now, ungated.

Semantics like the nightly (``docs/flows.md``): one symbol failing to fetch, one file failing to load or one
snapshot failing to compute fails only itself (the result lists it; the CLI exits 1); a stop request (Ctrl-C)
ends the cycle between units of work (each one transaction) and the CLI exits 130. The flow holds the
warehouse from the ingest to the end of the publish (one writer); the fetch runs before, without it.

    python -m pipelines.intraday WATCHLIST LANDING [WAREHOUSE]     # one cycle now, ungated
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from gex_fetch.schedule import DEFAULT_EVERY_MINUTES, is_intraday_due
from gex_warehouse.export import ExportResult
from gex_warehouse.load import LoadResult
from gex_warehouse.published import refresh_snapshot
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines import runtime
from pipelines.tasks import (
    SessionOutcome,
    export_views,
    flow_run_id,
    hold_warehouse,
    ingest_one,
    plan_sessions,
    run_sessions,
    warehouse,
    warehouse_file,
)

ARTIFACT_KEY = "gex-intraday-snapshots"
#: Threads analysing snapshots (2 cores; numpy/numba release the GIL).
WORKERS = 2
#: How long a cycle waits for another job (a backfill, the nightly) to release the warehouse, seconds:
#: well under the interval, so a blocked cycle gives way to the next one instead of queueing behind it.
LOCK_WAIT_SECONDS = 60.0


@dataclass
class IntradayResult:
    """What one intraday cycle did.

    Attributes
    ----------
    run_instant:
        The run instant (UTC) the cycle stands for; ``None`` when skipped.
    skipped:
        Why nothing was done (not a run instant of a session), else ``None``.
    fetches, loads, outcomes:
        One ``gex_fetch.FetchOutcome`` per (source, symbol); one load result per bundle fetched; one compute
        outcome per (snapshot, preset).
    exports:
        The Parquet exports rewritten (``None`` unless the cycle ran with ``parquet`` and computed something).
    alerts:
        Alert messages found (sent to ``$GEX_ALERT_URLS`` when set).
    seconds:
        Wall seconds per phase: ``fetch``, ``ingest``, ``compute``, ``publish``, and ``latency`` = from the
        last response received (the end of the fetch) to the published snapshot file written.
    """

    run_instant: dt.datetime | None = None
    skipped: str | None = None
    fetches: list[Any] = field(default_factory=list)
    loads: list[LoadResult] = field(default_factory=list)
    outcomes: list[SessionOutcome] = field(default_factory=list)
    exports: ExportResult | None = None
    alerts: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[SessionOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]

    @property
    def failed_fetches(self) -> list[Any]:
        return [f for f in self.fetches if not f.ok]

    @property
    def failed_loads(self) -> list[LoadResult]:
        return [r for r in self.loads if not r.ok]

    @property
    def ok(self) -> bool:
        return not (self.failed or self.failed_fetches or self.failed_loads)


def gate_instant(now: dt.datetime | None) -> dt.datetime:
    """The instant a cycle is checked against: ``now`` when given (tests, the CLI's loop), else the flow run's
    *scheduled* start when it comes from a deployment (a busy scheduler or a wait does not make it miss its
    slot), else the current time."""
    if now is not None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now
    from prefect.runtime import deployment, flow_run

    if deployment.id:  # a scheduled run: its slot is the scheduled instant, not when the process got to it
        scheduled = flow_run.scheduled_start_time
        if scheduled is not None:
            return dt.datetime.fromtimestamp(scheduled.timestamp(), tz=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


@task(cache_policy=NO_CACHE)
def publish_snapshots(warehouse_path: str, exports: str | None, keys: list[tuple[str, dt.date]],
                      underlyings: list[str]) -> tuple[int, list[str]]:
    """The levels feed of ``keys`` (``<exports>/levels``) and the intraday alerts of ``underlyings`` (newest
    snapshot against the one before it), sent to ``$GEX_ALERT_URLS``. Returns (feed files, alert messages).
    A bad futures basis or a dead webhook logs one line and never fails the cycle."""
    from gex_service import alerts as al
    from gex_warehouse import export as ex
    from gex_warehouse import levels_feed as lf
    from prefect import get_run_logger

    logger = get_run_logger()
    try:
        basis = lf.basis_from_env()
    except ValueError as exc:
        logger.warning("levels feed: %s; futures levels left out", exc)
        basis = {}
    with warehouse(warehouse_path) as con:
        feed = lf.write_levels(con, ex.exports_path(exports, warehouse_path), keys, basis)
        found = al.for_snapshots(con, underlyings)
    sent = al.send(found)
    for a in found:
        logger.warning("alert: %s", a.message)
    logger.info("levels feed: %d files -> %s; intraday alerts: %d found, delivered to %d URL(s)", feed.files,
                feed.root, len(found), sent)
    return feed.files, [a.message for a in found]


@flow(name="intraday", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def intraday(
    landing: str,
    warehouse: str | None = None,
    watchlist: Any = None,
    every: int = DEFAULT_EVERY_MINUTES,
    now: dt.datetime | None = None,
    gate: bool = True,
    presets: list[str] | None = None,
    exports: str | None = None,
    base_urls: dict[str, str] | None = None,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    parquet: bool = False,
) -> IntradayResult:
    """One intraday cycle (see the module docstring): with ``gate``, nothing unless ``now`` (default: the
    scheduled start, else the current time) is a run instant of a session every ``every`` minutes; then
    fetch ``watchlist`` (a ``gex_fetch.Watchlist`` or a TOML path; ``base_urls`` {source: URL} override the
    vendors' hosts) into ``landing``, ingest what was fetched, compute the pending snapshots of the fetched
    underlyings under ``presets`` (default native plus every preset the warehouse holds), publish: levels
    feed, intraday alerts, the published snapshot file; with ``parquet`` also the Parquet exports (and hedging
    advice) of the touched sessions, which otherwise the nightly's publish writes once a day (they are then
    stale: their fingerprint changed)."""
    from gex_fetch import Watchlist, load_watchlist

    from pipelines.fetch import fetch_watchlist

    logger = get_run_logger()
    target = warehouse_file(warehouse)
    result = IntradayResult()
    when = gate_instant(now)
    if gate:
        result.run_instant = is_intraday_due(when, every)
        if result.run_instant is None:
            result.skipped = (f"{when.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC is not an intraday run "
                              f"instant (every {every} min of a session's regular hours; holiday, weekend, before "
                              f"the first or after the close)")
            logger.info("%s: nothing to do", result.skipped)
            return result
    else:
        result.run_instant = when.astimezone(dt.timezone.utc)
    if watchlist is None:
        raise ValueError("the intraday flow needs a watchlist (what to fetch every cycle)")
    wl = watchlist if isinstance(watchlist, Watchlist) else load_watchlist(watchlist)

    t0 = time.perf_counter()
    result.fetches = fetch_watchlist(wl, landing, base_urls=base_urls)
    for f in result.fetches:
        (logger.info if f.ok else logger.error)("%s", f.line())
    received = time.perf_counter()
    result.seconds["fetch"] = received - t0
    fetched = [f for f in result.fetches if f.status == "fetched" and f.path]
    underlyings = sorted({f.symbol for f in result.fetches if f.ok})
    if not fetched:
        logger.info("nothing new fetched (every symbol unchanged or failed): nothing to ingest")
    with hold_warehouse(target, lock_wait_seconds) as con:
        runtime.tally.plan("files ingested", len(fetched))
        for f in fetched:
            runtime.check_stop()  # between files: each load is one transaction
            result.loads.append(ingest_one(target, f.path))
        for r in result.failed_loads:
            logger.error("%s: %s", r.path.name, r.message or r.status)
        ingested = time.perf_counter()
        result.seconds["ingest"] = ingested - received
        loaded = sorted({u for r in result.loads if r.ok for u in r.underlyings})
        todo = [j for j in plan_sessions(target, presets=presets) if j.underlying in loaded] if loaded else []
        result.outcomes = run_sessions(target, todo, flow="intraday", flow_run_id=flow_run_id(), workers=WORKERS)
        for o in result.failed:
            logger.error("%s %s (%s) failed: %s", o.underlying, o.session, o.preset, o.message)
        computed = time.perf_counter()
        result.seconds["compute"] = computed - ingested
        keys = sorted({(o.underlying, o.session) for o in result.outcomes if o.status == "ok"})
        if keys:
            if parquet:  # seconds per cycle for ten SPX-sized chains, growing with the day's snapshots
                result.exports = export_views(target, exports, keys)
            _files, result.alerts = publish_snapshots(target, exports, keys, underlyings)
            snap = refresh_snapshot(con, target)  # what readers open while a writer holds the warehouse
            logger.info("published snapshot: %d tables, %d rows in %.2f s -> %s", len(snap.tables), snap.rows,
                        snap.seconds, snap.path)
        published = time.perf_counter()
    result.seconds["publish"] = published - computed
    result.seconds["latency"] = published - received
    table = summary_table(result)
    if table:
        create_table_artifact(key=ARTIFACT_KEY, table=table,
                              description="Intraday snapshots computed this cycle (total GEX in $bn per 1% move; "
                                          "open interest is start-of-day all day).")
    logger.info("intraday cycle %s: %d fetched, %d snapshots computed (%d failed); %.2f s from the last response "
                "received to the published snapshot", f"{result.run_instant:%H:%M} UTC", len(fetched),
                len(result.outcomes), len(result.failed), result.seconds["latency"])
    return result


def summary_table(result: IntradayResult) -> list[dict[str, Any]]:
    """One row per snapshot computed: underlying, session, preset, spot, total GEX $bn per 1%, flip, regime."""
    return [{
        "underlying": o.underlying, "session": o.session.isoformat(), "preset": o.preset, "status": o.status,
        "spot": None if o.spot is None else round(o.spot, 2),
        "total_gex_bn_per_1pct": None if o.total_gex_usd_per_1pct is None else round(o.total_gex_usd_per_1pct / 1e9, 3),
        "gamma_flip": None if o.gamma_flip is None else round(o.gamma_flip, 2), "regime": o.regime,
    } for o in result.outcomes]


if __name__ == "__main__":
    out = intraday(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None, watchlist=sys.argv[1], gate=False)
    sys.exit(0 if out.ok else 1)
