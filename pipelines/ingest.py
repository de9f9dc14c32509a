"""Flow ``ingest``: the files of a landing folder into the warehouse.

Files whose content is already loaded are no-ops (``ingest_file`` hashes them), so re-running is safe and
leaves the warehouse unchanged. One writer: this flow's process, one file at a time.

    python -m pipelines.ingest LANDING [WAREHOUSE]
"""

from __future__ import annotations

import sys

from gex_warehouse.load import LoadResult
from prefect import flow, get_run_logger

from pipelines.tasks import ingest_one, list_landing, warehouse_file


@flow(name="ingest", log_prints=False)
def ingest(landing: str, warehouse: str | None = None) -> list[LoadResult]:
    """Load every file of ``landing`` (recursive, sorted) into ``warehouse`` (default: ``$GEX_WAREHOUSE``,
    else ``warehouse/gex.duckdb``). Returns one result per file; a failed file does not stop the others."""
    logger = get_run_logger()
    target = warehouse_file(warehouse)
    results = [ingest_one(target, path) for path in list_landing(landing)]
    for r in results:
        logger.info("%s: %s%s", r.path.name, r.status, f" ({r.message})" if r.message and not r.ok else "")
    loaded = sum(r.status == "loaded" for r in results)
    logger.info("%d files: %d loaded, %d already loaded, %d not loaded -> %s", len(results), loaded,
                sum(r.status == "already loaded" for r in results), sum(not r.ok for r in results), target)
    return results


if __name__ == "__main__":
    ingest(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
