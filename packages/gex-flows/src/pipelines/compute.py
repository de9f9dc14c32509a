"""Flow ``compute``: pending (underlying, session) chains -> analysis marts, each attempt logged in
``mart.runs`` with this flow run's id.

Chains are read and marts written in the flow's thread (one DuckDB writer); the analysis (pure) runs in a
thread pool.

    python -m pipelines.compute [WAREHOUSE]
"""

from __future__ import annotations

import datetime as dt
import sys

from gex.conventions import preset as get_preset
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines.tasks import SessionOutcome, flow_run_id, hold_warehouse, plan_sessions, run_sessions, warehouse_file

#: Threads analysing sessions (the machine has 2 cores; numpy/numba release the GIL).
WORKERS = 2


@flow(name="compute", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def compute(
    warehouse: str | None = None,
    underlying: str | None = None,
    session: dt.date | None = None,
    force: bool = False,
    presets: list[str] | None = None,
    lock_wait_seconds: float = 0.0,
) -> list[SessionOutcome]:
    """Compute the pending sessions (of ``underlying``, on ``session``), or every selected one with
    ``force``, under each of ``presets`` (default: native and every preset the warehouse holds). Returns one
    outcome per (session, preset) attempted."""
    logger = get_run_logger()
    for name in presets or []:
        get_preset(name)  # an unknown preset fails the flow before any work
    target = warehouse_file(warehouse)
    symbol = underlying.upper().lstrip("^") if underlying else None
    with hold_warehouse(target, lock_wait_seconds):
        todo = plan_sessions(target, symbol, session=session, force=force, presets=presets)
        outcomes = run_sessions(target, todo, flow="compute", flow_run_id=flow_run_id(), workers=WORKERS)
    for o in outcomes:
        if o.status != "ok":
            logger.error("%s %s (%s) failed: %s", o.underlying, o.session, o.preset, o.message)
    logger.info("%d sessions computed (%d failed) -> %s", len(outcomes),
                sum(o.status != "ok" for o in outcomes), target)
    return outcomes


if __name__ == "__main__":
    compute(sys.argv[1] if len(sys.argv) > 1 else None)
