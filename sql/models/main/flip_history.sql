-- PUBLISHED (docs/sql-contract.md): the gamma flip against spot over time, per (underlying, session).
CREATE OR REPLACE VIEW main.flip_history AS
SELECT
    r.session,
    r.underlying,
    r.spot,
    r.gamma_flip,
    r.flip_distance_pct,
    r.regime,
    r.gamma_flip - lag(r.gamma_flip) OVER w AS gamma_flip_change,
    r.spot - lag(r.spot) OVER w AS spot_change,
    CAST((SELECT count(*) FROM mart.flip_crossings AS x WHERE x.underlying = r.underlying AND x.session = r.session
                AND x.valuation_ts = r.valuation_ts
                AND x.preset = r.preset)
         AS BIGINT) AS crossings,
    r.preset
FROM mart.regime_daily AS r
SEMI JOIN core.daily_snapshot AS d USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(r.preset)
WINDOW w AS (PARTITION BY r.underlying, r.preset ORDER BY r.session);
COMMENT ON VIEW main.flip_history IS 'Gamma flip vs spot per (underlying, session), with the changes since the previous computed session; levels currency per share';
COMMENT ON COLUMN main.flip_history.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.flip_history.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.flip_history.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.flip_history.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN main.flip_history.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.flip_history.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.flip_history.gamma_flip_change IS 'gamma_flip minus the previous computed session''s, currency per share; NULL when either has no flip';
COMMENT ON COLUMN main.flip_history.spot_change IS 'spot minus the previous computed session''s, currency per share; NULL on the first';
COMMENT ON COLUMN main.flip_history.crossings IS 'Zero crossings of the profile inside the flip window (main.flip_crossings), count';
COMMENT ON COLUMN main.flip_history.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
