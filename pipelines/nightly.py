"""Flow ``nightly``: ingest the landing folder, compute the latest session of each underlying, and
publish the day's regimes as a table artifact (key ``gex-nightly-regimes``).

    python -m pipelines.nightly LANDING [WAREHOUSE]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from gex_warehouse.load import LoadResult
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from pipelines.compute import compute
from pipelines.ingest import ingest
from pipelines.tasks import SessionOutcome, latest_sessions, regimes, warehouse_file

ARTIFACT_KEY = "gex-nightly-regimes"


@dataclass
class NightlyResult:
    """What a nightly run did: the files, the sessions computed, and the regimes of the latest sessions."""

    loads: list[LoadResult] = field(default_factory=list)
    outcomes: list[SessionOutcome] = field(default_factory=list)
    regimes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[SessionOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]


@flow(name="nightly")
def nightly(landing: str, warehouse: str | None = None, underlyings: list[str] | None = None) -> NightlyResult:
    """Ingest ``landing``, then compute the latest loaded session of each underlying (of ``underlyings``,
    default all) if pending, and summarise those sessions' regimes in a table artifact."""
    logger = get_run_logger()
    target = warehouse_file(warehouse)
    loads = ingest(landing, target)
    wanted = [u.upper().lstrip("^") for u in underlyings] if underlyings else None
    latest = latest_sessions(target, wanted)
    outcomes: list[SessionOutcome] = []
    for u, s in latest:
        outcomes += compute(target, underlying=u, session=s)
    table = regimes(target, latest)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=table,
        description="Dealer gamma regime of the latest session of each underlying "
                    "(total GEX in $bn per 1% move of the underlying; flip in index points).",
    )
    for row in table:
        logger.info("%(session)s %(underlying)s spot %(spot)s GEX %(total_gex_bn_per_1pct)+.3f bn/1%% "
                    "flip %(gamma_flip)s %(regime)s", row)
    return NightlyResult(loads, outcomes, table)


if __name__ == "__main__":
    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
