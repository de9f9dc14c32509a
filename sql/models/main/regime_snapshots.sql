-- PUBLISHED (docs/sql-contract.md): one row per computed snapshot (intraday and end-of-day) of each
-- (underlying, session): the day's history of spot, dealer gamma, flip, walls and 0-DTE gamma, for intraday
-- regime shifts and replay (gex replay). Open interest is start-of-day in every row (OCC publishes it once a
-- day): only prices, spot and time to expiry change through the session.
CREATE OR REPLACE VIEW main.regime_snapshots AS
SELECT
    r.underlying,
    r.session,
    coalesce(r.snapshot_ts, r.valuation_ts) AS snapshot_ts,
    r.valuation_ts,
    r.intraday,
    r.spot,
    r.total_gex_usd_per_1pct,
    r.call_gex_usd_per_1pct,
    r.put_gex_usd_per_1pct,
    r.gamma_flip,
    r.flip_distance_pct,
    r.regime,
    r.call_wall,
    r.put_wall,
    r.abs_gamma_strike,
    r.zero_dte_gex_usd_per_1pct,
    r.zero_dte_gamma_share,
    r.oi_date,
    'start of day: open interest as of the close of ' || coalesce(CAST(r.oi_date AS VARCHAR), 'an unknown session')
        || ', the same in every snapshot of the session' AS oi_note,
    r.contracts_used,
    r.preset,
    r.load_id
FROM mart.regime_daily AS r
WHERE core.preset_selected(r.preset);
COMMENT ON VIEW main.regime_snapshots IS 'One row per computed snapshot (intraday and end-of-day) of each (underlying, session): spot, dealer GEX, flip, regime, walls, 0-DTE GEX; GEX in dollars per 1% move of the underlying; open interest start-of-day';
COMMENT ON COLUMN main.regime_snapshots.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.regime_snapshots.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.regime_snapshots.snapshot_ts IS 'When the chain was taken, UTC: the vendor''s snapshot instant (the valuation instant when the vendor gave none)';
COMMENT ON COLUMN main.regime_snapshots.valuation_ts IS 'Instant the models valued at, UTC: the snapshot instant before the close, the session close for the end-of-day snapshot (with underlying, session and preset, the row''s key)';
COMMENT ON COLUMN main.regime_snapshots.intraday IS 'Taken before the session close (false: the end-of-day snapshot, the one main.regime_daily publishes)';
COMMENT ON COLUMN main.regime_snapshots.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN main.regime_snapshots.total_gex_usd_per_1pct IS 'Net dealer GEX at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_snapshots.call_gex_usd_per_1pct IS 'Dealer GEX of the calls at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_snapshots.put_gex_usd_per_1pct IS 'Dealer GEX of the puts at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_snapshots.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN main.regime_snapshots.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN main.regime_snapshots.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN main.regime_snapshots.call_wall IS 'Strike >= spot with the largest call GEX, currency per share';
COMMENT ON COLUMN main.regime_snapshots.put_wall IS 'Strike <= spot with the most negative put GEX, currency per share';
COMMENT ON COLUMN main.regime_snapshots.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX, currency per share';
COMMENT ON COLUMN main.regime_snapshots.zero_dte_gex_usd_per_1pct IS 'Net dealer GEX at spot of the contracts settling by the next session close (0-DTE), dollars per 1% move of the underlying';
COMMENT ON COLUMN main.regime_snapshots.zero_dte_gamma_share IS 'Share of gross |GEX| settling by the next session close, fraction 0..1';
COMMENT ON COLUMN main.regime_snapshots.oi_date IS 'Session whose close the open interest reflects (start-of-day: the same in every snapshot of the session)';
COMMENT ON COLUMN main.regime_snapshots.oi_note IS 'Says in words that the open interest is start-of-day (intraday changes are not in it)';
COMMENT ON COLUMN main.regime_snapshots.contracts_used IS 'Contracts the models used, count';
COMMENT ON COLUMN main.regime_snapshots.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
COMMENT ON COLUMN main.regime_snapshots.load_id IS 'raw.load_manifest.load_id of the file or response the snapshot came from';
