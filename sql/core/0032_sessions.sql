-- One row per (underlying, session) chain in the warehouse: spot, snapshot and valuation instants, and the
-- flags a consumer must see before trusting a total (partial chain, expired rows excluded, intraday).
CREATE OR REPLACE VIEW core.sessions AS
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
COMMENT ON VIEW core.sessions IS 'Chains loaded per (underlying, session): spot (currency per share), snapshot/valuation instants (UTC), partial-chain and expired-row flags';
