"""Prefect flows over the GEX libraries (issue 4): one flow per module, tasks as thin wrappers.

``ingest`` (landing folder -> warehouse), ``compute`` (pending sessions -> marts), ``nightly`` (ingest, then
compute the latest session of each underlying, with a table artifact), ``intraday`` (one cycle every N
minutes of market hours: fetch, ingest, compute the snapshots, publish), ``backfill`` (a date range, in
parallel). Shared tasks live in :mod:`pipelines.tasks`. See ``docs/flows.md``.

Rules: the domain code stays in ``packages/gex*`` (no Prefect there); tasks receive paths and settings,
never a DuckDB connection; the flow's own process is the warehouse's only writer, and only the flow's
thread opens the warehouse (pure computation runs in the task runner's threads).
"""
