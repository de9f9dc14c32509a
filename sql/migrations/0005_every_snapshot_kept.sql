-- Every snapshot of a session is kept (issue 12). Before, a second chain of (underlying, session) replaced the
-- first, so a day's history could not exist. Now:
--   raw.chain_snapshots is keyed (underlying, session, valuation_ts). valuation_ts is the snapshot's own instant
--   when it was taken before the close, and the session close otherwise, so a session keeps ONE end-of-day
--   snapshot (a newer end-of-day file replaces it, as before) and any number of intraday ones.
--   Every mart table computed per snapshot gets valuation_ts in its key, right after underlying;
--   mart.regime_daily gains intraday, snapshot_ts, oi_date and zero_dte_gex_usd_per_1pct.
--   mart.pending_recompute marks snapshots (valuation_ts in its key), not sessions.
-- The daily published views keep one row per (underlying, session, preset): core.daily_snapshot picks the
-- end-of-day snapshot, or before it the latest intraday one.
-- DuckDB cannot change a primary key in place: each table is rebuilt as a copy with the new column (CREATE
-- TABLE AS keeps types, not constraints), constrained, and renamed over the old one. Rows of earlier versions
-- take the valuation_ts of their session's mart.regime_daily row (always set: the analysis writes it);
-- orphans without one are dropped, as their session is recomputed anyway (marked below).

-- raw ----------------------------------------------------------------------------------------------------------
CREATE TABLE raw.chain_snapshots__v2 AS SELECT * FROM raw.chain_snapshots;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN load_id SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN intraday SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN spot SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN source_format SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN contracts SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN expired_contracts SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN expirations SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ALTER COLUMN partial_chain SET NOT NULL;
ALTER TABLE raw.chain_snapshots__v2 ADD PRIMARY KEY (underlying, session, valuation_ts);

-- mart: the per-snapshot regime row first (the other tables take their valuation_ts from it) ------------------
CREATE TABLE mart.regime_daily__v2 AS
SELECT r.session, r.underlying, r.valuation_ts, r.* EXCLUDE (session, underlying, valuation_ts),
       coalesce(s.intraday, false) AS intraday,
       s.snapshot_ts,
       CAST(NULL AS DATE) AS oi_date,
       CAST(NULL AS DOUBLE) AS zero_dte_gex_usd_per_1pct
FROM mart.regime_daily AS r
LEFT JOIN raw.chain_snapshots AS s ON s.underlying = r.underlying AND s.session = r.session
WHERE r.valuation_ts IS NOT NULL;
ALTER TABLE mart.regime_daily__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.regime_daily__v2 ALTER COLUMN intraday SET NOT NULL;
ALTER TABLE mart.regime_daily__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset);

CREATE TABLE mart.gex_by_strike__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.gex_by_strike AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.gex_by_strike__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.gex_by_strike__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, strike);

CREATE TABLE mart.gex_by_strike_root__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.gex_by_strike_root AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.gex_by_strike_root__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.gex_by_strike_root__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, root, strike);

CREATE TABLE mart.gex_by_expiry__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.gex_by_expiry AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.gex_by_expiry__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.gex_by_expiry__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, expiration, settlement);

CREATE TABLE mart.gex_by_dte__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.gex_by_dte AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.gex_by_dte__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.gex_by_dte__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, dte_bucket);

CREATE TABLE mart.gex_profile__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.gex_profile AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.gex_profile__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.gex_profile__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, spot_level);

CREATE TABLE mart.flip_crossings__v2 AS
SELECT t.session, t.underlying, r.valuation_ts, t.* EXCLUDE (session, underlying)
FROM mart.flip_crossings AS t JOIN mart.regime_daily__v2 AS r USING (session, underlying, preset);
ALTER TABLE mart.flip_crossings__v2 ALTER COLUMN preset SET DEFAULT 'native';
ALTER TABLE mart.flip_crossings__v2 ADD PRIMARY KEY (session, underlying, valuation_ts, preset, crossing);

-- Marks are per snapshot; every snapshot computed before this migration is recomputed once to fill the new
-- columns (deterministic: the same inputs give the same bytes, so the daily views do not change).
CREATE TABLE mart.pending_recompute__v2 AS
SELECT p.underlying, p.session, r.valuation_ts, p.preset, p.reason
FROM mart.pending_recompute AS p JOIN mart.regime_daily__v2 AS r USING (underlying, session, preset);
INSERT INTO mart.pending_recompute__v2
SELECT underlying, session, valuation_ts, preset, 'computed by an earlier version (schema before migration 0005)'
FROM mart.regime_daily__v2 AS r
WHERE NOT EXISTS (
    SELECT 1 FROM mart.pending_recompute__v2 AS p
    WHERE p.underlying = r.underlying AND p.session = r.session AND p.valuation_ts = r.valuation_ts
      AND p.preset = r.preset
);
ALTER TABLE mart.pending_recompute__v2 ALTER COLUMN reason SET NOT NULL;
ALTER TABLE mart.pending_recompute__v2 ADD PRIMARY KEY (underlying, session, valuation_ts, preset);

DROP TABLE raw.chain_snapshots;
ALTER TABLE raw.chain_snapshots__v2 RENAME TO chain_snapshots;
DROP TABLE mart.regime_daily;
ALTER TABLE mart.regime_daily__v2 RENAME TO regime_daily;
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
DROP TABLE mart.pending_recompute;
ALTER TABLE mart.pending_recompute__v2 RENAME TO pending_recompute;

-- the attempt log says which snapshot an attempt computed (NULL: written before this migration)
ALTER TABLE mart.runs ADD COLUMN valuation_ts TIMESTAMPTZ;
