-- Expected move (issue 14, item 3): what the options price for the next expiries and sessions, per computed
-- snapshot. Rows of two methods: 'straddle' (one per expiry: the ATM straddle mid interpolated to the forward)
-- and 'atm_iv' (one per horizon of 1 and 5 sessions: the 30-day ATM implied vol scaled by sqrt(sessions / 252)).
-- Filled by gex_warehouse.compute (gex.expected_move.expected_move_table); keyed like every mart table by
-- (session, underlying, valuation_ts, preset) plus what identifies a row (method, target_date, settlement).
CREATE TABLE IF NOT EXISTS mart.expected_move (
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
    preset VARCHAR NOT NULL DEFAULT 'native',
    PRIMARY KEY (session, underlying, valuation_ts, preset, method, target_date, settlement)
);
-- Snapshots computed before this migration have no expected-move rows: compute them again once.
INSERT INTO mart.pending_recompute (underlying, session, valuation_ts, preset, reason)
SELECT DISTINCT underlying, session, valuation_ts, preset, 'computed before mart.expected_move existed (migration 0007)'
FROM mart.regime_daily AS r
WHERE NOT EXISTS (
    SELECT 1 FROM mart.pending_recompute AS p
    WHERE p.underlying = r.underlying AND p.session = r.session AND p.valuation_ts = r.valuation_ts
      AND p.preset = r.preset
);
