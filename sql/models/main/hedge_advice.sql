-- PUBLISHED (docs/sql-contract.md): the hedging advisor's advice per session, underlying and position template
-- (mart.hedge_advice, refreshed by the publish flow for the templates enabled in core.hedge_templates).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.hedge_advice AS
SELECT
    session,
    underlying,
    template,
    spot,
    atm_iv,
    realized_vol,
    realized_vol_assumed,
    rate,
    regime,
    total_gex_usd_per_1pct,
    flip_distance_pct,
    cost_bps,
    spread_usd_per_share,
    fee_usd_per_order,
    min_order_shares,
    risk_aversion_per_usd,
    position_delta_shares,
    position_gamma_shares_per_usd,
    vega_usd_per_volpt,
    theta_usd_per_day,
    hedge_target_shares,
    band_shares,
    band_unadjusted_shares,
    band_dollar_delta_usd,
    execution,
    clock_interval_minutes,
    expected_trades_per_day,
    pnl_gamma_usd_per_day,
    pnl_theta_usd_per_day,
    pnl_cost_usd_per_day,
    hedging_error_std_usd_per_day,
    pnl_total_usd_per_day,
    breakeven_vol,
    regime_factor,
    regime_reason,
    warnings,
    preset
FROM mart.hedge_advice
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.hedge_advice IS 'Hedging advisor per (session, underlying, position template): no-trade band, execution rule, expected daily P&L split and break-even vol for a standard position, with its inputs; money in dollars, shares of the underlying, vols as decimals per year';
COMMENT ON COLUMN main.hedge_advice.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.hedge_advice.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.hedge_advice.template IS 'Position template (gex.advisor.template_legs): long-atm-straddle-30d = long 1 ATM call + 1 ATM put, 30 calendar days; long-otm-calls = long 4 calls struck 3% above spot, 30 days';
COMMENT ON COLUMN main.hedge_advice.spot IS 'Spot of the session (mart.regime_daily.spot), currency per share';
COMMENT ON COLUMN main.hedge_advice.atm_iv IS 'ATM implied vol used for every leg (30-day ATM IV of the session), decimal per year';
COMMENT ON COLUMN main.hedge_advice.realized_vol IS 'Expected realized vol used for gamma revenue and costs (21-day realized vol), decimal per year';
COMMENT ON COLUMN main.hedge_advice.realized_vol_assumed IS 'True when no realized vol was available and the ATM IV was used instead';
COMMENT ON COLUMN main.hedge_advice.rate IS 'Risk-free rate, decimal per year, continuous, act/365';
COMMENT ON COLUMN main.hedge_advice.regime IS 'Dealer-gamma regime of the session: positive, negative or neutral (from mart.regime_daily)';
COMMENT ON COLUMN main.hedge_advice.total_gex_usd_per_1pct IS 'Net dealer GEX at spot of the session, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.hedge_advice.flip_distance_pct IS '(gamma_flip - spot) / spot, percent; NULL without a flip';
COMMENT ON COLUMN main.hedge_advice.cost_bps IS 'Assumed one-way proportional hedging cost, basis points of traded notional';
COMMENT ON COLUMN main.hedge_advice.spread_usd_per_share IS 'Assumed half-spread plus slippage per share traded, dollars per share';
COMMENT ON COLUMN main.hedge_advice.fee_usd_per_order IS 'Assumed fixed fee per hedge order, dollars';
COMMENT ON COLUMN main.hedge_advice.min_order_shares IS 'Minimum order size, shares of the underlying';
COMMENT ON COLUMN main.hedge_advice.risk_aversion_per_usd IS 'CARA risk aversion of the advice, 1/dollar';
COMMENT ON COLUMN main.hedge_advice.position_delta_shares IS 'Delta of the template position, shares of the underlying';
COMMENT ON COLUMN main.hedge_advice.position_gamma_shares_per_usd IS 'Gamma of the template position, shares per dollar move of spot (long options > 0)';
COMMENT ON COLUMN main.hedge_advice.vega_usd_per_volpt IS 'Vega left unhedged by delta hedging, dollars per vol point';
COMMENT ON COLUMN main.hedge_advice.theta_usd_per_day IS 'Black-Scholes theta of the position, dollars per calendar day';
COMMENT ON COLUMN main.hedge_advice.hedge_target_shares IS 'Hedge target = minus the position delta, shares of the underlying';
COMMENT ON COLUMN main.hedge_advice.band_shares IS 'No-trade band half-width around the target after the regime factor, shares';
COMMENT ON COLUMN main.hedge_advice.band_unadjusted_shares IS 'Optimal half-width before the regime factor (Whalley-Wilmott or fee-aware reset band), shares';
COMMENT ON COLUMN main.hedge_advice.band_dollar_delta_usd IS 'Band half-width as dollar delta: band_shares x spot, dollars';
COMMENT ON COLUMN main.hedge_advice.execution IS 'edge: trade to the nearest band edge (proportional costs); reset: trade back to the target (a fixed fee applies)';
COMMENT ON COLUMN main.hedge_advice.clock_interval_minutes IS 'Best time-based rebalancing interval for the same costs and risk aversion, trading minutes (390 per day); NULL when gamma is 0';
COMMENT ON COLUMN main.hedge_advice.expected_trades_per_day IS 'Expected hedge orders per calendar day under the band at one-minute monitoring, count';
COMMENT ON COLUMN main.hedge_advice.pnl_gamma_usd_per_day IS 'Expected gamma revenue 1/2 Gamma S^2 realized_vol^2, dollars per calendar day';
COMMENT ON COLUMN main.hedge_advice.pnl_theta_usd_per_day IS 'Hedged carry -1/2 Gamma S^2 atm_iv^2 (theta net of the hedge financing), dollars per calendar day';
COMMENT ON COLUMN main.hedge_advice.pnl_cost_usd_per_day IS 'Expected hedging cost, dollars per calendar day (positive = paid)';
COMMENT ON COLUMN main.hedge_advice.hedging_error_std_usd_per_day IS 'Standard deviation of the hedging error, dollars per calendar day';
COMMENT ON COLUMN main.hedge_advice.pnl_total_usd_per_day IS 'Expected P&L gamma + theta - cost, dollars per calendar day';
COMMENT ON COLUMN main.hedge_advice.breakeven_vol IS 'Realized vol at which gamma revenue = theta + cost, decimal per year; NULL when there is none';
COMMENT ON COLUMN main.hedge_advice.regime_factor IS 'Multiplicative band factor from the regime and the position gamma sign (1 = none), dimensionless';
COMMENT ON COLUMN main.hedge_advice.regime_reason IS 'Why the regime factor was applied, in words';
COMMENT ON COLUMN main.hedge_advice.warnings IS 'JSON array of warning strings (expiry, exploding gamma, cost per adjustment, unhedged vega/theta)';
COMMENT ON COLUMN main.hedge_advice.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
