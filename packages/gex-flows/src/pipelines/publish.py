"""Flow ``publish``: the published views (``main`` schema, ``docs/sql-contract.md``) to hive-partitioned
Parquet exports, one file per view and session, ``<exports>/<view>/session=D/part-0.parquet`` (``underlying``
a column in it), for readers that must not wait for DuckDB's single writer (dashboards, notebooks).
Incremental: only the files of sessions with an underlying computed since its last export (or a later session
of such an underlying, whose look-back columns it feeds) are rewritten, each whole.

    python -m pipelines.publish [WAREHOUSE] [EXPORTS]
"""

from __future__ import annotations

import datetime as dt
import sys

from gex_warehouse.export import ExportResult
from gex_warehouse.published import refresh_snapshot
from prefect import flow, get_run_logger

from pipelines.tasks import export_views, hold_warehouse, levels_and_alerts, warehouse_file


@flow(name="publish")
def publish(
    warehouse: str | None = None,
    exports: str | None = None,
    sessions: list[tuple[str, dt.date]] | None = None,
    lock_wait_seconds: float = 0.0,
    force: bool = False,
) -> ExportResult:
    """Export the published views of every stale session (and of ``sessions``; of every computed session
    with ``force``) to ``exports`` (default: ``$GEX_EXPORTS``, else ``exports/`` beside the warehouse file),
    then refresh the published snapshot (incrementally; rebuilt whole with ``force``)."""
    logger = get_run_logger()
    target = warehouse_file(warehouse)
    with hold_warehouse(target, lock_wait_seconds) as con:
        result = export_views(target, exports, sessions, force)
        levels_and_alerts(target, exports, list(result.sessions))  # <exports>/levels and $GEX_ALERT_URLS
        snap = refresh_snapshot(con, target, full=force)  # what readers open while a writer holds the warehouse
    logger.info("published snapshot: %d tables, %d rows in %.2f s -> %s", len(snap.tables), snap.rows, snap.seconds, snap.path)
    logger.info("exported %d views x %d sessions (%d (underlying, session) pairs changed): %d files, %d rows -> %s",
                len(result.views), len(result.rewritten_sessions), len(result.sessions), result.files, result.rows,
                result.root)
    return result


if __name__ == "__main__":
    publish(sys.argv[1] if len(sys.argv) > 1 else None, sys.argv[2] if len(sys.argv) > 2 else None)
