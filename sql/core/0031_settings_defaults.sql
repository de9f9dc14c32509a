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
