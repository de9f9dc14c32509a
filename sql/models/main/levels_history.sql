-- PUBLISHED (docs/sql-contract.md): key strikes per (underlying, session) and their moves since the previous session.
CREATE OR REPLACE VIEW main.levels_history AS
SELECT
    session,
    underlying,
    spot,
    call_wall,
    put_wall,
    abs_gamma_strike,
    spot - lag(spot) OVER w AS spot_change,
    call_wall - lag(call_wall) OVER w AS call_wall_change,
    put_wall - lag(put_wall) OVER w AS put_wall_change,
    abs_gamma_strike - lag(abs_gamma_strike) OVER w AS abs_gamma_strike_change,
    most_negative_net_strike,
    preset
FROM mart.regime_daily
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset)
WINDOW w AS (PARTITION BY underlying, preset ORDER BY session);
COMMENT ON VIEW main.levels_history IS 'Spot, call wall, put wall and absolute gamma strike per (underlying, session) with their changes since the previous computed session; currency per share';
COMMENT ON COLUMN main.levels_history.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.levels_history.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.levels_history.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.levels_history.call_wall IS 'Strike >= spot with the largest call GEX, currency per share';
COMMENT ON COLUMN main.levels_history.put_wall IS 'Strike <= spot with the most negative put GEX, currency per share';
COMMENT ON COLUMN main.levels_history.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX, currency per share';
COMMENT ON COLUMN main.levels_history.spot_change IS 'spot minus the previous computed session''s, currency per share; NULL on the first';
COMMENT ON COLUMN main.levels_history.call_wall_change IS 'call_wall minus the previous computed session''s, currency per share; NULL on the first or without a wall';
COMMENT ON COLUMN main.levels_history.put_wall_change IS 'put_wall minus the previous computed session''s, currency per share; NULL on the first or without a wall';
COMMENT ON COLUMN main.levels_history.abs_gamma_strike_change IS 'abs_gamma_strike minus the previous computed session''s, currency per share; NULL on the first';
COMMENT ON COLUMN main.levels_history.most_negative_net_strike IS 'Strike with the most negative net GEX, currency per share';
COMMENT ON COLUMN main.levels_history.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
