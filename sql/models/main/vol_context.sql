-- PUBLISHED (docs/sql-contract.md): realized and implied volatility per (underlying, session).
-- Bars: one per (underlying, session) from raw.underlying_closes, a reference file's bar preferred over the
-- chain-derived close ('chain' = an end-of-day snapshot's spot), then a bar with high and low, then the source name.
-- Realized vol: zero-mean close-to-close log returns over the last N bars, sqrt(252 * mean(r^2)); range vol:
-- Parkinson, sqrt(252 * mean(ln(H/L)^2 / (4 ln 2))) over 21 bars. A window with a missing value is NULL.
-- The same formulas in Python: gex.volatility (tests/warehouse/test_published_vol.py checks they agree).
CREATE OR REPLACE VIEW main.vol_context AS
WITH r AS (
    SELECT * FROM mart.regime_daily
    SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
    WHERE core.preset_selected(preset)
)
SELECT
    coalesce(v.session, r.session) AS session,
    coalesce(v.underlying, r.underlying) AS underlying,
    v."close" AS "close",
    v.rv_5d,
    v.rv_10d,
    v.rv_21d,
    v.rv_range_21d,
    r.atm_iv_30d,
    r.atm_iv_30d - v.rv_21d AS iv_rv_spread,
    v.close_source,
    v.log_return,
    r.preset
FROM core.realized_vol AS v
FULL OUTER JOIN r ON r.underlying = v.underlying AND r.session = v.session;
COMMENT ON VIEW main.vol_context IS 'Realized (close-to-close 5/10/21 sessions, Parkinson range 21) and implied (ATM 30-day) volatility per (underlying, session); decimals per year (0.18 = 18 vol points); a reference file''s bars preferred over chain-derived closes';
COMMENT ON COLUMN main.vol_context.session IS 'Trading session (New York date)';
COMMENT ON COLUMN main.vol_context.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.vol_context."close" IS 'Close of the session, currency per share (from close_source); NULL when only the mart row exists (e.g. an intraday chain)';
COMMENT ON COLUMN main.vol_context.rv_5d IS 'Realized vol over the last 5 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 5 returns';
COMMENT ON COLUMN main.vol_context.rv_10d IS 'Realized vol over the last 10 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 10 returns';
COMMENT ON COLUMN main.vol_context.rv_21d IS 'Realized vol over the last 21 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 21 returns';
COMMENT ON COLUMN main.vol_context.rv_range_21d IS 'Parkinson range vol over the last 21 bars, sqrt(252 * mean(ln(high/low)^2 / (4 ln 2))), decimal per year; NULL unless all 21 bars have high and low';
COMMENT ON COLUMN main.vol_context.atm_iv_30d IS 'ATM implied vol at a constant 30 calendar days from the session''s chain (mart.regime_daily.atm_iv_30d), decimal per year; NULL without a computed chain';
COMMENT ON COLUMN main.vol_context.iv_rv_spread IS 'atm_iv_30d - rv_21d, decimal per year (0.02 = 2 vol points; positive: options price more movement than realized)';
COMMENT ON COLUMN main.vol_context.close_source IS 'raw.underlying_closes.source of the bar used: a reference reader''s format name, or chain (spot of an end-of-day snapshot)';
COMMENT ON COLUMN main.vol_context.log_return IS 'ln(close / previous bar''s close), decimal (not annualised); NULL on the first bar';
COMMENT ON COLUMN main.vol_context.preset IS 'Conventions of the implied-vol columns'' row (atm_iv_30d comes from that preset''s computation); NULL on a bar with no computed chain. Filtered like every published view (SET VARIABLE preset, native when unset)';
