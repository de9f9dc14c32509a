-- One row per computed (underlying, session): totals, flip, regime, levels, exposures and how they were computed; GEX in dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.regime_daily (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    spot DOUBLE,
    valuation_ts TIMESTAMPTZ,
    total_gex_usd_per_1pct DOUBLE,
    call_gex_usd_per_1pct DOUBLE,
    put_gex_usd_per_1pct DOUBLE,
    gex_at_spot_model_usd_per_1pct DOUBLE,
    gamma_flip DOUBLE,
    flip_distance_pct DOUBLE,
    regime VARCHAR,
    call_wall DOUBLE,
    put_wall DOUBLE,
    most_negative_net_strike DOUBLE,
    abs_gamma_strike DOUBLE,
    dex_usd DOUBLE,
    vex_usd_per_volpt DOUBLE,
    cex_usd_per_day DOUBLE,
    zero_dte_gamma_share DOUBLE,
    vendor_model_gamma_gap DOUBLE,
    partial_chain BOOLEAN,
    partial_reason VARCHAR,
    contracts_used BIGINT,
    contracts_excluded VARCHAR,
    oi_source VARCHAR,
    rate DOUBLE,
    preset VARCHAR,
    conventions VARCHAR,
    load_id VARCHAR,
    computed_with VARCHAR,
    PRIMARY KEY (session, underlying)
);
COMMENT ON TABLE mart.regime_daily IS 'One row per computed (underlying, session): totals, flip, regime, levels, exposures and how they were computed; GEX in dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.regime_daily.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.regime_daily.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.regime_daily.spot IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN mart.regime_daily.valuation_ts IS 'Instant the models valued at, UTC';
COMMENT ON COLUMN mart.regime_daily.total_gex_usd_per_1pct IS 'Net dealer GEX at spot (the conventions'' spot gamma), dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.regime_daily.call_gex_usd_per_1pct IS 'Dealer GEX of the calls at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.regime_daily.put_gex_usd_per_1pct IS 'Dealer GEX of the puts at spot, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.regime_daily.gex_at_spot_model_usd_per_1pct IS 'Net dealer GEX at spot from the profile''s Black-Scholes model, dollars per 1% move of the underlying';
COMMENT ON COLUMN mart.regime_daily.gamma_flip IS 'Gamma flip level, currency per share; NULL when the profile does not cross zero in the window';
COMMENT ON COLUMN mart.regime_daily.flip_distance_pct IS '(gamma_flip - spot) / spot, percent (positive: flip above spot); NULL without a flip';
COMMENT ON COLUMN mart.regime_daily.regime IS 'positive (dealers long gamma, dampen moves), negative (amplify) or neutral';
COMMENT ON COLUMN mart.regime_daily.call_wall IS 'Strike >= spot with the largest call GEX, currency per share';
COMMENT ON COLUMN mart.regime_daily.put_wall IS 'Strike <= spot with the most negative put GEX, currency per share';
COMMENT ON COLUMN mart.regime_daily.most_negative_net_strike IS 'Strike with the most negative net GEX, currency per share';
COMMENT ON COLUMN mart.regime_daily.abs_gamma_strike IS 'Strike with the largest |call| + |put| GEX, currency per share';
COMMENT ON COLUMN mart.regime_daily.dex_usd IS 'Dealer dollar delta, dollars of underlying';
COMMENT ON COLUMN mart.regime_daily.vex_usd_per_volpt IS 'Change of dealer dollar delta for +1 vol point in every IV, dollars per vol point';
COMMENT ON COLUMN mart.regime_daily.cex_usd_per_day IS 'Change of dealer dollar delta per calendar day, dollars per day';
COMMENT ON COLUMN mart.regime_daily.zero_dte_gamma_share IS 'Share of gross |GEX| settling by the next session close, fraction 0..1';
COMMENT ON COLUMN mart.regime_daily.vendor_model_gamma_gap IS 'Exposure-weighted relative gap between vendor and model gamma, fraction; NULL without vendor gamma';
COMMENT ON COLUMN mart.regime_daily.partial_chain IS 'The chain looks month-filtered or truncated: totals cover only its expirations';
COMMENT ON COLUMN mart.regime_daily.partial_reason IS 'Why partial_chain is set';
COMMENT ON COLUMN mart.regime_daily.contracts_used IS 'Contracts the models valued, count';
COMMENT ON COLUMN mart.regime_daily.contracts_excluded IS 'JSON object: excluded contracts per reason, count';
COMMENT ON COLUMN mart.regime_daily.oi_source IS 'Open interest used: occ_feed (OCC publication of the session morning) or chain (the chain file''s own)';
COMMENT ON COLUMN mart.regime_daily.rate IS 'Flat risk-free rate used, decimal per year, continuous, act/365';
COMMENT ON COLUMN mart.regime_daily.preset IS 'Conventions name: native, perfiliev, perfiliev-early, gflows';
COMMENT ON COLUMN mart.regime_daily.conventions IS 'JSON object: every modelling choice (gex.conventions.Conventions.as_record)';
COMMENT ON COLUMN mart.regime_daily.load_id IS 'raw.chain_snapshots.load_id of the chain computed (a newer load makes the session pending)';
COMMENT ON COLUMN mart.regime_daily.computed_with IS 'Code versions that computed the row (package versions)';
