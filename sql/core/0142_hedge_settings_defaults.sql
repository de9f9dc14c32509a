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
