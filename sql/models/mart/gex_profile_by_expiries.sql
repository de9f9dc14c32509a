COMMENT ON TABLE mart.gex_profile_by_expiries IS 'Sticky-strike dealer GEX of each expiry filter but all (that one is mart.gex_profile) at hypothetical spots on the conventions'' grid, dollars per 1% move of the underlying; no rows for an empty filter';
COMMENT ON COLUMN mart.gex_profile_by_expiries.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_profile_by_expiries.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_profile_by_expiries.valuation_ts IS 'Instant the snapshot was valued at, UTC (key)';
COMMENT ON COLUMN mart.gex_profile_by_expiries.preset IS 'Conventions the row was computed under (key): native, perfiliev, perfiliev-early, gflows';
COMMENT ON COLUMN mart.gex_profile_by_expiries.expiries IS 'Expiry filter (key): 0dte, ex-0dte, ex-next-expiry, ex-next-monthly, monthly (see mart.expiry_views.expiries)';
COMMENT ON COLUMN mart.gex_profile_by_expiries.spot_level IS 'Hypothetical level of the underlying, currency per share';
COMMENT ON COLUMN mart.gex_profile_by_expiries.gex_usd_per_1pct IS 'Dealer GEX of the filter''s contracts if the underlying were at spot_level, dollars per 1% move of the underlying';
