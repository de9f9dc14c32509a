-- PUBLISHED (docs/sql-contract.md): one row per computed (underlying, session): mart.regime_daily plus every
-- flip crossing, the volatility context (main.vol_context) and the regime stretch (main.regime_history).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.regime_daily AS
WITH crossings AS (
    SELECT underlying, session, valuation_ts, preset, list(crossing ORDER BY crossing) AS flip_crossings
    FROM mart.flip_crossings
    GROUP BY underlying, session, valuation_ts, preset
)
SELECT
    r.session,
    r.underlying,
    r.spot,
    r.valuation_ts,
    r.total_gex_usd_per_1pct,
    r.call_gex_usd_per_1pct,
    r.put_gex_usd_per_1pct,
    r.gex_at_spot_model_usd_per_1pct,
    r.gamma_flip,
    r.flip_distance_pct,
    r.regime,
    r.call_wall,
    r.put_wall,
    r.most_negative_net_strike,
    r.abs_gamma_strike,
    r.dex_usd,
    r.vex_usd_per_volpt,
    r.cex_usd_per_day,
    r.zero_dte_gamma_share,
    r.vendor_model_gamma_gap,
    r.partial_chain,
    r.partial_reason,
    r.contracts_used,
    r.contracts_excluded,
    r.oi_source,
    r.rate,
    r.preset,
    r.conventions,
    r.load_id,
    r.computed_with,
    coalesce(x.flip_crossings, CAST([] AS DOUBLE[])) AS flip_crossings,
    r.atm_iv_30d,
    v.rv_5d,
    v.rv_10d,
    v.rv_21d,
    v.rv_range_21d,
    r.atm_iv_30d - v.rv_21d AS iv_rv_spread,
    h.regime_changed,
    h.days_in_regime,
    r.snapshot_ts,
    CASE WHEN r.session = max(r.session) OVER (PARTITION BY r.underlying, r.preset)
         THEN r.session < (SELECT max(session) FROM mart.regime_daily) END AS data_stale,
    r.intraday,
    r.zero_dte_gex_usd_per_1pct,
    r.exercise_style,
    r.early_exercise_contracts,
    r.early_exercise_gex_share,
    r.early_exercise_expiries_without_carry
FROM mart.regime_daily AS r
SEMI JOIN core.daily_snapshot AS d USING (underlying, session, preset, valuation_ts)
LEFT JOIN crossings AS x ON x.underlying = r.underlying AND x.session = r.session AND x.valuation_ts = r.valuation_ts
    AND x.preset = r.preset
LEFT JOIN core.realized_vol AS v ON v.underlying = r.underlying AND v.session = r.session
LEFT JOIN main.regime_history AS h ON h.underlying = r.underlying AND h.session = r.session AND h.preset = r.preset
WHERE core.preset_selected(r.preset);
COMMENT ON VIEW main.regime_daily IS 'One row per computed (underlying, session) (its end-of-day snapshot, or before it the latest intraday one: see intraday): totals, flip and every crossing, regime and its stretch, levels, exposures, volatility context and how they were computed; GEX in dollars per 1% move of the underlying, vols decimal per year';
COMMENT ON COLUMN main.regime_daily.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.regime_daily.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.regime_daily.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.regime_daily.valuation_ts IS 'Instant the models valued at, UTC';
COMMENT ON COLUMN main.regime_daily.total_gex_usd_per_1pct IS 'Net dealer GEX at spot (the conventions'' spot gamma), dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_daily.call_gex_usd_per_1pct IS 'Dealer GEX of the calls at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_daily.put_gex_usd_per_1pct IS 'Dealer GEX of the puts at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_daily.gex_at_spot_model_usd_per_1pct IS 'Net dealer GEX at spot from the profile''s Black-Scholes model, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_daily.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN main.regime_daily.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.regime_daily.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.regime_daily.call_wall IS 'Strike >= spot with the largest call GEX, currency per share';
COMMENT ON COLUMN main.regime_daily.put_wall IS 'Strike <= spot with the most negative put GEX, currency per share';
COMMENT ON COLUMN main.regime_daily.most_negative_net_strike IS 'Strike with the most negative net GEX, currency per share';
COMMENT ON COLUMN main.regime_daily.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX, currency per share';
COMMENT ON COLUMN main.regime_daily.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN main.regime_daily.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN main.regime_daily.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day, dollars per day';
COMMENT ON COLUMN main.regime_daily.zero_dte_gamma_share IS 'Share of gross |GEX| settling by the next session close, fraction 0..1';
COMMENT ON COLUMN main.regime_daily.vendor_model_gamma_gap IS 'Exposure-weighted relative gap between vendor and model gamma, fraction; NULL without vendor gamma';
COMMENT ON COLUMN main.regime_daily.partial_chain IS 'The chain looks month-filtered or truncated: totals cover only its expirations';
COMMENT ON COLUMN main.regime_daily.partial_reason IS 'Why partial_chain is set';
COMMENT ON COLUMN main.regime_daily.contracts_used IS 'Contracts the models valued, count';
COMMENT ON COLUMN main.regime_daily.contracts_excluded IS 'JSON object: excluded contracts per reason, count';
COMMENT ON COLUMN main.regime_daily.oi_source IS 'Open interest used: occ_feed (OCC publication of the session morning) or chain (the chain file''s own)';
COMMENT ON COLUMN main.regime_daily.rate IS 'Flat risk-free rate used, decimal per year, continuous, act/365';
COMMENT ON COLUMN main.regime_daily.preset IS 'Conventions name: native, perfiliev, perfiliev-early, gflows';
COMMENT ON COLUMN main.regime_daily.conventions IS 'JSON object: every modelling choice (gex.conventions.Conventions.as_record)';
COMMENT ON COLUMN main.regime_daily.load_id IS 'raw.chain_snapshots.load_id of the chain computed (a newer load makes the session pending)';
COMMENT ON COLUMN main.regime_daily.computed_with IS 'Code versions that computed the row (package versions)';
COMMENT ON COLUMN main.regime_daily.flip_crossings IS 'Every level where the GEX profile changes sign inside the flip window, ascending, currency per share; empty list when none (gamma_flip is one of them)';
COMMENT ON COLUMN main.regime_daily.atm_iv_30d IS 'ATM implied vol at a constant 30 calendar days: each expiry''s smile read at its forward, linear in total variance between the expiries around 30 days, flat vol outside; decimal per year; NULL without a usable smile';
COMMENT ON COLUMN main.regime_daily.rv_5d IS 'Realized vol over the last 5 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year (core.realized_vol, as main.vol_context)';
COMMENT ON COLUMN main.regime_daily.rv_10d IS 'Realized vol over the last 10 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year (core.realized_vol, as main.vol_context)';
COMMENT ON COLUMN main.regime_daily.rv_21d IS 'Realized vol over the last 21 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year (core.realized_vol, as main.vol_context)';
COMMENT ON COLUMN main.regime_daily.rv_range_21d IS 'Parkinson range vol over the last 21 bars, decimal per year; NULL without highs and lows (core.realized_vol, as main.vol_context)';
COMMENT ON COLUMN main.regime_daily.iv_rv_spread IS 'atm_iv_30d - rv_21d, decimal per year (0.02 = 2 vol points)';
COMMENT ON COLUMN main.regime_daily.regime_changed IS 'regime differs from the previous computed session''s (false on the first), see main.regime_history';
COMMENT ON COLUMN main.regime_daily.days_in_regime IS 'Computed sessions in the current regime stretch including this one, count';
COMMENT ON COLUMN main.regime_daily.snapshot_ts IS 'When the chain behind the row was taken (the vendor''s snapshot instant, or the fetch''s response instant), UTC: how old the data is';
COMMENT ON COLUMN main.regime_daily.data_stale IS 'On the underlying''s latest row: true when a later session is computed for another underlying (this one''s fetch failed or its file did not arrive), false when current; NULL on earlier rows';
COMMENT ON COLUMN main.regime_daily.intraday IS 'True: no end-of-day snapshot of the session is computed yet and the row is the latest intraday one (spot is not a close); false: the end-of-day snapshot';
COMMENT ON COLUMN main.regime_daily.zero_dte_gex_usd_per_1pct IS 'Net dealer GEX at spot of the contracts settling by the next session close (0-DTE), dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_daily.exercise_style IS 'Exercise style of the chain from its option roots: european (cash-settled index options: SPX, NDX, RUT, XSP, VIX, ...), american (equity and ETF options, OEX) or mixed; the GEX of an American chain uses European gamma, an approximation (docs/conventions.md)';
COMMENT ON COLUMN main.regime_daily.early_exercise_contracts IS 'American contracts flagged where early exercise matters (deep in-the-money puts, calls before an ex-date; main.early_exercise), count; 0 for European chains';
COMMENT ON COLUMN main.regime_daily.early_exercise_gex_share IS 'sum |GEX| of the flagged contracts / sum |GEX| of every contract valued, fraction 0..1: the share of the GEX whose European gamma is a poor proxy';
COMMENT ON COLUMN main.regime_daily.early_exercise_expiries_without_carry IS 'American expiries without a put-call parity forward, screened as if no dividend were paid (their calls before an ex-date cannot be flagged), count; 0 for European chains';
