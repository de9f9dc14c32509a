-- PUBLISHED (docs/sql-contract.md): each computed (underlying, session, preset)'s levels (main.regime_daily: the
-- daily snapshot) beside what the next sessions did (core.forward_outcomes, from the warehouse's daily bars):
-- the next bar's high/low/close, whether the walls held, forward realised vols and returns over 1/5/21 bars.
-- `gex stats` (no --external) measures this view (gex.evidence.outcome_stats, docs/evidence.md).
-- The newest sessions' outcomes are NULL until the next bars arrive; they change when they do (this view
-- looks forward, unlike the other published views).
CREATE OR REPLACE VIEW main.level_outcomes AS
SELECT
    r.session,
    r.underlying,
    r.preset,
    r.spot,
    r.regime,
    r.total_gex_usd_per_1pct,
    r.gamma_flip,
    r.flip_distance_pct,
    r.call_wall,
    r.put_wall,
    r.abs_gamma_strike,
    r.rv_21d AS trailing_rv_21d,
    o."close",
    o.high,
    o.low,
    o.next_session,
    o.next_high,
    o.next_low,
    o.next_close,
    CASE WHEN o.next_high IS NOT NULL AND r.call_wall IS NOT NULL THEN o.next_high < r.call_wall END AS call_wall_held_high,
    CASE WHEN o.next_close IS NOT NULL AND r.call_wall IS NOT NULL THEN o.next_close < r.call_wall END AS call_wall_held_close,
    CASE WHEN o.next_low IS NOT NULL AND r.put_wall IS NOT NULL THEN o.next_low > r.put_wall END AS put_wall_held_low,
    CASE WHEN o.next_close IS NOT NULL AND r.put_wall IS NOT NULL THEN o.next_close > r.put_wall END AS put_wall_held_close,
    o.forward_rv_1d,
    o.forward_rv_5d,
    o.forward_rv_21d,
    o.forward_rv_parkinson_1d,
    o.forward_rv_parkinson_5d,
    o.forward_rv_parkinson_21d,
    o.forward_return_1d,
    o.forward_return_5d,
    o.forward_return_21d,
    r.valuation_ts
FROM main.regime_daily AS r
LEFT JOIN core.forward_outcomes AS o ON o.underlying = r.underlying AND o.session = r.session;
COMMENT ON VIEW main.level_outcomes IS 'Each computed (underlying, session)''s levels beside what the next sessions did: next high/low/close, walls held, forward realised vols (close-to-close and Parkinson) and returns over 1, 5 and 21 sessions; vols decimal per year; NULL until the bars after the session exist';
COMMENT ON COLUMN main.level_outcomes.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.level_outcomes.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.level_outcomes.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
COMMENT ON COLUMN main.level_outcomes.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.level_outcomes.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.level_outcomes.total_gex_usd_per_1pct IS 'Net dealer GEX at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.level_outcomes.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN main.level_outcomes.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.level_outcomes.call_wall IS 'Strike >= spot with the largest call GEX, currency per share';
COMMENT ON COLUMN main.level_outcomes.put_wall IS 'Strike <= spot with the most negative put GEX, currency per share';
COMMENT ON COLUMN main.level_outcomes.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX, currency per share';
COMMENT ON COLUMN main.level_outcomes.trailing_rv_21d IS 'Realized vol over the last 21 close-to-close log returns up to the session''s close, zero-mean, decimal per year (main.regime_daily.rv_21d)';
COMMENT ON COLUMN main.level_outcomes."close" IS 'Close of the session from the daily bars, currency per share (a reference file''s bar preferred over the chain''s spot)';
COMMENT ON COLUMN main.level_outcomes.high IS 'High of the session, currency per share; NULL when the bar has none';
COMMENT ON COLUMN main.level_outcomes.low IS 'Low of the session, currency per share; NULL when the bar has none';
COMMENT ON COLUMN main.level_outcomes.next_session IS 'Session of the next bar (normally the next NYSE session; later when closes are missing); NULL on the newest session';
COMMENT ON COLUMN main.level_outcomes.next_high IS 'High of the next bar, currency per share';
COMMENT ON COLUMN main.level_outcomes.next_low IS 'Low of the next bar, currency per share';
COMMENT ON COLUMN main.level_outcomes.next_close IS 'Close of the next bar, currency per share';
COMMENT ON COLUMN main.level_outcomes.call_wall_held_high IS 'The call wall held intraday: next_high strictly below call_wall; NULL when either is missing';
COMMENT ON COLUMN main.level_outcomes.call_wall_held_close IS 'The call wall held at the close: next_close strictly below call_wall; NULL when either is missing';
COMMENT ON COLUMN main.level_outcomes.put_wall_held_low IS 'The put wall held intraday: next_low strictly above put_wall; NULL when either is missing';
COMMENT ON COLUMN main.level_outcomes.put_wall_held_close IS 'The put wall held at the close: next_close strictly above put_wall; NULL when either is missing';
COMMENT ON COLUMN main.level_outcomes.forward_rv_1d IS 'sqrt(252) |ln(next_close / close)|: forward zero-mean close-to-close vol over 1 session, decimal per year';
COMMENT ON COLUMN main.level_outcomes.forward_rv_5d IS 'sqrt(252/5 * sum of the next 5 squared log returns), decimal per year; NULL without 5 sessions after';
COMMENT ON COLUMN main.level_outcomes.forward_rv_21d IS 'sqrt(252/21 * sum of the next 21 squared log returns), decimal per year; NULL without 21 sessions after';
COMMENT ON COLUMN main.level_outcomes.forward_rv_parkinson_1d IS 'Parkinson vol of the next session, sqrt(252 ln(H/L)^2 / (4 ln 2)), decimal per year; NULL without its high and low';
COMMENT ON COLUMN main.level_outcomes.forward_rv_parkinson_5d IS 'Parkinson vol over the next 5 sessions, decimal per year; NULL unless all have high and low';
COMMENT ON COLUMN main.level_outcomes.forward_rv_parkinson_21d IS 'Parkinson vol over the next 21 sessions, decimal per year; NULL unless all have high and low';
COMMENT ON COLUMN main.level_outcomes.forward_return_1d IS 'ln(next_close / close), decimal';
COMMENT ON COLUMN main.level_outcomes.forward_return_5d IS 'ln(close 5 sessions after / close), decimal';
COMMENT ON COLUMN main.level_outcomes.forward_return_21d IS 'ln(close 21 sessions after / close), decimal';
COMMENT ON COLUMN main.level_outcomes.valuation_ts IS 'Instant the levels were valued at, UTC (the snapshot main.regime_daily publishes for the session)';
