-- One row per loaded snapshot (underlying, session, valuation_ts): the session's end-of-day chain and every intraday one; spot, snapshot and valuation instants, and the
-- flags a consumer must see before trusting a total (partial chain, expired rows excluded, intraday).
CREATE OR REPLACE VIEW core.snapshots AS
SELECT
    s.underlying,
    s.session,
    s.spot,
    s.snapshot_ts,
    s.valuation_ts,
    s.header_date,
    s.intraday,
    s.partial_chain,
    s.partial_reason,
    s.expired_contracts > 0 AS has_expired_rows,
    s.contracts,
    s.expired_contracts,
    s.contracts - s.expired_contracts AS model_contracts,
    s.expirations,
    s.first_expiration,
    s.last_expiration,
    s.source_format,
    s.load_id,
    m.file_path AS source_file
FROM raw.chain_snapshots AS s
LEFT JOIN raw.load_manifest AS m ON m.load_id = s.load_id;
COMMENT ON VIEW core.snapshots IS 'Every loaded snapshot (underlying, session, valuation_ts), end-of-day and intraday: spot (currency per share), snapshot/valuation instants (UTC), partial-chain and expired-row flags';
COMMENT ON COLUMN core.snapshots.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN core.snapshots.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN core.snapshots.spot IS 'Underlying price the snapshot reports, currency per share';
COMMENT ON COLUMN core.snapshots.snapshot_ts IS 'Vendor snapshot instant, UTC';
COMMENT ON COLUMN core.snapshots.valuation_ts IS 'Instant models value at: snapshot_ts if intraday, else the session close (UTC)';
COMMENT ON COLUMN core.snapshots.header_date IS 'Calendar date printed in the vendor header (New York)';
COMMENT ON COLUMN core.snapshots.intraday IS 'Snapshot taken before the session close (its spot is not a close)';
COMMENT ON COLUMN core.snapshots.partial_chain IS 'Looks month-filtered or truncated: its totals are not the underlying''s';
COMMENT ON COLUMN core.snapshots.partial_reason IS 'Why partial_chain is set';
COMMENT ON COLUMN core.snapshots.has_expired_rows IS 'Some loaded contracts had already settled at valuation_ts (models exclude them)';
COMMENT ON COLUMN core.snapshots.contracts IS 'Contracts loaded, count';
COMMENT ON COLUMN core.snapshots.expired_contracts IS 'Loaded contracts already settled at valuation_ts, count';
COMMENT ON COLUMN core.snapshots.model_contracts IS 'contracts - expired_contracts: contracts the models may value, count';
COMMENT ON COLUMN core.snapshots.expirations IS 'Distinct unexpired expirations, count';
COMMENT ON COLUMN core.snapshots.first_expiration IS 'Nearest unexpired expiration, New York date';
COMMENT ON COLUMN core.snapshots.last_expiration IS 'Furthest expiration, New York date';
COMMENT ON COLUMN core.snapshots.source_format IS 'Reader that produced the chain (cboe_csv, cboe_json, datashop, ...)';
COMMENT ON COLUMN core.snapshots.load_id IS 'raw.load_manifest.load_id of the file the chain came from';
COMMENT ON COLUMN core.snapshots.source_file IS 'Path the chain''s file was first ingested from';
