-- PUBLISHED (docs/sql-contract.md): mart.flip_crossings under a stable name in the main schema (per (underlying, session)).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.flip_crossings AS
SELECT
    session,
    underlying,
    crossing,
    is_flip,
    preset
FROM mart.flip_crossings
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.flip_crossings IS 'Every zero crossing of the GEX profile inside the flip window; is_flip marks the gamma flip (the crossing the conventions pick)';
COMMENT ON COLUMN main.flip_crossings.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.flip_crossings.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.flip_crossings.crossing IS 'Level of the underlying where total dealer GEX changes sign, currency per share';
COMMENT ON COLUMN main.flip_crossings.is_flip IS 'This crossing is the gamma flip (native: nearest spot; presets: first grid crossing)';
COMMENT ON COLUMN main.flip_crossings.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
