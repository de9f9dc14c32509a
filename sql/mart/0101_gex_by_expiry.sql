-- Dealer exposures per (expiration, settlement) of each computed (underlying, session); GEX in dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_by_expiry (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    settlement VARCHAR NOT NULL,
    call_gex_usd_per_1pct DOUBLE,
    put_gex_usd_per_1pct DOUBLE,
    net_gex_usd_per_1pct DOUBLE,
    dex_usd DOUBLE,
    vex_usd_per_volpt DOUBLE,
    cex_usd_per_day DOUBLE,
    call_open_interest BIGINT,
    put_open_interest BIGINT,
    contracts BIGINT,
    PRIMARY KEY (session, underlying, expiration, settlement)
);
COMMENT ON TABLE mart.gex_by_expiry IS 'Dealer exposures per (expiration, settlement) of each computed (underlying, session); GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_expiry.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.gex_by_expiry.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.gex_by_expiry.expiration IS 'Expiration (last trading) date, New York';
COMMENT ON COLUMN mart.gex_by_expiry.settlement IS 'AM: settles at the open of expiration; PM: at the close';
COMMENT ON COLUMN mart.gex_by_expiry.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_expiry.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_expiry.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.gex_by_expiry.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN mart.gex_by_expiry.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN mart.gex_by_expiry.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day (charm), dollars per day';
COMMENT ON COLUMN mart.gex_by_expiry.call_open_interest IS 'Open interest of the calls used, contracts';
COMMENT ON COLUMN mart.gex_by_expiry.put_open_interest IS 'Open interest of the puts used, contracts';
COMMENT ON COLUMN mart.gex_by_expiry.contracts IS 'Contracts aggregated in the row, count';
