-- PUBLISHED (docs/sql-contract.md): mart.early_exercise of each (underlying, session)'s daily snapshot
-- (core.daily_snapshot: the end-of-day one, else the latest intraday), as the other daily views.
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.early_exercise AS
SELECT
    e.session,
    e.underlying,
    e.symbol,
    e.root,
    e.expiration,
    e.settlement,
    e.strike,
    e."right",
    e.reason,
    e.open_interest,
    e.gex_usd_per_1pct,
    e.time_value,
    e.carry,
    e.dividend_pv,
    e.dividend_source,
    e.valuation_ts,
    e.preset
FROM mart.early_exercise AS e
SEMI JOIN core.daily_snapshot AS d USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(e.preset);
COMMENT ON VIEW main.early_exercise IS 'American contracts of each computed (underlying, session) where early exercise matters (deep in-the-money puts, in-the-money calls before an ex-dividend date): their European Black-Scholes gamma, and so their GEX, is an approximation to distrust; European chains (SPX, NDX, RUT, ...) have no rows. main.regime_daily.early_exercise_gex_share sums them up';
COMMENT ON COLUMN main.early_exercise.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.early_exercise.underlying IS 'Normalised ticker without caret: AAPL, SPY, ...';
COMMENT ON COLUMN main.early_exercise.symbol IS 'OSI-style option symbol as the vendor wrote it';
COMMENT ON COLUMN main.early_exercise.root IS 'Option root (American style: equity and ETF roots, OEX)';
COMMENT ON COLUMN main.early_exercise.expiration IS 'Expiration date (New York date)';
COMMENT ON COLUMN main.early_exercise.settlement IS 'AM (settles at the open of expiration) or PM (at its close)';
COMMENT ON COLUMN main.early_exercise.strike IS 'Strike, currency per share';
COMMENT ON COLUMN main.early_exercise."right" IS 'C call, P put';
COMMENT ON COLUMN main.early_exercise.reason IS 'deep_itm_put: time value below the interest on the strike to expiry net of the dividends PV, K (1 - exp(-rT)) - PV(D); call_before_ex_dividend: an in-the-money call whose last dividend before expiry beats its time value and the interest on the strike after the ex-date (Merton), D > K (1 - exp(-r (T - t_ex)))';
COMMENT ON COLUMN main.early_exercise.open_interest IS 'Open interest used, contracts';
COMMENT ON COLUMN main.early_exercise.gex_usd_per_1pct IS 'Dealer GEX of the contract from European Black-Scholes gamma, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.early_exercise.time_value IS 'European model value minus intrinsic value, currency per share';
COMMENT ON COLUMN main.early_exercise.carry IS 'What the time value was compared with, currency per share: puts K (1 - exp(-rT)) - PV(D); calls the dividend''s excess over the interest on the strike after the ex-date';
COMMENT ON COLUMN main.early_exercise.dividend_pv IS 'Present value of the dividends with ex-date before expiry implied by put-call parity, S - F exp(-rT), currency per share (0 without a parity forward)';
COMMENT ON COLUMN main.early_exercise.dividend_source IS 'parity: dividends from the expiry''s parity forward; none: no parity forward for the expiry, screened as if no dividend were paid';
COMMENT ON COLUMN main.early_exercise.valuation_ts IS 'Instant the models valued at, UTC (the daily snapshot of the session, core.daily_snapshot)';
COMMENT ON COLUMN main.early_exercise.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
