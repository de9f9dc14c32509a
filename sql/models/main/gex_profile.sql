-- PUBLISHED (docs/sql-contract.md): mart.gex_profile under a stable name in the main schema (per (underlying, session)).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.gex_profile AS
SELECT
    session,
    underlying,
    spot_level,
    gex_usd_per_1pct,
    preset
FROM mart.gex_profile
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.gex_profile IS 'Sticky-strike dealer GEX re-evaluated at hypothetical spots on the conventions'' grid, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_profile.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.gex_profile.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.gex_profile.spot_level IS 'Hypothetical level of the underlying, currency per share';
COMMENT ON COLUMN main.gex_profile.gex_usd_per_1pct IS 'Total dealer GEX if the underlying were at spot_level, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_profile.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
