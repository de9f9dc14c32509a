-- One row per (session, underlying, position template): the hedging advisor's band and expected daily P&L for a
-- standard position at that session's spot, ATM IV, realized vol and dealer-gamma regime, with the inputs used.
-- Written by a flow with gex.advisor.advice_rows (columns match gex.advisor.HEDGE_ADVICE_SCHEMA).
CREATE TABLE IF NOT EXISTS mart.hedge_advice (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    template VARCHAR NOT NULL,
    spot DOUBLE,
    atm_iv DOUBLE,
    realized_vol DOUBLE,
    realized_vol_assumed BOOLEAN,
    rate DOUBLE,
    regime VARCHAR,
    total_gex_usd_per_1pct DOUBLE,
    flip_distance_pct DOUBLE,
    cost_bps DOUBLE,
    spread_usd_per_share DOUBLE,
    fee_usd_per_order DOUBLE,
    min_order_shares DOUBLE,
    risk_aversion_per_usd DOUBLE,
    position_delta_shares DOUBLE,
    position_gamma_shares_per_usd DOUBLE,
    vega_usd_per_volpt DOUBLE,
    theta_usd_per_day DOUBLE,
    hedge_target_shares DOUBLE,
    band_shares DOUBLE,
    band_unadjusted_shares DOUBLE,
    band_dollar_delta_usd DOUBLE,
    execution VARCHAR,
    clock_interval_minutes DOUBLE,
    expected_trades_per_day DOUBLE,
    pnl_gamma_usd_per_day DOUBLE,
    pnl_theta_usd_per_day DOUBLE,
    pnl_cost_usd_per_day DOUBLE,
    hedging_error_std_usd_per_day DOUBLE,
    pnl_total_usd_per_day DOUBLE,
    breakeven_vol DOUBLE,
    regime_factor DOUBLE,
    regime_reason VARCHAR,
    warnings VARCHAR,
    PRIMARY KEY (session, underlying, template)
);
COMMENT ON TABLE mart.hedge_advice IS 'Hedging advisor per (session, underlying, position template): no-trade band, execution rule, expected daily P&L split and break-even vol for a standard position, with its inputs; money in dollars, shares of the underlying, vols as decimals per year';
COMMENT ON COLUMN mart.hedge_advice.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.hedge_advice.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.hedge_advice.template IS 'Position template (gex.advisor.template_legs): long-atm-straddle-30d = long 1 ATM call + 1 ATM put, 30 calendar days; long-otm-calls = long 4 calls struck 3% above spot, 30 days';
COMMENT ON COLUMN mart.hedge_advice.spot IS 'Spot of the session (mart.regime_daily.spot), currency per share';
COMMENT ON COLUMN mart.hedge_advice.atm_iv IS 'ATM implied vol used for every leg (30-day ATM IV of the session), decimal per year';
COMMENT ON COLUMN mart.hedge_advice.realized_vol IS 'Expected realized vol used for gamma revenue and costs (21-day realized vol), decimal per year';
COMMENT ON COLUMN mart.hedge_advice.realized_vol_assumed IS 'True when no realized vol was available and the ATM IV was used instead';
COMMENT ON COLUMN mart.hedge_advice.rate IS 'Risk-free rate, decimal per year, continuous, act/365';
COMMENT ON COLUMN mart.hedge_advice.regime IS 'Dealer-gamma regime of the session: positive, negative or neutral (from mart.regime_daily)';
COMMENT ON COLUMN mart.hedge_advice.total_gex_usd_per_1pct IS 'Net dealer GEX at spot of the session, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.hedge_advice.flip_distance_pct IS '(gamma_flip - spot) / spot, percent; NULL without a flip';
COMMENT ON COLUMN mart.hedge_advice.cost_bps IS 'Assumed one-way proportional hedging cost, basis points of traded notional';
COMMENT ON COLUMN mart.hedge_advice.spread_usd_per_share IS 'Assumed half-spread plus slippage per share traded, dollars per share';
COMMENT ON COLUMN mart.hedge_advice.fee_usd_per_order IS 'Assumed fixed fee per hedge order, dollars';
COMMENT ON COLUMN mart.hedge_advice.min_order_shares IS 'Minimum order size, shares of the underlying';
COMMENT ON COLUMN mart.hedge_advice.risk_aversion_per_usd IS 'CARA risk aversion of the advice, 1/dollar';
COMMENT ON COLUMN mart.hedge_advice.position_delta_shares IS 'Delta of the template position, shares of the underlying';
COMMENT ON COLUMN mart.hedge_advice.position_gamma_shares_per_usd IS 'Gamma of the template position, shares per dollar move of spot (long options > 0)';
COMMENT ON COLUMN mart.hedge_advice.vega_usd_per_volpt IS 'Vega left unhedged by delta hedging, dollars per vol point';
COMMENT ON COLUMN mart.hedge_advice.theta_usd_per_day IS 'Black-Scholes theta of the position, dollars per calendar day';
COMMENT ON COLUMN mart.hedge_advice.hedge_target_shares IS 'Hedge target = minus the position delta, shares of the underlying';
COMMENT ON COLUMN mart.hedge_advice.band_shares IS 'No-trade band half-width around the target after the regime factor, shares';
COMMENT ON COLUMN mart.hedge_advice.band_unadjusted_shares IS 'Optimal half-width before the regime factor (Whalley-Wilmott or fee-aware reset band), shares';
COMMENT ON COLUMN mart.hedge_advice.band_dollar_delta_usd IS 'Band half-width as dollar delta: band_shares x spot, dollars';
COMMENT ON COLUMN mart.hedge_advice.execution IS 'edge: trade to the nearest band edge (proportional costs); reset: trade back to the target (a fixed fee applies)';
COMMENT ON COLUMN mart.hedge_advice.clock_interval_minutes IS 'Best time-based rebalancing interval for the same costs and risk aversion, trading minutes (390 per day); NULL when gamma is 0';
COMMENT ON COLUMN mart.hedge_advice.expected_trades_per_day IS 'Expected hedge orders per calendar day under the band at one-minute monitoring, count';
COMMENT ON COLUMN mart.hedge_advice.pnl_gamma_usd_per_day IS 'Expected gamma revenue 1/2 Gamma S^2 realized_vol^2, dollars per calendar day';
COMMENT ON COLUMN mart.hedge_advice.pnl_theta_usd_per_day IS 'Hedged carry -1/2 Gamma S^2 atm_iv^2 (theta net of the hedge financing), dollars per calendar day';
COMMENT ON COLUMN mart.hedge_advice.pnl_cost_usd_per_day IS 'Expected hedging cost, dollars per calendar day (positive = paid)';
COMMENT ON COLUMN mart.hedge_advice.hedging_error_std_usd_per_day IS 'Standard deviation of the hedging error, dollars per calendar day';
COMMENT ON COLUMN mart.hedge_advice.pnl_total_usd_per_day IS 'Expected P&L gamma + theta - cost, dollars per calendar day';
COMMENT ON COLUMN mart.hedge_advice.breakeven_vol IS 'Realized vol at which gamma revenue = theta + cost, decimal per year; NULL when there is none';
COMMENT ON COLUMN mart.hedge_advice.regime_factor IS 'Multiplicative band factor from the regime and the position gamma sign (1 = none), dimensionless';
COMMENT ON COLUMN mart.hedge_advice.regime_reason IS 'Why the regime factor was applied, in words';
COMMENT ON COLUMN mart.hedge_advice.warnings IS 'JSON array of warning strings (expiry, exploding gamma, cost per adjustment, unhedged vega/theta)';
