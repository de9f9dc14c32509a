-- Daily closes of underlyings, from reference files (source = the reader's format name) and from chain
-- snapshots taken at or after the session close (source = 'chain': the snapshot's spot). Intraday
-- snapshots give no close. One row per (underlying, session, source); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.underlying_closes (
    load_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    "open" DOUBLE,
    high DOUBLE,
    low DOUBLE,
    "close" DOUBLE NOT NULL,
    source_line BIGINT
);
COMMENT ON TABLE raw.underlying_closes IS 'Daily bars (close required) per underlying, session and source (chain = spot of an end-of-day chain snapshot)';
COMMENT ON COLUMN raw.underlying_closes.source IS 'chain (derived from raw.chain_snapshots) or the reference reader''s format name';
COMMENT ON COLUMN raw.underlying_closes.session IS 'Trading session (New York date)';
COMMENT ON COLUMN raw.underlying_closes."open" IS 'Opening price, currency per share (null when the source has none)';
COMMENT ON COLUMN raw.underlying_closes.high IS 'High, currency per share (nullable)';
COMMENT ON COLUMN raw.underlying_closes.low IS 'Low, currency per share (nullable)';
COMMENT ON COLUMN raw.underlying_closes."close" IS 'Close, currency per share';
COMMENT ON COLUMN raw.underlying_closes.source_line IS '1-based line in the source file (null for chain-derived rows)';
COMMENT ON COLUMN raw.underlying_closes.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.underlying_closes.underlying IS 'Normalised ticker without caret: SPX, SPY, ...';
