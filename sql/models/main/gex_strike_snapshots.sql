-- PUBLISHED (docs/sql-contract.md): dealer GEX per strike of every computed snapshot of each (underlying,
-- session): strike by time, for heatmaps. Per snapshot, net_gex_usd_per_1pct sums over strikes to
-- main.regime_snapshots.total_gex_usd_per_1pct.
CREATE OR REPLACE VIEW main.gex_strike_snapshots AS
SELECT
    t.underlying,
    t.session,
    coalesce(r.snapshot_ts, t.valuation_ts) AS snapshot_ts,
    t.valuation_ts,
    t.strike,
    t.call_gex_usd_per_1pct,
    t.put_gex_usd_per_1pct,
    t.net_gex_usd_per_1pct,
    t.preset
FROM mart.gex_by_strike AS t
JOIN mart.regime_daily AS r USING (underlying, session, valuation_ts, preset)
WHERE core.preset_selected(t.preset);
COMMENT ON VIEW main.gex_strike_snapshots IS 'Dealer GEX per strike of every computed snapshot (strike by time, for heatmaps); sums per snapshot to main.regime_snapshots totals; dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_strike_snapshots.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.gex_strike_snapshots.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.gex_strike_snapshots.snapshot_ts IS 'When the chain was taken, UTC (as main.regime_snapshots.snapshot_ts)';
COMMENT ON COLUMN main.gex_strike_snapshots.valuation_ts IS 'Valuation instant of the snapshot, UTC (joins main.regime_snapshots)';
COMMENT ON COLUMN main.gex_strike_snapshots.strike IS 'Strike, currency per share';
COMMENT ON COLUMN main.gex_strike_snapshots.call_gex_usd_per_1pct IS 'Dealer GEX of the calls, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_strike_snapshots.put_gex_usd_per_1pct IS 'Dealer GEX of the puts, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_strike_snapshots.net_gex_usd_per_1pct IS 'Call + put dealer GEX, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.gex_strike_snapshots.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
