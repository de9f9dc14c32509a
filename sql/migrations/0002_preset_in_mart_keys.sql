-- Presets are a dimension, not an overwrite (issue 10): every mart table computed per preset gets `preset`
-- in its primary key, so native and compatibility-preset rows of one session coexist. DuckDB cannot change
-- a primary key in place: each table is rebuilt (create the new shape, copy, drop, rename). Rows written
-- before carry the preset of their session's mart.regime_daily row (NULL there meant native).

CREATE TABLE mart.gex_by_strike__v2 (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, strike)
);
INSERT INTO mart.gex_by_strike__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.gex_by_strike AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.gex_by_strike_root__v2 (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, root, strike)
);
INSERT INTO mart.gex_by_strike_root__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.gex_by_strike_root AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.gex_by_expiry__v2 (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, expiration, settlement)
);
INSERT INTO mart.gex_by_expiry__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.gex_by_expiry AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.gex_by_dte__v2 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    dte_bucket VARCHAR NOT NULL,
    call_gex_usd_per_1pct DOUBLE,
    put_gex_usd_per_1pct DOUBLE,
    net_gex_usd_per_1pct DOUBLE,
    dex_usd DOUBLE,
    vex_usd_per_volpt DOUBLE,
    cex_usd_per_day DOUBLE,
    call_open_interest BIGINT,
    put_open_interest BIGINT,
    contracts BIGINT,
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, dte_bucket)
);
INSERT INTO mart.gex_by_dte__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.gex_by_dte AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.gex_profile__v2 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE,
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, spot_level)
);
INSERT INTO mart.gex_profile__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.gex_profile AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.flip_crossings__v2 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    crossing DOUBLE NOT NULL,
    is_flip BOOLEAN,
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, crossing)
);
INSERT INTO mart.flip_crossings__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.flip_crossings AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.regime_daily__v2 (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    conventions VARCHAR,
    load_id VARCHAR,
    computed_with VARCHAR,
    atm_iv_30d DOUBLE,
    PRIMARY KEY (session, underlying, preset)
);
INSERT INTO mart.regime_daily__v2 BY NAME SELECT * REPLACE (coalesce(preset, 'native') AS preset) FROM mart.regime_daily;

CREATE TABLE mart.export_state__v2 (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    fingerprint VARCHAR NOT NULL,
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (underlying, preset, session)
);
INSERT INTO mart.export_state__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.export_state AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

CREATE TABLE mart.hedge_advice__v2 (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, preset, template)
);
INSERT INTO mart.hedge_advice__v2 BY NAME SELECT t.*, coalesce(r.preset, 'native') AS preset FROM mart.hedge_advice AS t LEFT JOIN mart.regime_daily AS r ON r.underlying = t.underlying AND r.session = t.session;

DROP TABLE mart.gex_by_strike;
ALTER TABLE mart.gex_by_strike__v2 RENAME TO gex_by_strike;
DROP TABLE mart.gex_by_strike_root;
ALTER TABLE mart.gex_by_strike_root__v2 RENAME TO gex_by_strike_root;
DROP TABLE mart.gex_by_expiry;
ALTER TABLE mart.gex_by_expiry__v2 RENAME TO gex_by_expiry;
DROP TABLE mart.gex_by_dte;
ALTER TABLE mart.gex_by_dte__v2 RENAME TO gex_by_dte;
DROP TABLE mart.gex_profile;
ALTER TABLE mart.gex_profile__v2 RENAME TO gex_profile;
DROP TABLE mart.flip_crossings;
ALTER TABLE mart.flip_crossings__v2 RENAME TO flip_crossings;
DROP TABLE mart.regime_daily;
ALTER TABLE mart.regime_daily__v2 RENAME TO regime_daily;
DROP TABLE mart.export_state;
ALTER TABLE mart.export_state__v2 RENAME TO export_state;
DROP TABLE mart.hedge_advice;
ALTER TABLE mart.hedge_advice__v2 RENAME TO hedge_advice;
