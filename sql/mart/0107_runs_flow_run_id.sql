-- The orchestrator's run that made each attempt (a Prefect flow run id; NULL for `gex compute`).
ALTER TABLE mart.runs ADD COLUMN IF NOT EXISTS flow_run_id VARCHAR;
COMMENT ON COLUMN mart.runs.flow_run_id IS 'Prefect flow run id of the attempt (pipelines/); NULL when run by gex compute';
