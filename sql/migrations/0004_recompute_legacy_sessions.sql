-- Every session computed before this migration is recomputed once: warehouses made by earlier versions may
-- lack data added since they were computed (atm_iv_30d, gex_by_strike_root, hedge_advice rows, double-precision
-- spots), and recomputing is deterministic (same inputs, same bytes). A fresh warehouse has no such rows.
INSERT INTO mart.pending_recompute (underlying, session, preset, reason)
SELECT DISTINCT underlying, session, preset, 'computed by an earlier version (schema before migration 0004)'
FROM mart.regime_daily AS r
WHERE NOT EXISTS (
    SELECT 1 FROM mart.pending_recompute AS p
    WHERE p.underlying = r.underlying AND p.session = r.session AND p.preset = r.preset
);
