-- The per-snapshot detail marts drop their PRIMARY KEY (issue 13, item 3: the warehouse's size per whole-market
-- year). DuckDB keeps a primary key as an ART index beside the table: on a 1,000-underlying session the indexes of
-- these ten tables made the file 219 MB against 54 MB without them, and 21 such sessions 3.6 GB against 0.6 GB
-- (docs/warehouse.md, "Keys"). Their keys stay the same and unique: every write replaces whole snapshots (DELETE
-- by key, then INSERT, in one transaction) and gex_warehouse.compute checks each batch's rows for a repeated key
-- before it writes (MART_KEYS). mart.regime_daily (one row per snapshot) and the small tables keep theirs.
-- DuckDB cannot drop a constraint in place: each table is rebuilt (create, copy, drop, rename), its key columns
-- NOT NULL as the key made them; the models then put the column comments back.

CREATE TABLE mart.gex_by_strike__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
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
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.gex_by_strike__v3 BY NAME SELECT * FROM mart.gex_by_strike;
DROP TABLE mart.gex_by_strike;
ALTER TABLE mart.gex_by_strike__v3 RENAME TO gex_by_strike;

CREATE TABLE mart.gex_by_strike_root__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
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
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.gex_by_strike_root__v3 BY NAME SELECT * FROM mart.gex_by_strike_root;
DROP TABLE mart.gex_by_strike_root;
ALTER TABLE mart.gex_by_strike_root__v3 RENAME TO gex_by_strike_root;

CREATE TABLE mart.gex_by_expiry__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
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
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.gex_by_expiry__v3 BY NAME SELECT * FROM mart.gex_by_expiry;
DROP TABLE mart.gex_by_expiry;
ALTER TABLE mart.gex_by_expiry__v3 RENAME TO gex_by_expiry;

CREATE TABLE mart.gex_by_dte__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
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
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.gex_by_dte__v3 BY NAME SELECT * FROM mart.gex_by_dte;
DROP TABLE mart.gex_by_dte;
ALTER TABLE mart.gex_by_dte__v3 RENAME TO gex_by_dte;

CREATE TABLE mart.gex_profile__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE,
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.gex_profile__v3 BY NAME SELECT * FROM mart.gex_profile;
DROP TABLE mart.gex_profile;
ALTER TABLE mart.gex_profile__v3 RENAME TO gex_profile;

CREATE TABLE mart.flip_crossings__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    crossing DOUBLE NOT NULL,
    is_flip BOOLEAN,
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.flip_crossings__v3 BY NAME SELECT * FROM mart.flip_crossings;
DROP TABLE mart.flip_crossings;
ALTER TABLE mart.flip_crossings__v3 RENAME TO flip_crossings;

CREATE TABLE mart.expiry_views__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    preset VARCHAR NOT NULL,
    expiries VARCHAR NOT NULL,
    contracts BIGINT NOT NULL,
    expirations BIGINT NOT NULL,
    total_gex_usd_per_1pct DOUBLE NOT NULL,
    call_gex_usd_per_1pct DOUBLE NOT NULL,
    put_gex_usd_per_1pct DOUBLE NOT NULL,
    gex_at_spot_model_usd_per_1pct DOUBLE NOT NULL,
    gamma_flip DOUBLE,
    flip_crossings DOUBLE[] NOT NULL,
    flip_distance_pct DOUBLE,
    regime VARCHAR,
    call_wall DOUBLE,
    put_wall DOUBLE,
    abs_gamma_strike DOUBLE,
    gross_gex_share DOUBLE NOT NULL,
    excluded_expiration DATE
);
INSERT INTO mart.expiry_views__v3 BY NAME SELECT * FROM mart.expiry_views;
DROP TABLE mart.expiry_views;
ALTER TABLE mart.expiry_views__v3 RENAME TO expiry_views;

CREATE TABLE mart.gex_profile_by_expiries__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    preset VARCHAR NOT NULL,
    expiries VARCHAR NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE NOT NULL
);
INSERT INTO mart.gex_profile_by_expiries__v3 BY NAME SELECT * FROM mart.gex_profile_by_expiries;
DROP TABLE mart.gex_profile_by_expiries;
ALTER TABLE mart.gex_profile_by_expiries__v3 RENAME TO gex_profile_by_expiries;

CREATE TABLE mart.expected_move__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    method VARCHAR NOT NULL,
    target_date DATE NOT NULL,
    settlement VARCHAR NOT NULL,
    sessions_ahead INTEGER,
    days_to_settlement DOUBLE,
    spot DOUBLE NOT NULL,
    forward DOUBLE,
    forward_source VARCHAR,
    strike_below DOUBLE,
    strike_above DOUBLE,
    atm_iv DOUBLE,
    move_points DOUBLE NOT NULL,
    move_pct DOUBLE NOT NULL,
    preset VARCHAR NOT NULL DEFAULT 'native'
);
INSERT INTO mart.expected_move__v3 BY NAME SELECT * FROM mart.expected_move;
DROP TABLE mart.expected_move;
ALTER TABLE mart.expected_move__v3 RENAME TO expected_move;

CREATE TABLE mart.early_exercise__v3 (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    preset VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    settlement VARCHAR NOT NULL,
    strike DOUBLE NOT NULL,
    "right" VARCHAR NOT NULL,
    reason VARCHAR NOT NULL CHECK (reason IN ('deep_itm_put', 'call_before_ex_dividend')),
    open_interest BIGINT,
    gex_usd_per_1pct DOUBLE NOT NULL,
    time_value DOUBLE NOT NULL,
    carry DOUBLE NOT NULL,
    dividend_pv DOUBLE NOT NULL,
    dividend_source VARCHAR NOT NULL CHECK (dividend_source IN ('parity', 'none'))
);
INSERT INTO mart.early_exercise__v3 BY NAME SELECT * FROM mart.early_exercise;
DROP TABLE mart.early_exercise;
ALTER TABLE mart.early_exercise__v3 RENAME TO early_exercise;
