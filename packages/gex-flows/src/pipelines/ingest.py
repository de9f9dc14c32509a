"""Flow ``ingest``: the files of a landing folder into the warehouse.

Optionally waits first (up to a deadline) for expected files to arrive and for files still being written
to settle (:mod:`gex_warehouse.arrivals`). Files whose content is already loaded are no-ops
(files loaded before and not modified since are not even read; others are hashed by ``ingest_file``), so
re-running is safe and leaves the warehouse unchanged. One writer: this
flow's process, one file at a time.

    python -m pipelines.ingest LANDING [WAREHOUSE]
"""

from __future__ import annotations

import datetime as dt
import sys

from gex_warehouse.load import LoadResult
from prefect import flow, get_run_logger

from pipelines import runtime
from pipelines.progress import FlowProgress
from pipelines.tasks import await_landing, hold_warehouse, ingest_one, list_landing, skip_unchanged, warehouse_file


@flow(name="ingest", log_prints=False)
def ingest(
    landing: str,
    warehouse: str | None = None,
    expect: list[str] | None = None,
    session: dt.date | None = None,
    deadline_minutes: float = 0.0,
    settle_seconds: float = 5.0,
    lock_wait_seconds: float = 0.0,
) -> list[LoadResult]:
    """Load every file of ``landing`` (recursive, sorted) into ``warehouse`` (default: ``$GEX_WAREHOUSE``,
    else ``warehouse/gex.duckdb``). Returns one result per file; a failed file does not stop the others.

    With ``deadline_minutes`` > 0, first waits until the ``expect`` patterns (globs relative to ``landing``,
    ``{session}`` = ``session`` as YYYY-MM-DD) match files and no file changed for ``settle_seconds``.
    """
    logger = get_run_logger()
    target = warehouse_file(warehouse)
    if deadline_minutes > 0 or expect:
        n = await_landing(landing, list(expect or []), session, deadline_minutes * 60.0, settle_seconds)
        logger.info("landing folder ready: %d files", n)
    with hold_warehouse(target, lock_wait_seconds):
        files = list_landing(landing)
        known = skip_unchanged(target, files)
        todo = [p for p in files if p not in known]
        fresh = {}
        runtime.tally.plan("files ingested", len(todo))
        with FlowProgress(len(todo), "ingest: files") as progress:
            for path in todo:
                runtime.check_stop()  # a stop request ends the run between files (each is one transaction)
                fresh[path] = ingest_one(target, path)
                progress.advance()
        results = [known[p] if p in known else fresh[p] for p in files]
    for r in results:
        if not r.ok or r.status == "loaded":
            logger.info("%s: %s%s", r.path.name, r.status, f" ({r.message})" if r.message and not r.ok else "")
    loaded = sum(r.status == "loaded" for r in results)
    logger.info("%d files: %d loaded, %d already loaded, %d not loaded -> %s", len(results), loaded,
                sum(r.status == "already loaded" for r in results), sum(not r.ok for r in results), target)
    return results


if __name__ == "__main__":
    ingest(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
