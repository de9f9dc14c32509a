-- Sticky-strike dealer GEX re-evaluated at hypothetical spots on the conventions' grid, dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_profile (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE,
    PRIMARY KEY (session, underlying, spot_level)
);
COMMENT ON TABLE mart.gex_profile IS 'Sticky-strike dealer GEX re-evaluated at hypothetical spots on the conventions'' grid, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_profile.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_profile.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_profile.spot_level IS 'Hypothetical level of the underlying, currency per share';
COMMENT ON COLUMN mart.gex_profile.gex_usd_per_1pct IS 'Total dealer GEX if the underlying were at spot_level, dollars per 1% move of the underlying';
