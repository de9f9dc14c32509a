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
