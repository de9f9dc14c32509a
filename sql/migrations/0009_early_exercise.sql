-- American options and European gamma (issue 13, item 5): per computed snapshot, the chain's exercise style and
-- the contracts where American early exercise matters (gex.early_exercise.screen_chain: deep in-the-money puts,
-- in-the-money calls before an ex-date), so a reader sees how much of the European-gamma GEX to distrust.
-- Summary columns on mart.regime_daily (nullable: rows computed before are marked for recompute below), the
-- flagged contracts in mart.early_exercise, keyed like every mart (session, underlying, valuation_ts, preset, ...).
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS exercise_style VARCHAR;
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS early_exercise_contracts BIGINT;
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS early_exercise_gex_share DOUBLE;
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS early_exercise_expiries_without_carry BIGINT;

CREATE TABLE IF NOT EXISTS mart.early_exercise (
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
    dividend_source VARCHAR NOT NULL CHECK (dividend_source IN ('parity', 'none')),
    PRIMARY KEY (session, underlying, valuation_ts, preset, symbol)
);

-- Snapshots computed before this migration have no exercise style nor flags: compute them again once.
INSERT INTO mart.pending_recompute (underlying, session, valuation_ts, preset, reason)
SELECT DISTINCT underlying, session, valuation_ts, preset, 'early-exercise flags added (migration 0009)'
FROM mart.regime_daily AS r
WHERE NOT EXISTS (
    SELECT 1 FROM mart.pending_recompute AS p
    WHERE p.underlying = r.underlying AND p.session = r.session AND p.valuation_ts = r.valuation_ts
      AND p.preset = r.preset
);
