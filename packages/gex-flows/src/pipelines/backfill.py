"""Flow ``backfill``: compute every loaded session in a date range, sessions analysed in parallel, then
export the published views.

Resumable: sessions already computed (from their current load, under the preset) are skipped unless
``force``, so a backfill stopped half-way (even killed) continues where it stopped. Writing stays in the
flow's thread (DuckDB's single writer); the analysis runs on the task runner: threads by default, or an
existing Dask cluster (``dask_address``, through prefect-dask), whose workers return the mart frames for
the flow to write.

    python -m pipelines.backfill WAREHOUSE START END
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from gex.conventions import preset as get_preset
from gex_warehouse.published import ThrottledRefresh
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines.progress import FlowProgress
from pipelines.publish import publish
from pipelines.tasks import SessionOutcome, flow_run_id, hold_warehouse, plan_sessions, run_sessions, warehouse_file

#: Threads analysing sessions (the machine has 2 cores; numpy/numba release the GIL).
WORKERS = 2
PROGRESS_KEY = "gex-backfill-progress"


@flow(name="backfill", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def backfill(
    warehouse: str | None,
    start: dt.date,
    end: dt.date,
    underlying: str | None = None,
    force: bool = False,
    presets: list[str] | None = None,
    exports: str | None = None,
    lock_wait_seconds: float = 0.0,
    workers: int = WORKERS,
) -> list[SessionOutcome]:
    """Compute the loaded sessions from ``start`` to ``end`` (inclusive) not yet computed (all of them
    with ``force``) under each of ``presets`` (default: native and every preset the warehouse holds), then
    export what changed. Returns one outcome per (session, preset) attempted."""
    if end < start:
        raise ValueError(f"backfill range is empty: end {end} is before start {start}")
    logger = get_run_logger()
    for name in presets or []:
        get_preset(name)  # an unknown preset fails the flow before any work
    target = warehouse_file(warehouse)
    symbol = underlying.upper().lstrip("^") if underlying else None
    with hold_warehouse(target, lock_wait_seconds) as con:
        todo = plan_sessions(target, symbol, start=start, end=end, force=force, presets=presets)
        logger.info("%d sessions to compute between %s and %s", len(todo), start, end)
        snapshot = ThrottledRefresh(con, target)  # readers see progress every ~15 s; publish() refreshes at the end
        with FlowProgress(len(todo), "backfill: sessions computed", PROGRESS_KEY) as progress:
            outcomes = run_sessions(target, todo, flow="backfill", flow_run_id=flow_run_id(),
                                    workers=workers, on_outcome=lambda _: (progress.advance(), snapshot()))
        for o in outcomes:
            if o.status != "ok":
                logger.error("%s %s failed: %s", o.underlying, o.session, o.message)
        logger.info("%d sessions computed (%d failed) -> %s", len(outcomes),
                    sum(o.status != "ok" for o in outcomes), target)
        publish(target, exports)
    return outcomes


if __name__ == "__main__":
    backfill(sys.argv[1], dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]))


#: Dask's network protocols a scheduler address may use (``distributed.comm``; ``inproc`` is in-process only).
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
#: Most worker processes ``local:N`` may start (a local cluster on one machine).
MAX_LOCAL_WORKERS = 256


def parse_dask_address(address: str) -> tuple[str, int | None]:
    """Check a ``--dask`` value: ``("local", N)`` for ``local`` / ``local:N`` (N worker processes on this
    machine, default 2), ``(address, None)`` for a scheduler address ``scheme://host:port`` (e.g.
    ``tcp://10.0.0.5:8786``). ``ValueError`` with a one-line reason otherwise, before any cluster is contacted.
    """
    text = address.strip()
    if text == "local" or text.startswith("local:"):
        count = text.split(":", 1)[1] if ":" in text else "2"
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise ValueError(f"--dask {address!r}: local:N needs N between 1 and {MAX_LOCAL_WORKERS} worker processes")
        return "local", int(count)
    scheme, sep, rest = text.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in DASK_SCHEMES or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--dask {address!r}: expected a Dask scheduler address such as tcp://host:8786 "
                         f"(schemes {', '.join(DASK_SCHEMES)}), or local / local:N")
    return text, None


def with_dask(flow_obj: Any, address: str) -> Any:
    """``flow_obj`` running its tasks on Dask through prefect-dask: an existing cluster's scheduler address
    (``tcp://host:8786``: ``dask scheduler`` and ``dask worker tcp://host:8786`` on other machines, see
    ``docs/distributed.md``), or ``local`` / ``local:N`` for a temporary local cluster of N worker processes
    (one thread each; default 2). The flow's own process stays the warehouse's only writer: workers get
    chains and return mart frames. ``ValueError`` for an address :func:`parse_dask_address` refuses."""
    from prefect_dask import DaskTaskRunner

    target, workers = parse_dask_address(address)
    if workers is not None:
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                                "dashboard_address": ":0"})
    else:
        runner = DaskTaskRunner(address=target)
    return flow_obj.with_options(task_runner=runner)
