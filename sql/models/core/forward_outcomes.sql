-- What happened after each session's close, per (underlying, session) of the daily bars (preset-free: it
-- needs no chain model); main.level_outcomes publishes it beside each session's levels.
-- Bars: one per (underlying, session) from raw.underlying_closes with the rule of core.realized_vol (a reference
-- file's bar preferred over the chain-derived close, then a bar with high and low, then the source name).
-- "Next" is the next bar of the underlying (the next session the warehouse has a close for; next_session says
-- which). Forward figures over h bars use bars t+1 .. t+h and are NULL unless all h exist (never a partial window):
--   forward_rv_{h}d           = sqrt(252 / h * sum ln(C_j / C_{j-1})^2)        zero-mean close-to-close
--   forward_rv_parkinson_{h}d = sqrt(252 / h * sum ln(H_j / L_j)^2 / (4 ln 2)) where every bar has high and low
--   forward_return_{h}d       = ln(C_{t+h} / C_t)
-- The same definitions in Python: gex.evidence.forward (tests/warehouse/test_level_outcomes.py checks they agree).
CREATE OR REPLACE VIEW core.forward_outcomes AS
WITH ranked AS (
    SELECT
        underlying,
        session,
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
        "close",
        high,
        low,
        ln("close" / lag("close") OVER (PARTITION BY underlying ORDER BY session)) AS log_return,
        CASE WHEN high > 0 AND low > 0 THEN ln(high / low) * ln(high / low) / (4 * ln(2)) END AS parkinson_var
    FROM ranked
    WHERE pick = 1
)
SELECT
    underlying,
    session,
    "close",
    high,
    low,
    lead(session) OVER w AS next_session,
    lead("close") OVER w AS next_close,
    lead(high) OVER w AS next_high,
    lead(low) OVER w AS next_low,
    CASE WHEN count(log_return) OVER f1 = 1 THEN sqrt(252.0 / 1 * sum(log_return * log_return) OVER f1) END AS forward_rv_1d,
    CASE WHEN count(log_return) OVER f5 = 5 THEN sqrt(252.0 / 5 * sum(log_return * log_return) OVER f5) END AS forward_rv_5d,
    CASE WHEN count(log_return) OVER f21 = 21 THEN sqrt(252.0 / 21 * sum(log_return * log_return) OVER f21) END AS forward_rv_21d,
    CASE WHEN count(parkinson_var) OVER f1 = 1 THEN sqrt(252.0 / 1 * sum(parkinson_var) OVER f1) END AS forward_rv_parkinson_1d,
    CASE WHEN count(parkinson_var) OVER f5 = 5 THEN sqrt(252.0 / 5 * sum(parkinson_var) OVER f5) END AS forward_rv_parkinson_5d,
    CASE WHEN count(parkinson_var) OVER f21 = 21 THEN sqrt(252.0 / 21 * sum(parkinson_var) OVER f21) END AS forward_rv_parkinson_21d,
    ln(lead("close", 1) OVER w / "close") AS forward_return_1d,
    ln(lead("close", 5) OVER w / "close") AS forward_return_5d,
    ln(lead("close", 21) OVER w / "close") AS forward_return_21d
FROM bars
WINDOW
    w AS (PARTITION BY underlying ORDER BY session),
    f1 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 1 FOLLOWING AND 1 FOLLOWING),
    f5 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 1 FOLLOWING AND 5 FOLLOWING),
    f21 AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 1 FOLLOWING AND 21 FOLLOWING);
COMMENT ON VIEW core.forward_outcomes IS 'Per (underlying, session) of the daily bars: the next bar and the forward realised vols and returns over 1, 5 and 21 bars (decimals; vols per year)';
COMMENT ON COLUMN core.forward_outcomes.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN core.forward_outcomes.session IS 'Trading session (New York date)';
COMMENT ON COLUMN core.forward_outcomes."close" IS 'Close of the session, currency per share';
COMMENT ON COLUMN core.forward_outcomes.high IS 'High of the session, currency per share (NULL when the bar has none)';
COMMENT ON COLUMN core.forward_outcomes.low IS 'Low of the session, currency per share (NULL when the bar has none)';
COMMENT ON COLUMN core.forward_outcomes.next_session IS 'Session of the next bar (normally the next NYSE session; later when closes are missing)';
COMMENT ON COLUMN core.forward_outcomes.next_close IS 'Close of the next bar, currency per share';
COMMENT ON COLUMN core.forward_outcomes.next_high IS 'High of the next bar, currency per share';
COMMENT ON COLUMN core.forward_outcomes.next_low IS 'Low of the next bar, currency per share';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_1d IS 'sqrt(252) |ln(C_{t+1}/C_t)|: forward zero-mean close-to-close vol over 1 bar, decimal per year';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_5d IS 'sqrt(252/5 * sum of the next 5 squared log returns), decimal per year; NULL without 5 bars after';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_21d IS 'sqrt(252/21 * sum of the next 21 squared log returns), decimal per year; NULL without 21 bars after';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_parkinson_1d IS 'Parkinson vol of the next bar, sqrt(252 ln(H/L)^2 / (4 ln 2)), decimal per year; NULL without its high and low';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_parkinson_5d IS 'Parkinson vol over the next 5 bars, decimal per year; NULL unless all have high and low';
COMMENT ON COLUMN core.forward_outcomes.forward_rv_parkinson_21d IS 'Parkinson vol over the next 21 bars, decimal per year; NULL unless all have high and low';
COMMENT ON COLUMN core.forward_outcomes.forward_return_1d IS 'ln(C_{t+1} / C_t), decimal';
COMMENT ON COLUMN core.forward_outcomes.forward_return_5d IS 'ln(C_{t+5} / C_t), decimal';
COMMENT ON COLUMN core.forward_outcomes.forward_return_21d IS 'ln(C_{t+21} / C_t), decimal';
