-- Realized volatility per (underlying, session) from the daily bars in raw.underlying_closes (preset-free: it
-- needs no chain model). main.vol_context publishes it beside the ATM implied vol; gex_warehouse.advice reads it.
-- Bars: one per (underlying, session) from raw.underlying_closes, a reference file's bar preferred over the
-- chain-derived close ('chain' = an end-of-day snapshot's spot), then a bar with high and low, then the source name.
-- Realized vol: zero-mean close-to-close log returns over the last N bars, sqrt(252 * mean(r^2)); range vol:
-- Parkinson, sqrt(252 * mean(ln(H/L)^2 / (4 ln 2))) over 21 bars. A window with a missing value is NULL.
-- The same formulas in Python: gex.volatility (tests/warehouse/test_published_vol.py checks they agree).
CREATE OR REPLACE VIEW core.realized_vol AS
WITH ranked AS (
    SELECT
        underlying,
        session,
        source,
        high,
        low,
        "close",
        row_number() OVER (
            PARTITION BY underlying, session
            ORDER BY source = 'chain', high IS NULL OR low IS NULL, source
        ) AS pick
    FROM raw.underlying_closes
),
bars AS (
    SELECT
        underlying,
        session,
        source,
        "close",
        ln("close" / lag("close") OVER (PARTITION BY underlying ORDER BY session)) AS log_return,
        CASE WHEN high > 0 AND low > 0 THEN ln(high / low) * ln(high / low) / (4 * ln(2)) END AS parkinson_var
    FROM ranked
    WHERE pick = 1
),
realized AS (
    SELECT
        underlying,
        session,
        source,
        "close",
        log_return,
        CASE WHEN count(log_return) OVER w5 = 5 THEN sqrt(252 * avg(log_return * log_return) OVER w5) END AS rv_5d,
        CASE WHEN count(log_return) OVER w10 = 10 THEN sqrt(252 * avg(log_return * log_return) OVER w10) END AS rv_10d,
        CASE WHEN count(log_return) OVER w21 = 21 THEN sqrt(252 * avg(log_return * log_return) OVER w21) END AS rv_21d,
        CASE WHEN count(parkinson_var) OVER w21 = 21 THEN sqrt(252 * avg(parkinson_var) OVER w21) END AS rv_range_21d
    FROM bars
    WINDOW
        w5 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 4 PRECEDING AND CURRENT ROW),
        w10 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 9 PRECEDING AND CURRENT ROW),
        w21 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 20 PRECEDING AND CURRENT ROW)
)
SELECT underlying, session, source AS close_source, "close", log_return, rv_5d, rv_10d, rv_21d, rv_range_21d
FROM realized;
COMMENT ON VIEW core.realized_vol IS 'Realized vol per (underlying, session) from the daily bars: zero-mean close-to-close over 5/10/21 returns and Parkinson range over 21 bars, decimals per year';
COMMENT ON COLUMN core.realized_vol.session IS 'Trading session (New York date)';
COMMENT ON COLUMN core.realized_vol.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN core.realized_vol."close" IS 'Close of the session, currency per share (from close_source); NULL when only the mart row exists (e.g. an intraday chain)';
COMMENT ON COLUMN core.realized_vol.rv_5d IS 'Realized vol over the last 5 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 5 returns';
COMMENT ON COLUMN core.realized_vol.rv_10d IS 'Realized vol over the last 10 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 10 returns';
COMMENT ON COLUMN core.realized_vol.rv_21d IS 'Realized vol over the last 21 close-to-close log returns, zero-mean, annualised sqrt(252), decimal per year; NULL until 21 returns';
COMMENT ON COLUMN core.realized_vol.rv_range_21d IS 'Parkinson range vol over the last 21 bars, sqrt(252 * mean(ln(high/low)^2 / (4 ln 2))), decimal per year; NULL unless all 21 bars have high and low';
COMMENT ON COLUMN core.realized_vol.close_source IS 'raw.underlying_closes.source of the bar used: a reference reader''s format name, or chain (spot of an end-of-day snapshot)';
COMMENT ON COLUMN core.realized_vol.log_return IS 'ln(close / previous bar''s close), decimal (not annualised); NULL on the first bar';
