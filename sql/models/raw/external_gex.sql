COMMENT ON TABLE raw.external_gex IS 'Third-party daily GEX series (e.g. SqueezeMetrics), as published';
COMMENT ON COLUMN raw.external_gex.provider IS 'Who published it (squeezemetrics, ...)';
COMMENT ON COLUMN raw.external_gex.session IS 'Trading session (New York date)';
COMMENT ON COLUMN raw.external_gex.gex_usd IS 'Provider GEX as published, US dollars (SqueezeMetrics: dollars dealers trade per 1% move, their model)';
COMMENT ON COLUMN raw.external_gex.dix IS 'SqueezeMetrics dark index, fraction 0..1 (null for other providers)';
COMMENT ON COLUMN raw.external_gex.underlying_close IS 'Close the provider printed beside the number, currency per share';
COMMENT ON COLUMN raw.external_gex.source_line IS '1-based line in the source file';
COMMENT ON COLUMN raw.external_gex.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.external_gex.underlying IS 'Normalised ticker the series is about (SPX)';
