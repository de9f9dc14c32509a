-- The current chain of each (underlying, session): snapshot-wide facts of the file it came from, plus the
-- completeness checks made at load time. Re-loading a session replaces its row (and its quotes).
CREATE TABLE IF NOT EXISTS raw.chain_snapshots (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    load_id VARCHAR NOT NULL,
    snapshot_ts TIMESTAMPTZ,
    valuation_ts TIMESTAMPTZ NOT NULL,
    header_date DATE,
    intraday BOOLEAN NOT NULL,
    spot DOUBLE NOT NULL,
    underlying_name VARCHAR,
    source_format VARCHAR NOT NULL,
    contracts BIGINT NOT NULL,
    expired_contracts BIGINT NOT NULL,
    expirations INTEGER NOT NULL,
    first_expiration DATE,
    last_expiration DATE,
    partial_chain BOOLEAN NOT NULL,
    partial_reason VARCHAR,
    PRIMARY KEY (underlying, session)
);
COMMENT ON TABLE raw.chain_snapshots IS 'One row per (underlying, session) chain currently loaded: snapshot facts and completeness flags';
COMMENT ON COLUMN raw.chain_snapshots.session IS 'As-of session: last NYSE session whose open is at or before snapshot_ts';
COMMENT ON COLUMN raw.chain_snapshots.snapshot_ts IS 'Vendor snapshot instant, UTC';
COMMENT ON COLUMN raw.chain_snapshots.valuation_ts IS 'Instant models value at: snapshot_ts if intraday, else the session close (UTC)';
COMMENT ON COLUMN raw.chain_snapshots.header_date IS 'Calendar date printed in the vendor header (New York); differs from session for weekend/evening snapshots';
COMMENT ON COLUMN raw.chain_snapshots.intraday IS 'Snapshot taken before the session close (its spot is not a close)';
COMMENT ON COLUMN raw.chain_snapshots.spot IS 'Underlying price the snapshot reports, currency per share';
COMMENT ON COLUMN raw.chain_snapshots.contracts IS 'Contracts loaded into raw.chain_quotes, count';
COMMENT ON COLUMN raw.chain_snapshots.expired_contracts IS 'Loaded contracts already settled at valuation_ts (settlement_ts <= valuation_ts), excluded from models, count';
COMMENT ON COLUMN raw.chain_snapshots.expirations IS 'Distinct unexpired expirations (expiration >= session), count';
COMMENT ON COLUMN raw.chain_snapshots.partial_chain IS 'Looks month-filtered or truncated (gex.coverage.chain_coverage): its totals are not the underlying''s';
COMMENT ON COLUMN raw.chain_snapshots.partial_reason IS 'Why partial_chain is set';
COMMENT ON COLUMN raw.chain_snapshots.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, SPY, VIX';
COMMENT ON COLUMN raw.chain_snapshots.load_id IS 'raw.load_manifest.load_id of the file the chain came from';
COMMENT ON COLUMN raw.chain_snapshots.underlying_name IS 'Long name of the underlying as the vendor header writes it';
COMMENT ON COLUMN raw.chain_snapshots.source_format IS 'Reader that produced the chain (cboe_csv, cboe_dat, cboe_json, ...)';
COMMENT ON COLUMN raw.chain_snapshots.first_expiration IS 'Nearest unexpired expiration (>= session), New York date';
COMMENT ON COLUMN raw.chain_snapshots.last_expiration IS 'Furthest expiration, New York date';
