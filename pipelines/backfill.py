"""Flow ``backfill``: compute every loaded session in a date range, sessions analysed in parallel.

Resumable: sessions already computed (from their current load, under the preset) are skipped unless
``force``, so a backfill stopped half-way continues where it stopped. Writing stays in the flow's thread.

    python -m pipelines.backfill WAREHOUSE START END
"""

from __future__ import annotations

import datetime as dt
import sys

from gex.conventions import preset as get_preset
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines.tasks import SessionOutcome, flow_run_id, plan_sessions, run_sessions, warehouse_file

#: Threads analysing sessions (the machine has 2 cores; numpy/numba release the GIL).
WORKERS = 2


@flow(name="backfill", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def backfill(
    warehouse: str | None,
    start: dt.date,
    end: dt.date,
    underlying: str | None = None,
    force: bool = False,
    preset: str = "native",
) -> list[SessionOutcome]:
    """Compute the loaded sessions from ``start`` to ``end`` (inclusive) not yet computed (all of them
    with ``force``). Returns one outcome per session attempted."""
    if end < start:
        raise ValueError(f"backfill range is empty: end {end} is before start {start}")
    logger = get_run_logger()
    conventions = get_preset(preset)
    target = warehouse_file(warehouse)
    symbol = underlying.upper().lstrip("^") if underlying else None
    todo = plan_sessions(target, symbol, start=start, end=end, force=force, preset=preset)
    logger.info("%d sessions to compute between %s and %s", len(todo), start, end)
    outcomes = run_sessions(target, todo, conventions, flow="backfill", flow_run_id=flow_run_id(), workers=WORKERS)
    for o in outcomes:
        if o.status != "ok":
            logger.error("%s %s failed: %s", o.underlying, o.session, o.message)
    logger.info("%d sessions computed (%d failed) -> %s", len(outcomes),
                sum(o.status != "ok" for o in outcomes), target)
    return outcomes


if __name__ == "__main__":
    backfill(sys.argv[1], dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]))
