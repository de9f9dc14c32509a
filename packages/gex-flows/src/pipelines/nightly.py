"""Flow ``nightly``: fetch the watchlist (when one is given: Cboe's free delayed quotes, broker and vendor APIs,
OCC open interest, rates; ``pipelines/fetch.py``) into the landing folder, ingest it, compute every pending session (the night's, and any a missed
night or an upgrade left behind), publish the exports, and summarise the regimes of the sessions computed and
of the latest session of each underlying as a table artifact (key ``gex-nightly-regimes``).

The flow holds the warehouse for its whole run (one writer): a second nightly started meanwhile waits up
to ``lock_wait_seconds`` and then fails with a message naming the process that holds it.

    python -m pipelines.nightly LANDING [WAREHOUSE]
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import Any

from gex_warehouse.export import ExportResult
from gex_warehouse.load import LoadResult
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from pipelines.compute import compute
from pipelines.ingest import ingest
from pipelines.publish import publish
from pipelines.tasks import SessionOutcome, hold_warehouse, latest_sessions, regimes, warehouse_file

ARTIFACT_KEY = "gex-nightly-regimes"
#: How long a nightly run waits for another job to release the warehouse before failing, seconds.
LOCK_WAIT_SECONDS = 600.0


@dataclass
class NightlyResult:
    """What a nightly run did: the files, the sessions computed, the exports and the latest regimes."""

    loads: list[LoadResult] = field(default_factory=list)
    outcomes: list[SessionOutcome] = field(default_factory=list)
    regimes: list[dict[str, Any]] = field(default_factory=list)
    exports: ExportResult | None = None
    fetches: list[Any] = field(default_factory=list)  # gex_fetch.FetchOutcome, one per (source, symbol)

    @property
    def failed(self) -> list[SessionOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]

    @property
    def failed_fetches(self) -> list[Any]:
        return [f for f in self.fetches if not f.ok]


@flow(name="nightly")
def nightly(
    landing: str,
    warehouse: str | None = None,
    underlyings: list[str] | None = None,
    exports: str | None = None,
    expect: list[str] | None = None,
    session: dt.date | None = None,
    deadline_minutes: float = 0.0,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    presets: list[str] | None = None,
    watchlist: Any = None,
    base_urls: dict[str, str] | None = None,
    fetch_at: str | None = None,
) -> NightlyResult:
    """Ingest ``landing`` (waiting up to ``deadline_minutes`` for the ``expect`` files of ``session``, see the
    ingest flow; with ``fetch_at`` (HH:MM New York, a watchlist's time) the run does nothing unless it starts
    that long after a session's close, early closes included; before the ingest, with ``watchlist``, fetch every (source, symbol) it lists into ``landing``: one
    symbol failing never stops the others, ``base_urls`` {source: URL} override the vendors' hosts), compute
    every pending session of each underlying (of ``underlyings``, default all) under
    each of ``presets`` (default: native and every preset the warehouse holds), export the published views
    of what changed, and summarise the regimes of the latest sessions and of every session computed."""
    logger = get_run_logger()
    target = warehouse_file(warehouse)
    wanted = [u.upper().lstrip("^") for u in underlyings] if underlyings else None
    if fetch_at is not None:
        # scheduled from a watchlist's EOD time (gex serve): the cron fires at the regular and the early-close
        # slot of every weekday; only the one after this session's real close (and no holiday) goes on
        from gex_fetch.schedule import is_due

        if is_due(fetch_at, dt.datetime.now(dt.timezone.utc)) is None:
            logger.info("not the end-of-day fetch time %s of a session today (holiday, weekend or the other "
                        "close's slot): nothing to do", fetch_at)
            return NightlyResult()
    fetches = []
    if watchlist is not None:
        from pipelines.fetch import fetch_watchlist

        fetches = fetch_watchlist(watchlist, landing, base_urls=base_urls)
        for f in fetches:
            (logger.info if f.ok else logger.error)("%s", f.line())
    with hold_warehouse(target, lock_wait_seconds):
        loads = ingest(landing, target, expect=expect, session=session, deadline_minutes=deadline_minutes)
        outcomes: list[SessionOutcome] = []
        loaded = {u for u, _ in latest_sessions(target)}
        for u in wanted or [None]:
            if u is not None and u not in loaded:
                logger.warning("no chain of %s is loaded yet: nothing to compute for it", u)
                continue
            outcomes += compute(target, underlying=u, presets=presets)
        computed = sorted({(o.underlying, o.session) for o in outcomes})
        if computed:
            logger.info("computed %d pending sessions: %s", len(computed),
                        ", ".join(f"{u} {d}" for u, d in computed[:20]) + (" ..." if len(computed) > 20 else ""))
        exported = publish(target, exports, sessions=None)
        table = regimes(target, sorted(set(computed) | set(latest_sessions(target, wanted))))
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=table,
        description="Dealer gamma regime of the latest session of each underlying "
                    "(total GEX in $bn per 1% move of the underlying; flip in index points).",
    )
    for row in table:
        logger.info("%(session)s %(underlying)s %(preset)s spot %(spot)s GEX %(total_gex_bn_per_1pct)+.3f bn/1%% "
                    "flip %(gamma_flip)s %(regime)s", row)
    return NightlyResult(loads, outcomes, table, exported, fetches)


if __name__ == "__main__":
    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
