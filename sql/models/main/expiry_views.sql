-- PUBLISHED (docs/sql-contract.md): mart.expiry_views under a stable name in the main schema: per (underlying,
-- session) one row per expiry filter (all, 0dte, ex-0dte, ex-next-expiry, ex-next-monthly, monthly) of the
-- daily snapshot (core.daily_snapshot: the end-of-day snapshot, else the latest intraday one).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.expiry_views AS
SELECT
    session,
    underlying,
    valuation_ts,
    expiries,
    contracts,
    expirations,
    total_gex_usd_per_1pct,
    call_gex_usd_per_1pct,
    put_gex_usd_per_1pct,
    gex_at_spot_model_usd_per_1pct,
    gamma_flip,
    flip_crossings,
    flip_distance_pct,
    regime,
    call_wall,
    put_wall,
    abs_gamma_strike,
    gross_gex_share,
    excluded_expiration,
    preset
FROM mart.expiry_views
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.expiry_views IS 'Per (underlying, session), one row per expiry filter: the filter''s dealer GEX at spot, exact flip and every crossing, regime, walls and share of the full chain''s gross |GEX|; GEX in dollars per 1% move of the underlying; filter definitions in docs/conventions.md';
COMMENT ON COLUMN main.expiry_views.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.expiry_views.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.expiry_views.valuation_ts IS 'Instant the models valued at, UTC: the daily snapshot''s (core.daily_snapshot: the end-of-day snapshot, else the latest intraday one)';
COMMENT ON COLUMN main.expiry_views.expiries IS 'Expiry filter: all, 0dte (settling by the next session close after valuation_ts), ex-0dte, ex-next-expiry (without the nearest unexpired expiration date), ex-next-monthly (without the nearest unexpired standard monthly), monthly (standard monthlies only)';
COMMENT ON COLUMN main.expiry_views.contracts IS 'Contracts the model valued in the filter, count (0: the filter is empty and levels are NULL)';
COMMENT ON COLUMN main.expiry_views.expirations IS 'Distinct expiration dates of those contracts, count';
COMMENT ON COLUMN main.expiry_views.total_gex_usd_per_1pct IS 'Net dealer GEX of the filter at spot (the conventions'' spot gamma), dollars per 1% move of the underlying; 0 for an empty filter';
COMMENT ON COLUMN main.expiry_views.call_gex_usd_per_1pct IS 'Dealer GEX of the filter''s calls at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.expiry_views.put_gex_usd_per_1pct IS 'Dealer GEX of the filter''s puts at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.expiry_views.gex_at_spot_model_usd_per_1pct IS 'Net dealer GEX of the filter at spot from the profile''s Black-Scholes model, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.expiry_views.gamma_flip IS 'Crossing of the filter''s profile nearest spot, currency per share (same window and method as the full analysis); NULL when none or the filter is empty';
COMMENT ON COLUMN main.expiry_views.flip_crossings IS 'Every level where the filter''s profile changes sign inside the flip window, ascending, currency per share; empty list when none';
COMMENT ON COLUMN main.expiry_views.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.expiry_views.regime IS 'positive (dealers long gamma), negative or neutral from the filter''s contracts only, by the full analysis'' rule; NULL for an empty filter';
COMMENT ON COLUMN main.expiry_views.call_wall IS 'Strike >= spot with the largest call GEX of the filter, currency per share';
COMMENT ON COLUMN main.expiry_views.put_wall IS 'Strike <= spot with the most negative put GEX of the filter, currency per share';
COMMENT ON COLUMN main.expiry_views.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX of the filter, currency per share';
COMMENT ON COLUMN main.expiry_views.gross_gex_share IS 'Gross |GEX| of the filter / gross |GEX| of the full chain (model gamma), fraction 0..1; the 0dte row equals regime_daily.zero_dte_gamma_share';
COMMENT ON COLUMN main.expiry_views.excluded_expiration IS 'Expiration date the filter dropped (ex-next-expiry, ex-next-monthly); NULL for the other filters or when there was none';
COMMENT ON COLUMN main.expiry_views.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
