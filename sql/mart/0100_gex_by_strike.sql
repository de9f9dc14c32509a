-- Dealer exposures per strike of each computed (underlying, session); AM and PM roots on one strike summed; GEX in dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_by_strike (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
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
    PRIMARY KEY (session, underlying, strike)
);
COMMENT ON TABLE mart.gex_by_strike IS 'Dealer exposures per strike of each computed (underlying, session); AM and PM roots on one strike summed; GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_by_strike.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_by_strike.strike IS 'Strike, currency per share';
COMMENT ON COLUMN mart.gex_by_strike.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_strike.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN mart.gex_by_strike.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN mart.gex_by_strike.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day (charm), dollars per day';
COMMENT ON COLUMN mart.gex_by_strike.call_open_interest IS 'Open interest of the calls used, contracts';
COMMENT ON COLUMN mart.gex_by_strike.put_open_interest IS 'Open interest of the puts used, contracts';
COMMENT ON COLUMN mart.gex_by_strike.contracts IS 'Contracts aggregated in the row, count';
