-- PUBLISHED (docs/sql-contract.md): the dealer-gamma regime per (underlying, session) with its stretches.
-- A stretch is a run of consecutive computed sessions of one underlying with the same regime.
CREATE OR REPLACE VIEW main.regime_history AS
WITH ordered AS (
    SELECT
        session,
        underlying,
        regime,
        spot,
        total_gex_usd_per_1pct,
        preset,
        lag(regime) OVER (PARTITION BY underlying, preset ORDER BY session) AS previous_regime,
        row_number() OVER (PARTITION BY underlying, preset ORDER BY session) AS nth_session
    FROM mart.regime_daily
    SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
    WHERE core.preset_selected(preset)
),
stretches AS (
    SELECT
        *,
        nth_session > 1 AND regime IS DISTINCT FROM previous_regime AS regime_changed,
        sum(CASE WHEN nth_session = 1 OR regime IS DISTINCT FROM previous_regime THEN 1 ELSE 0 END)
            OVER (PARTITION BY underlying, preset ORDER BY session ROWS UNBOUNDED PRECEDING) AS regime_stretch
    FROM ordered
)
SELECT
    session,
    underlying,
    regime,
    previous_regime,
    regime_changed,
    CAST(row_number() OVER (PARTITION BY underlying, preset, regime_stretch ORDER BY session) AS BIGINT) AS days_in_regime,
    CAST(regime_stretch AS BIGINT) AS regime_stretch,
    min(session) OVER (PARTITION BY underlying, preset, regime_stretch) AS regime_started,
    spot,
    total_gex_usd_per_1pct,
    preset
FROM stretches;
COMMENT ON VIEW main.regime_history IS 'Dealer-gamma regime per (underlying, session) with the previous session''s regime, change flag and the length of the current stretch (computed sessions)';
COMMENT ON COLUMN main.regime_history.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.regime_history.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.regime_history.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.regime_history.previous_regime IS 'Regime of the previous computed session of the underlying; NULL on its first';
COMMENT ON COLUMN main.regime_history.regime_changed IS 'regime differs from previous_regime (false on the first computed session)';
COMMENT ON COLUMN main.regime_history.days_in_regime IS 'Computed sessions in the current regime stretch including this one, count (1 on a change)';
COMMENT ON COLUMN main.regime_history.regime_stretch IS 'Number of the regime stretch within the underlying, 1 = the first computed session''s (stable while sessions are appended)';
COMMENT ON COLUMN main.regime_history.regime_started IS 'First session of the current regime stretch (New York date); with underlying it identifies the stretch';
COMMENT ON COLUMN main.regime_history.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.regime_history.total_gex_usd_per_1pct IS 'Net dealer GEX at spot (the conventions'' spot gamma), dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_history.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
