-- Third parties' computed GEX results for one snapshot (gflows-style dashboards' JSON output), kept to
-- compare with this project's numbers (gex.reference.DERIVED_RESULTS_SCHEMA). Strike rows have strike set;
-- one summary row per expiry_group has strike null and carries total_gex_bn and zero_gamma.
-- One result set per (provider, underlying, session); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.derived_results (
    load_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    expiry_group VARCHAR NOT NULL,
    strike DOUBLE,
    call_gex_bn DOUBLE,
    put_gex_bn DOUBLE,
    net_gex_bn DOUBLE,
    zero_gamma DOUBLE,
    total_gex_bn DOUBLE,
    spot DOUBLE,
    source_line BIGINT NOT NULL
);
COMMENT ON TABLE raw.derived_results IS 'Third-party computed results per snapshot: per-strike GEX and per-group totals and zero-gamma levels';
COMMENT ON COLUMN raw.derived_results.expiry_group IS 'Provider expiry selection: all, monthly, 0dte, opex, ...';
COMMENT ON COLUMN raw.derived_results.strike IS 'Strike, currency per share (null on the group summary row)';
COMMENT ON COLUMN raw.derived_results.call_gex_bn IS 'Call GEX, billions of dollars per 1% move, as published';
COMMENT ON COLUMN raw.derived_results.put_gex_bn IS 'Put GEX, billions of dollars per 1% move, as published';
COMMENT ON COLUMN raw.derived_results.net_gex_bn IS 'Call + put GEX, billions of dollars per 1% move';
COMMENT ON COLUMN raw.derived_results.zero_gamma IS 'Provider zero-gamma (flip) level, index points (summary row)';
COMMENT ON COLUMN raw.derived_results.total_gex_bn IS 'Group total GEX, billions of dollars per 1% move (summary row)';
COMMENT ON COLUMN raw.derived_results.spot IS 'Spot the provider used, currency per share';
COMMENT ON COLUMN raw.derived_results.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.derived_results.provider IS 'Who computed the results (gflows, ...)';
COMMENT ON COLUMN raw.derived_results.underlying IS 'Normalised ticker of the chain the results were computed from';
COMMENT ON COLUMN raw.derived_results.session IS 'As-of session of that chain (New York date)';
COMMENT ON COLUMN raw.derived_results.source_line IS '1-based record number in the flattened output';
