-- Baseline: every table, schema and seed of the warehouse as of the last release with per-layer
-- migration files (sql/<layer>/NNNN_*.sql, up to 3ee4685). Every statement is idempotent, so this file
-- brings any warehouse made by an earlier version to the same shape (legacy adoption, docs/warehouse.md)
-- and creates a fresh one. Column documentation lives in sql/models/, not here.

-- from sql/raw/0001_schema_raw.sql
-- Layer 1: what the source files say, one row per record, plus load bookkeeping (manifest, quarantine).
CREATE SCHEMA IF NOT EXISTS raw;

-- from sql/core/0002_schema_core.sql
-- Layer 2: cleaned, joined, as-of-correct views over raw (contracts, sessions, rates).
CREATE SCHEMA IF NOT EXISTS core;

-- from sql/mart/0003_schema_mart.sql
-- Layer 3: analysis results (exposures by strike, flips, regimes); filled by later issues.
CREATE SCHEMA IF NOT EXISTS mart;

-- from sql/raw/0010_load_manifest.sql
-- One row per distinct source file content (sha256) that ingest has seen: what it was, what came of it.
-- Accounting, in contract records (a Cboe quote-table line holds 2: a call and a put):
--   rows_in = rows_loaded + rows_rejected, exactly; rows_excluded <= rows_loaded.
-- started_at / finished_at are the only volatile columns of the warehouse (excluded from content hashes).
CREATE TABLE IF NOT EXISTS raw.load_manifest (
    load_id VARCHAR PRIMARY KEY,
    file_path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    format VARCHAR,
    kind VARCHAR CHECK (kind IN ('chain', 'reference')),
    session DATE,
    underlying VARCHAR,
    chains INTEGER NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_excluded BIGINT NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('loaded', 'superseded', 'rejected', 'failed')),
    superseded_by VARCHAR,
    warnings VARCHAR[] NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    message VARCHAR,
    CHECK (rows_in = rows_loaded + rows_rejected),
    CHECK (rows_excluded <= rows_loaded)
);

-- from sql/raw/0011_chain_snapshots.sql
-- The current chain of each (underlying, session): snapshot-wide facts of the file it came from, plus the
-- completeness checks made at load time. Re-loading a session replaces its row (and its quotes).
CREATE TABLE IF NOT EXISTS raw.chain_snapshots (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    load_id VARCHAR NOT NULL,
    snapshot_ts TIMESTAMPTZ,
    valuation_ts TIMESTAMPTZ NOT NULL,
    header_date DATE,
    intraday BOOLEAN NOT NULL,
    spot DOUBLE NOT NULL,
    underlying_name VARCHAR,
    source_format VARCHAR NOT NULL,
    contracts BIGINT NOT NULL,
    expired_contracts BIGINT NOT NULL,
    expirations INTEGER NOT NULL,
    first_expiration DATE,
    last_expiration DATE,
    partial_chain BOOLEAN NOT NULL,
    partial_reason VARCHAR,
    PRIMARY KEY (underlying, session)
);

-- from sql/raw/0012_chain_quotes.sql
-- The canonical chain (gex.chain.CHAIN_SCHEMA, docs/chain-schema.md), one row per contract, for the
-- current chain of each (underlying, session), plus the load it came from. Expired rows are kept (models
-- exclude them: core.contracts.excluded_reason). No key constraint: uniqueness of (underlying, session,
-- symbol) is enforced by validation before insert (a key index would halve the load speed).
CREATE TABLE IF NOT EXISTS raw.chain_quotes (
    load_id VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    snapshot_ts TIMESTAMPTZ,
    valuation_ts TIMESTAMPTZ NOT NULL,
    symbol VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    settlement VARCHAR NOT NULL CHECK (settlement IN ('AM', 'PM')),
    settlement_ts TIMESTAMPTZ NOT NULL,
    strike DOUBLE NOT NULL,
    "right" VARCHAR NOT NULL CHECK ("right" IN ('C', 'P')),
    bid DOUBLE,
    ask DOUBLE,
    "last" DOUBLE,
    volume BIGINT,
    open_interest BIGINT,
    oi_date DATE,
    vendor_iv DOUBLE,
    vendor_delta DOUBLE,
    vendor_gamma DOUBLE,
    vendor_vega DOUBLE,
    vendor_theta DOUBLE,
    underlying_price DOUBLE NOT NULL,
    multiplier DOUBLE NOT NULL,
    source_line BIGINT NOT NULL
);

-- from sql/raw/0013_quarantine.sql
-- Every record a load did not write to a data table, with where it was and why. Nothing is dropped silently:
-- for each load, sum(records) = raw.load_manifest.rows_rejected.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    load_id VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line BIGINT,
    records INTEGER NOT NULL CHECK (records > 0),
    symbol VARCHAR,
    stage VARCHAR NOT NULL CHECK (stage IN ('reader', 'validation')),
    reason VARCHAR NOT NULL,
    raw_text VARCHAR
);

-- from sql/raw/0014_underlying_closes.sql
-- Daily closes of underlyings, from reference files (source = the reader's format name) and from chain
-- snapshots taken at or after the session close (source = 'chain': the snapshot's spot). Intraday
-- snapshots give no close. One row per (underlying, session, source); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.underlying_closes (
    load_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    "open" DOUBLE,
    high DOUBLE,
    low DOUBLE,
    "close" DOUBLE NOT NULL,
    source_line BIGINT
);

-- from sql/raw/0015_open_interest.sql
-- Open interest as OCC publishes it (gex.reference.OPEN_INTEREST_SCHEMA). As-of rule: the file published
-- on the morning of session t (publish_date) reflects positions after the close of t-1 (oi_date).
-- One publication per (underlying, publish_date); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.open_interest (
    load_id VARCHAR NOT NULL,
    publish_date DATE NOT NULL,
    oi_date DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    strike DOUBLE NOT NULL,
    "right" VARCHAR NOT NULL CHECK ("right" IN ('C', 'P')),
    open_interest BIGINT NOT NULL CHECK (open_interest >= 0),
    source_line BIGINT NOT NULL,
    CHECK (oi_date < publish_date)
);

-- from sql/raw/0016_rates.sql
-- Risk-free rates by observation date and tenor, continuously compounded, decimal per year, act/365
-- (gex.reference.RATES_SCHEMA: readers convert other quoting conventions first).
-- One rate per (date, tenor_days); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.rates (
    load_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    date DATE NOT NULL,
    tenor_days INTEGER NOT NULL CHECK (tenor_days > 0),
    rate DOUBLE NOT NULL,
    source_line BIGINT NOT NULL
);

-- from sql/raw/0017_external_gex.sql
-- Other providers' daily GEX series, for comparison only (gex.reference.EXTERNAL_GEX_SCHEMA): each provider
-- has its own positioning model, so compare sign and rank, not level. One value per (provider,
-- underlying, session); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.external_gex (
    load_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    gex_usd DOUBLE NOT NULL,
    dix DOUBLE,
    underlying_close DOUBLE,
    source_line BIGINT NOT NULL
);

-- from sql/raw/0018_derived_results.sql
-- Third parties' computed GEX results for one snapshot (gflows-style dashboards' JSON output), kept to
-- compare with this project's numbers (gex.reference.DERIVED_RESULTS_SCHEMA). Strike rows have strike set;
-- one summary row per expiry_group has strike null and carries total_gex_bn and zero_gamma.
-- One result set per (provider, underlying, session); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.derived_results (
    load_id VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    expiry_group VARCHAR NOT NULL,
    strike DOUBLE,
    call_gex_bn DOUBLE,
    put_gex_bn DOUBLE,
    net_gex_bn DOUBLE,
    zero_gamma DOUBLE,
    total_gex_bn DOUBLE,
    spot DOUBLE,
    source_line BIGINT NOT NULL
);

-- from sql/core/0030_settings.sql
-- Warehouse-wide settings the core views read (one number each, with its unit).
-- Change one with gex_warehouse.settings.set_setting(con, name, value) or an UPDATE.
CREATE TABLE IF NOT EXISTS core.settings (
    name VARCHAR PRIMARY KEY,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);

-- from sql/core/0031_settings_defaults.sql
-- Default settings, inserted only where absent (never overwrites a value someone set).
-- fallback_rate mirrors gex.conventions.NATIVE.rate (0.0), the models' own default when no rate is supplied.
INSERT INTO core.settings
SELECT *
FROM (
    VALUES
        ('fallback_rate', 0.0, 'decimal per year, continuously compounded, act/365',
         'Flat risk-free rate core.rates uses for a session with no observed rate within rate_max_age_days'),
        ('rate_max_age_days', 7.0, 'calendar days',
         'Oldest rate observation (before the session) core.rates accepts before falling back to fallback_rate')
) AS defaults (name, value, unit, description)
WHERE NOT EXISTS (SELECT 1 FROM core.settings AS s WHERE s.name = defaults.name);

-- from sql/mart/0100_gex_by_strike.sql
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

-- from sql/mart/0101_gex_by_expiry.sql
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

-- from sql/mart/0102_gex_by_dte.sql
-- Dealer exposures per days-to-expiry bucket (0, 1-7, 8-30, >30 calendar days) of each computed (underlying, session); GEX in dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_by_dte (
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
    PRIMARY KEY (session, underlying, dte_bucket)
);

-- from sql/mart/0103_gex_profile.sql
-- Sticky-strike dealer GEX re-evaluated at hypothetical spots on the conventions' grid, dollars per 1% move of the underlying.
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.gex_profile (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE,
    PRIMARY KEY (session, underlying, spot_level)
);

-- from sql/mart/0104_flip_crossings.sql
-- Every zero crossing of the GEX profile inside the flip window; is_flip marks the gamma flip (the crossing the conventions pick).
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.flip_crossings (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    crossing DOUBLE NOT NULL,
    is_flip BOOLEAN,
    PRIMARY KEY (session, underlying, crossing)
);

-- from sql/mart/0105_regime_daily.sql
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

-- from sql/mart/0106_runs.sql
-- One row per computation attempt of an (underlying, session) (a log: rows accumulate; times are wall-clock).
-- Appended by gex compute (gex_warehouse.compute.record_run); never replaced.
CREATE TABLE IF NOT EXISTS mart.runs (
    run_id VARCHAR NOT NULL,
    flow VARCHAR NOT NULL,
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    rows_in BIGINT,
    rows_out BIGINT,
    status VARCHAR NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    duration_s DOUBLE,
    code_version VARCHAR,
    conventions VARCHAR,
    message VARCHAR
);

-- from sql/mart/0107_runs_flow_run_id.sql
-- The orchestrator's run that made each attempt (a Prefect flow run id; NULL for `gex compute`).
ALTER TABLE mart.runs ADD COLUMN IF NOT EXISTS flow_run_id VARCHAR;

-- from sql/mart/0110_regime_daily_atm_iv_30d.sql
-- Constant-maturity (30 calendar days) at-the-money implied volatility of the session's chain, next to the regime
-- (gex.volatility.atm_iv_constant_maturity: smile at each expiry's forward, linear in total variance between expiries).
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS atm_iv_30d DOUBLE;

-- from sql/mart/0111_gex_by_strike_root.sql
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

-- from sql/mart/0120_export_state.sql
-- Which (underlying, session) the Parquet exports hold, and from what (gex_warehouse.export).
-- A bookkeeping table: the fingerprint changes when the session is recomputed from another chain load,
-- under other conventions or code, or after a migration, and the session is exported again.
CREATE TABLE IF NOT EXISTS mart.export_state (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    fingerprint VARCHAR NOT NULL,
    PRIMARY KEY (underlying, session)
);

-- from sql/mart/0130_hedge_advice.sql
-- One row per (session, underlying, position template): the hedging advisor's band and expected daily P&L for a
-- standard position at that session's spot, ATM IV, realized vol and dealer-gamma regime, with the inputs used.
-- Written by a flow with gex.advisor.advice_rows (columns match gex.advisor.HEDGE_ADVICE_SCHEMA).
CREATE TABLE IF NOT EXISTS mart.hedge_advice (
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
    PRIMARY KEY (session, underlying, template)
);

-- from sql/core/0140_hedge_templates.sql
-- Which position templates the flows publish hedging advice for (mart.hedge_advice), and whether each is on.
-- Seeded by 0141 with every template gex.advisor knows; the two standard gamma-scalping setups are enabled.
-- Turn one on or off with: UPDATE core.hedge_templates SET enabled = true WHERE template = 'long-atm-calls-4'.
CREATE TABLE IF NOT EXISTS core.hedge_templates (
    template VARCHAR PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    description VARCHAR NOT NULL
);

-- from sql/core/0141_hedge_templates_defaults.sql
-- Default hedge templates (core.hedge_templates), inserted only where absent (never overwrites a choice someone made).
INSERT INTO core.hedge_templates
SELECT *
FROM (
    VALUES
        ('long-atm-straddle-30d', true, 'Long 1 ATM straddle (1 call + 1 put, 100 shares each), 30 days to expiry'),
        ('long-otm-calls', true, 'Long 4 calls about 3% out of the money (the 1-5% OTM, 14-60 day gamma-scalping setup), 30 days'),
        ('long-atm-calls-4', false, 'Long 4 ATM calls, 30 days (the hedging-advisor reference case)'),
        ('short-atm-straddle-30d', false, 'Short 1 ATM straddle, 30 days (a market maker''s short gamma)')
) AS defaults (template, enabled, description)
WHERE NOT EXISTS (SELECT 1 FROM core.hedge_templates AS t WHERE t.template = defaults.template);

-- from sql/core/0142_hedge_settings_defaults.sql
-- The cost model and risk preference of the published advice (core.settings rows, inserted only where absent).
INSERT INTO core.settings
SELECT *
FROM (
    VALUES
        ('hedge_cost_bps', 5.0, 'basis points of traded notional, one way',
         'Proportional cost of a hedge trade in the underlying (commission and impact) used by mart.hedge_advice'),
        ('hedge_spread_usd_per_share', 0.0, 'dollars per share',
         'Half-spread or slippage paid per share traded, used by mart.hedge_advice'),
        ('hedge_fee_usd_per_order', 0.0, 'dollars per order', 'Fixed fee per hedge order, used by mart.hedge_advice'),
        ('hedge_min_order_shares', 0.0, 'shares', 'Smallest hedge order sent, used by mart.hedge_advice'),
        ('hedge_risk_aversion_per_usd', 0.01, '1/dollars (CARA)',
         'Risk aversion of the published advice: larger trades more often for a smaller hedging error')
) AS defaults (name, value, unit, description)
WHERE NOT EXISTS (SELECT 1 FROM core.settings AS s WHERE s.name = defaults.name);

