-- PUBLISHED (docs/sql-contract.md): the cross-section of underlyings per session, ranked: net GEX, GEX relative
-- to the shares' average daily dollar volume, call-gamma share, distance to the flip, regime and its change.
-- Built on main.regime_daily (one row per underlying, session and preset: the end-of-day snapshot, else the
-- latest intraday one) and core.dollar_volume; filtered by preset like every published view (the windows and
-- ranks partition by preset, so SET VARIABLE preset = '*' ranks each preset's cross-section apart).
-- Ranks are dense (equal values share a rank, the next value gets the next integer), per (session, preset),
-- NULL where the measure is NULL. Sign conventions: GEX columns are the dealers' (classic: calls >= 0,
-- puts <= 0); call_gamma_share uses magnitudes, so it is the calls' share of gross gamma under any positioning.
CREATE OR REPLACE VIEW main.scanner AS
WITH daily AS (
    SELECT
        r.session,
        r.underlying,
        r.valuation_ts,
        r.spot,
        r.total_gex_usd_per_1pct,
        r.call_gex_usd_per_1pct,
        r.put_gex_usd_per_1pct,
        r.gamma_flip,
        r.flip_distance_pct,
        r.regime,
        r.zero_dte_gamma_share,
        r.partial_chain,
        r.data_stale,
        r.intraday,
        r.preset,
        lag(r.session) OVER w AS previous_session,
        lag(r.regime) OVER w AS previous_regime,
        r.total_gex_usd_per_1pct - lag(r.total_gex_usd_per_1pct) OVER w AS total_gex_change_usd_per_1pct
    FROM main.regime_daily AS r
    WINDOW w AS (PARTITION BY r.underlying, r.preset ORDER BY r.session)
),
measures AS (
    SELECT
        d.*,
        CASE WHEN abs(d.call_gex_usd_per_1pct) + abs(d.put_gex_usd_per_1pct) > 0
             THEN abs(d.call_gex_usd_per_1pct) / (abs(d.call_gex_usd_per_1pct) + abs(d.put_gex_usd_per_1pct))
        END AS call_gamma_share,
        v.adv_20d_usd,
        v.adv_20d_sessions,
        CASE WHEN v.adv_20d_usd > 0 THEN d.total_gex_usd_per_1pct / v.adv_20d_usd END AS gex_to_adv
    FROM daily AS d
    LEFT JOIN core.dollar_volume AS v ON v.underlying = d.underlying AND v.session = d.session
)
SELECT
    session,
    underlying,
    valuation_ts,
    spot,
    total_gex_usd_per_1pct,
    call_gex_usd_per_1pct,
    put_gex_usd_per_1pct,
    call_gamma_share,
    adv_20d_usd,
    adv_20d_sessions,
    gex_to_adv,
    gamma_flip,
    flip_distance_pct,
    regime,
    previous_session,
    previous_regime,
    previous_session IS NOT NULL AND regime IS DISTINCT FROM previous_regime AS regime_changed,
    total_gex_change_usd_per_1pct,
    CASE WHEN total_gex_usd_per_1pct IS NOT NULL THEN CAST(dense_rank() OVER (
        PARTITION BY session, preset ORDER BY total_gex_usd_per_1pct DESC NULLS LAST) AS BIGINT) END AS net_gex_rank,
    CASE WHEN gex_to_adv IS NOT NULL THEN CAST(dense_rank() OVER (
        PARTITION BY session, preset ORDER BY abs(gex_to_adv) DESC NULLS LAST) AS BIGINT) END AS gex_adv_rank,
    CASE WHEN call_gamma_share IS NOT NULL THEN CAST(dense_rank() OVER (
        PARTITION BY session, preset ORDER BY call_gamma_share DESC NULLS LAST) AS BIGINT) END AS call_share_rank,
    CASE WHEN flip_distance_pct IS NOT NULL THEN CAST(dense_rank() OVER (
        PARTITION BY session, preset ORDER BY abs(flip_distance_pct) ASC NULLS LAST) AS BIGINT) END AS flip_distance_rank,
    CAST(count(*) OVER (PARTITION BY session, preset) AS BIGINT) AS underlyings_in_session,
    zero_dte_gamma_share,
    partial_chain,
    data_stale,
    intraday,
    preset
FROM measures;
COMMENT ON VIEW main.scanner IS 'Underlyings ranked per session: net dealer GEX, GEX per average daily dollar volume of the shares, call-gamma share, distance to the gamma flip, regime and its change since the previous computed session; dense ranks per (session, preset); GEX in dollars per 1% move';
COMMENT ON COLUMN main.scanner.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.scanner.underlying IS 'Normalised ticker without caret: SPX, SPY, AAPL, ...';
COMMENT ON COLUMN main.scanner.valuation_ts IS 'Instant the models valued at, UTC (main.regime_daily: the end-of-day snapshot, else the latest intraday one)';
COMMENT ON COLUMN main.scanner.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.scanner.total_gex_usd_per_1pct IS 'Net dealer GEX at spot, dollars per 1% move of the underlying (main.regime_daily)';
COMMENT ON COLUMN main.scanner.call_gex_usd_per_1pct IS 'Dealer GEX of the calls at spot, dollars per 1% move (>= 0 under classic positioning: dealers long calls)';
COMMENT ON COLUMN main.scanner.put_gex_usd_per_1pct IS 'Dealer GEX of the puts at spot, dollars per 1% move (<= 0 under classic positioning: dealers short puts)';
COMMENT ON COLUMN main.scanner.call_gamma_share IS 'Calls'' share of gross gamma, |call GEX| / (|call GEX| + |put GEX|), fraction 0..1 (SqueezeMetrics'' cross-sectional call/(call+put) gamma; magnitudes, so the sign convention does not matter); NULL when both are 0';
COMMENT ON COLUMN main.scanner.adv_20d_usd IS 'Average daily dollar volume of the underlying''s shares, close * share volume over the last 20 bars (core.dollar_volume), dollars per session; NULL until closes with a volume column are loaded (indices have none)';
COMMENT ON COLUMN main.scanner.adv_20d_sessions IS 'Bars among the last 20 with a share volume behind adv_20d_usd, count 0..20; NULL when the session has no bar';
COMMENT ON COLUMN main.scanner.gex_to_adv IS 'total_gex_usd_per_1pct / adv_20d_usd: the dealers'' hedge for a 1% move as a fraction of a day''s dollar volume (0.05 = 5%), signed like GEX; NULL without a volume';
COMMENT ON COLUMN main.scanner.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN main.scanner.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.scanner.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.scanner.previous_session IS 'The underlying''s previous computed session (New York date); NULL on its first';
COMMENT ON COLUMN main.scanner.previous_regime IS 'Regime on previous_session; NULL on the first';
COMMENT ON COLUMN main.scanner.regime_changed IS 'regime differs from previous_regime (false on the underlying''s first computed session)';
COMMENT ON COLUMN main.scanner.total_gex_change_usd_per_1pct IS 'total_gex_usd_per_1pct minus previous_session''s, dollars per 1% move; NULL on the first';
COMMENT ON COLUMN main.scanner.net_gex_rank IS 'Dense rank of total_gex_usd_per_1pct in the session, 1 = most positive (largest long-gamma); ties share a rank';
COMMENT ON COLUMN main.scanner.gex_adv_rank IS 'Dense rank of |gex_to_adv| in the session, 1 = largest hedge relative to the shares'' dollar volume, either sign; ties share a rank; NULL without gex_to_adv';
COMMENT ON COLUMN main.scanner.call_share_rank IS 'Dense rank of call_gamma_share in the session, 1 = the most call-heavy; ties share a rank; NULL without call_gamma_share';
COMMENT ON COLUMN main.scanner.flip_distance_rank IS 'Dense rank of |flip_distance_pct| in the session, 1 = spot closest to its flip; ties share a rank; NULL without a flip';
COMMENT ON COLUMN main.scanner.underlyings_in_session IS 'Underlyings with a row in the session (this preset), count: what the ranks are out of';
COMMENT ON COLUMN main.scanner.zero_dte_gamma_share IS 'Share of gross |GEX| settling by the next session close, fraction 0..1';
COMMENT ON COLUMN main.scanner.partial_chain IS 'The chain looks month-filtered or truncated: totals cover only its expirations (rank with care)';
COMMENT ON COLUMN main.scanner.data_stale IS 'On the underlying''s latest row: true when a later session is computed for another underlying (its data did not arrive), false when current; NULL on earlier rows';
COMMENT ON COLUMN main.scanner.intraday IS 'True when the row is the session''s latest intraday snapshot (no end-of-day snapshot computed yet): its GEX uses start-of-day open interest and a mid-session spot';
COMMENT ON COLUMN main.scanner.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
