-- PUBLISHED (docs/sql-contract.md): mart.gex_by_strike_root under a stable name: GEX by option root and strike
-- (SPX AM-settled and SPXW PM-settled apart) per (underlying, session); summed over roots it is main.gex_by_strike.
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.gex_by_strike_root AS
SELECT
    session,
    underlying,
    root,
    strike,
    call_gex_usd_per_1pct,
    put_gex_usd_per_1pct,
    net_gex_usd_per_1pct,
    dex_usd,
    vex_usd_per_volpt,
    cex_usd_per_day,
    call_open_interest,
    put_open_interest,
    contracts,
    preset
FROM mart.gex_by_strike_root
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.gex_by_strike_root IS 'Dealer exposures per option root and strike of each computed (underlying, session): AM- and PM-settled roots apart; summed over roots they give mart.gex_by_strike; GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_strike_root.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.gex_by_strike_root.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.gex_by_strike_root.root IS 'Option root (OSI): SPX (AM-settled monthlies), SPXW (PM-settled weeklies and dailies), NDX, NDXP, ...';
COMMENT ON COLUMN main.gex_by_strike_root.strike IS 'Strike, currency per share';
COMMENT ON COLUMN main.gex_by_strike_root.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_strike_root.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_strike_root.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_strike_root.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN main.gex_by_strike_root.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN main.gex_by_strike_root.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day (charm), dollars per day';
COMMENT ON COLUMN main.gex_by_strike_root.call_open_interest IS 'Open interest of the calls used, contracts';
COMMENT ON COLUMN main.gex_by_strike_root.put_open_interest IS 'Open interest of the puts used, contracts';
COMMENT ON COLUMN main.gex_by_strike_root.contracts IS 'Contracts aggregated in the row, count';
COMMENT ON COLUMN main.gex_by_strike_root.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
