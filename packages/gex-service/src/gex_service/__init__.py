"""The service layer: what a job does with the warehouse, orchestrator-free.

``gex compute`` (the CLI) and the Prefect flows (``pipelines/``) call the same functions here; the flows add
retries, observability and parallel task runners by passing their tasks as the steps (``docs/architecture.md``).
"""
