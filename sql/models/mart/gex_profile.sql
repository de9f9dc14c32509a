COMMENT ON TABLE mart.gex_profile IS 'Sticky-strike dealer GEX re-evaluated at hypothetical spots on the conventions'' grid, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_profile.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_profile.valuation_ts IS 'Snapshot the row was computed from (key): its valuation instant, UTC (the snapshot''s own instant when taken before the close, else the session close; core.daily_snapshot picks the one the daily views publish)';
COMMENT ON COLUMN mart.gex_profile.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_profile.spot_level IS 'Hypothetical level of the underlying, currency per share';
COMMENT ON COLUMN mart.gex_profile.gex_usd_per_1pct IS 'Total dealer GEX if the underlying were at spot_level, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_profile.preset IS 'Conventions the row was computed under (key): native, perfiliev, perfiliev-early, gflows';
