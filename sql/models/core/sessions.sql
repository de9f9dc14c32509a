-- One row per loaded (underlying, session): the chain the daily views describe, the end-of-day snapshot when
-- one is loaded, else the latest intraday one (core.snapshots lists them all).
CREATE OR REPLACE VIEW core.sessions AS
SELECT *
FROM core.snapshots
QUALIFY row_number() OVER (PARTITION BY underlying, session ORDER BY intraday, valuation_ts DESC) = 1;
COMMENT ON VIEW core.sessions IS 'The daily chain of each loaded (underlying, session) (end-of-day snapshot, else the latest intraday one): spot (currency per share), snapshot/valuation instants (UTC), partial-chain and expired-row flags';
COMMENT ON COLUMN core.sessions.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN core.sessions.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN core.sessions.spot IS 'Underlying price the snapshot reports, currency per share';
COMMENT ON COLUMN core.sessions.snapshot_ts IS 'Vendor snapshot instant, UTC';
COMMENT ON COLUMN core.sessions.valuation_ts IS 'Instant models value at: snapshot_ts if intraday, else the session close (UTC)';
COMMENT ON COLUMN core.sessions.header_date IS 'Calendar date printed in the vendor header (New York)';
COMMENT ON COLUMN core.sessions.intraday IS 'Snapshot taken before the session close (its spot is not a close)';
COMMENT ON COLUMN core.sessions.partial_chain IS 'Looks month-filtered or truncated: its totals are not the underlying''s';
COMMENT ON COLUMN core.sessions.partial_reason IS 'Why partial_chain is set';
COMMENT ON COLUMN core.sessions.has_expired_rows IS 'Some loaded contracts had already settled at valuation_ts (models exclude them)';
COMMENT ON COLUMN core.sessions.contracts IS 'Contracts loaded, count';
COMMENT ON COLUMN core.sessions.expired_contracts IS 'Loaded contracts already settled at valuation_ts, count';
COMMENT ON COLUMN core.sessions.model_contracts IS 'contracts - expired_contracts: contracts the models may value, count';
COMMENT ON COLUMN core.sessions.expirations IS 'Distinct unexpired expirations, count';
COMMENT ON COLUMN core.sessions.first_expiration IS 'Nearest unexpired expiration, New York date';
COMMENT ON COLUMN core.sessions.last_expiration IS 'Furthest expiration, New York date';
COMMENT ON COLUMN core.sessions.source_format IS 'Reader that produced the chain (cboe_csv, cboe_json, datashop, ...)';
COMMENT ON COLUMN core.sessions.load_id IS 'raw.load_manifest.load_id of the file the chain came from';
COMMENT ON COLUMN core.sessions.source_file IS 'Path the chain''s file was first ingested from';
