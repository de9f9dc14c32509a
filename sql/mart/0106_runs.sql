-- One row per computation attempt of an (underlying, session) (a log: rows accumulate; times are wall-clock).
-- Appended by gex compute (gex_warehouse.compute.record_run); never replaced.
CREATE TABLE IF NOT EXISTS mart.runs (
    run_id VARCHAR NOT NULL,
    flow VARCHAR NOT NULL,
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    rows_in BIGINT,
    rows_out BIGINT,
    status VARCHAR NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    duration_s DOUBLE,
    code_version VARCHAR,
    conventions VARCHAR,
    message VARCHAR
);
COMMENT ON TABLE mart.runs IS 'One row per computation attempt of an (underlying, session) (a log: rows accumulate; times are wall-clock)';
COMMENT ON COLUMN mart.runs.run_id IS 'Unique id of the attempt (UUID)';
COMMENT ON COLUMN mart.runs.flow IS 'What ran: compute, ...';
COMMENT ON COLUMN mart.runs.session IS 'As-of trading session computed (New York date)';
COMMENT ON COLUMN mart.runs.underlying IS 'Normalised ticker without caret';
COMMENT ON COLUMN mart.runs.rows_in IS 'Contracts read from the warehouse, count';
COMMENT ON COLUMN mart.runs.rows_out IS 'Mart rows written, count';
COMMENT ON COLUMN mart.runs.status IS 'ok or failed';
COMMENT ON COLUMN mart.runs.started_at IS 'Wall-clock start, UTC';
COMMENT ON COLUMN mart.runs.finished_at IS 'Wall-clock end, UTC';
COMMENT ON COLUMN mart.runs.duration_s IS 'finished_at - started_at, seconds';
COMMENT ON COLUMN mart.runs.code_version IS 'Code versions (package versions)';
COMMENT ON COLUMN mart.runs.conventions IS 'JSON object of the conventions used';
COMMENT ON COLUMN mart.runs.message IS 'Warnings or the error, free text';
