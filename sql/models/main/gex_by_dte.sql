-- PUBLISHED (docs/sql-contract.md): mart.gex_by_dte under a stable name in the main schema (per (underlying, session)).
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.gex_by_dte AS
SELECT
    session,
    underlying,
    dte_bucket,
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
FROM mart.gex_by_dte
SEMI JOIN core.daily_snapshot USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(preset);
COMMENT ON VIEW main.gex_by_dte IS 'Dealer exposures per days-to-expiry bucket (0, 1-7, 8-30, >30 calendar days) of each computed (underlying, session); GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_dte.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.gex_by_dte.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.gex_by_dte.dte_bucket IS 'Calendar days from session to expiration: 0, 1-7, 8-30 or >30';
COMMENT ON COLUMN main.gex_by_dte.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_dte.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_dte.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_by_dte.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN main.gex_by_dte.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN main.gex_by_dte.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day (charm), dollars per day';
COMMENT ON COLUMN main.gex_by_dte.call_open_interest IS 'Open interest of the calls used, contracts';
COMMENT ON COLUMN main.gex_by_dte.put_open_interest IS 'Open interest of the puts used, contracts';
COMMENT ON COLUMN main.gex_by_dte.contracts IS 'Contracts aggregated in the row, count';
COMMENT ON COLUMN main.gex_by_dte.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
