-- PUBLISHED (docs/sql-contract.md): mart.gex_profile_by_expiries under a stable name in the main schema: the
-- profile of each expiry filter but all (main.gex_profile) per (underlying, session), of the daily snapshot
-- (core.daily_snapshot: end-of-day, else the latest intraday).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.gex_profile_by_expiries AS
SELECT
    session,
    underlying,
    valuation_ts,
    expiries,
    spot_level,
    gex_usd_per_1pct,
    preset
FROM mart.gex_profile_by_expiries
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.gex_profile_by_expiries IS 'Sticky-strike dealer GEX of each expiry filter (0dte, ex-0dte, ex-next-expiry, ex-next-monthly, monthly; all is main.gex_profile) at hypothetical spots on the conventions'' grid, dollars per 1% move of the underlying; no rows for an empty filter';
COMMENT ON COLUMN main.gex_profile_by_expiries.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.gex_profile_by_expiries.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.gex_profile_by_expiries.valuation_ts IS 'Instant the models valued at, UTC: the daily snapshot''s (core.daily_snapshot: the end-of-day snapshot, else the latest intraday one)';
COMMENT ON COLUMN main.gex_profile_by_expiries.expiries IS 'Expiry filter: 0dte, ex-0dte, ex-next-expiry, ex-next-monthly, monthly (see main.expiry_views.expiries)';
COMMENT ON COLUMN main.gex_profile_by_expiries.spot_level IS 'Hypothetical level of the underlying, currency per share';
COMMENT ON COLUMN main.gex_profile_by_expiries.gex_usd_per_1pct IS 'Dealer GEX of the filter''s contracts if the underlying were at spot_level, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_profile_by_expiries.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
