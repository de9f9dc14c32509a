-- Other providers' daily GEX series, for comparison only (gex.reference.EXTERNAL_GEX_SCHEMA): each provider
-- has its own positioning model, so compare sign and rank, not level. One value per (provider,
-- underlying, session); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.external_gex (
    load_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    gex_usd DOUBLE NOT NULL,
    dix DOUBLE,
    underlying_close DOUBLE,
    source_line BIGINT NOT NULL
);
COMMENT ON TABLE raw.external_gex IS 'Third-party daily GEX series (e.g. SqueezeMetrics), as published';
COMMENT ON COLUMN raw.external_gex.provider IS 'Who published it (squeezemetrics, ...)';
COMMENT ON COLUMN raw.external_gex.session IS 'Trading session (New York date)';
COMMENT ON COLUMN raw.external_gex.gex_usd IS 'Provider GEX as published, US dollars (SqueezeMetrics: dollars dealers trade per 1% move, their model)';
COMMENT ON COLUMN raw.external_gex.dix IS 'SqueezeMetrics dark index, fraction 0..1 (null for other providers)';
COMMENT ON COLUMN raw.external_gex.underlying_close IS 'Close the provider printed beside the number, currency per share';
COMMENT ON COLUMN raw.external_gex.source_line IS '1-based line in the source file';
COMMENT ON COLUMN raw.external_gex.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.external_gex.underlying IS 'Normalised ticker the series is about (SPX)';
