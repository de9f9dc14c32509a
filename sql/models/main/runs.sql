-- PUBLISHED (docs/sql-contract.md): mart.runs under a stable name in the main schema (a log of computation attempts).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.runs AS
SELECT
    run_id,
    flow,
    session,
    underlying,
    rows_in,
    rows_out,
    status,
    started_at,
    finished_at,
    duration_s,
    code_version,
    conventions,
    message,
    flow_run_id
FROM mart.runs;
COMMENT ON VIEW main.runs IS 'One row per computation attempt of an (underlying, session) (a log: rows accumulate; times are wall-clock)';
COMMENT ON COLUMN main.runs.run_id IS 'Unique id of the attempt (UUID)';
COMMENT ON COLUMN main.runs.flow IS 'What ran: compute, ...';
COMMENT ON COLUMN main.runs.session IS 'As-of trading session computed (New York date)';
COMMENT ON COLUMN main.runs.underlying IS 'Normalised ticker without caret';
COMMENT ON COLUMN main.runs.rows_in IS 'Contracts read from the warehouse, count';
COMMENT ON COLUMN main.runs.rows_out IS 'Mart rows written, count';
COMMENT ON COLUMN main.runs.status IS 'ok or failed';
COMMENT ON COLUMN main.runs.started_at IS 'Wall-clock start, UTC';
COMMENT ON COLUMN main.runs.finished_at IS 'Wall-clock end, UTC';
COMMENT ON COLUMN main.runs.duration_s IS 'finished_at - started_at, seconds';
COMMENT ON COLUMN main.runs.code_version IS 'Code versions (package versions)';
COMMENT ON COLUMN main.runs.conventions IS 'JSON object of the conventions used';
COMMENT ON COLUMN main.runs.message IS 'Warnings or the error, free text';
COMMENT ON COLUMN main.runs.flow_run_id IS 'Prefect flow run id of the attempt (pipelines/); NULL when run by gex compute';
