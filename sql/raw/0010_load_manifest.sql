-- One row per distinct source file content (sha256) that ingest has seen: what it was, what came of it.
-- Accounting, in contract records (a Cboe quote-table line holds 2: a call and a put):
--   rows_in = rows_loaded + rows_rejected, exactly; rows_excluded <= rows_loaded.
-- started_at / finished_at are the only volatile columns of the warehouse (excluded from content hashes).
CREATE TABLE IF NOT EXISTS raw.load_manifest (
    load_id VARCHAR PRIMARY KEY,
    file_path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    format VARCHAR,
    kind VARCHAR CHECK (kind IN ('chain', 'reference')),
    session DATE,
    underlying VARCHAR,
    chains INTEGER NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_excluded BIGINT NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('loaded', 'superseded', 'rejected', 'failed')),
    superseded_by VARCHAR,
    warnings VARCHAR[] NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    message VARCHAR,
    CHECK (rows_in = rows_loaded + rows_rejected),
    CHECK (rows_excluded <= rows_loaded)
);
COMMENT ON TABLE raw.load_manifest IS 'One row per distinct file content ingested: format, as-of session, row accounting (contract records), outcome';
COMMENT ON COLUMN raw.load_manifest.load_id IS 'First 16 hex digits of sha256: the same bytes always get the same load_id';
COMMENT ON COLUMN raw.load_manifest.file_path IS 'Absolute path the content was first ingested from';
COMMENT ON COLUMN raw.load_manifest.sha256 IS 'SHA-256 of the file bytes, hex';
COMMENT ON COLUMN raw.load_manifest.size_bytes IS 'File size, bytes';
COMMENT ON COLUMN raw.load_manifest.format IS 'Source format (gex_sources registry name), null when the format could not be told';
COMMENT ON COLUMN raw.load_manifest.kind IS 'chain (option quotes) or reference (open interest, rates, closes, external GEX)';
COMMENT ON COLUMN raw.load_manifest.session IS 'As-of trading session of the chain (null when the file holds several sessions or none)';
COMMENT ON COLUMN raw.load_manifest.underlying IS 'Underlying ticker(s) of the file, comma-separated when several';
COMMENT ON COLUMN raw.load_manifest.chains IS 'Number of (underlying, session) chains the file holds';
COMMENT ON COLUMN raw.load_manifest.rows_in IS 'Contract records in the file (reference files: data records), count';
COMMENT ON COLUMN raw.load_manifest.rows_loaded IS 'Records written to raw tables, count';
COMMENT ON COLUMN raw.load_manifest.rows_rejected IS 'Records sent to raw.quarantine (sum of its records column for this load), count';
COMMENT ON COLUMN raw.load_manifest.rows_excluded IS 'Loaded records the models exclude (expired: settlement_ts <= valuation_ts), count';
COMMENT ON COLUMN raw.load_manifest.status IS 'loaded (current), superseded (every chain replaced by a later load), rejected (every record quarantined, nothing replaced), failed (file-level error, no data rows)';
COMMENT ON COLUMN raw.load_manifest.superseded_by IS 'load_id of the load that last replaced one of this load''s chains';
COMMENT ON COLUMN raw.load_manifest.warnings IS 'Reader and loader warnings, one per element';
COMMENT ON COLUMN raw.load_manifest.started_at IS 'When the last attempt started (volatile: excluded from content hashes)';
COMMENT ON COLUMN raw.load_manifest.finished_at IS 'When the last attempt finished (volatile: excluded from content hashes)';
COMMENT ON COLUMN raw.load_manifest.message IS 'The error for a failed file, else a one-line summary';
