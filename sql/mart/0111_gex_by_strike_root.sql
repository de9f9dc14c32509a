-- Dealer exposures per option root and strike of each computed (underlying, session): AM- and PM-settled roots apart (SPX and SPXW); summed over roots they give mart.gex_by_strike; GEX in dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_by_strike_root (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    strike DOUBLE NOT NULL,
    call_gex_usd_per_1pct DOUBLE,
    put_gex_usd_per_1pct DOUBLE,
    net_gex_usd_per_1pct DOUBLE,
    dex_usd DOUBLE,
    vex_usd_per_volpt DOUBLE,
    cex_usd_per_day DOUBLE,
    call_open_interest BIGINT,
    put_open_interest BIGINT,
    contracts BIGINT,
    PRIMARY KEY (session, underlying, root, strike)
);
COMMENT ON TABLE mart.gex_by_strike_root IS 'Dealer exposures per option root and strike of each computed (underlying, session): AM- and PM-settled roots apart; summed over roots they give mart.gex_by_strike; GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike_root.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_by_strike_root.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_by_strike_root.root IS 'Option root (OSI): SPX (AM-settled monthlies), SPXW (PM-settled weeklies and dailies), NDX, NDXP, ...';
COMMENT ON COLUMN mart.gex_by_strike_root.strike IS 'Strike, currency per share';
COMMENT ON COLUMN mart.gex_by_strike_root.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike_root.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike_root.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike_root.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN mart.gex_by_strike_root.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN mart.gex_by_strike_root.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day (charm), dollars per day';
COMMENT ON COLUMN mart.gex_by_strike_root.call_open_interest IS 'Open interest of the calls used, contracts';
COMMENT ON COLUMN mart.gex_by_strike_root.put_open_interest IS 'Open interest of the puts used, contracts';
COMMENT ON COLUMN mart.gex_by_strike_root.contracts IS 'Contracts aggregated in the row, count';
