-- The rate curve each loaded session is valued with: the points of the latest observation date on or
-- before the session, if no older than rate_max_age_days; otherwise one flat point at fallback_rate
-- (tenor_days null, is_fallback true). Rates: continuous, decimal per year, act/365.
CREATE OR REPLACE VIEW core.rates AS
WITH settings AS (
    SELECT
        max(value) FILTER (WHERE name = 'fallback_rate') AS fallback_rate,
        max(value) FILTER (WHERE name = 'rate_max_age_days') AS max_age_days
    FROM core.settings
),
sessions AS (
    SELECT DISTINCT session FROM raw.chain_snapshots
),
latest AS (
    SELECT s.session, max(r.date) AS rates_date
    FROM sessions AS s
    CROSS JOIN settings AS st
    LEFT JOIN raw.rates AS r
        ON r.date <= s.session AND r.date >= s.session - CAST(st.max_age_days AS INTEGER)
    GROUP BY s.session
)
SELECT l.session, l.rates_date, r.tenor_days, r.rate, r.source, false AS is_fallback
FROM latest AS l
JOIN raw.rates AS r ON r.date = l.rates_date
UNION ALL
SELECT l.session, NULL AS rates_date, NULL AS tenor_days, st.fallback_rate AS rate, 'fallback' AS source,
    true AS is_fallback
FROM latest AS l
CROSS JOIN settings AS st
WHERE l.rates_date IS NULL;
COMMENT ON VIEW core.rates IS 'Rate curve per loaded session (continuous, decimal per year, act/365), or the flat fallback_rate when none is recent enough';
COMMENT ON COLUMN core.rates.session IS 'Loaded session the curve values (New York date)';
COMMENT ON COLUMN core.rates.rates_date IS 'Observation date of the curve used (on or before the session); NULL for the fallback';
COMMENT ON COLUMN core.rates.tenor_days IS 'Tenor of the point, calendar days; NULL for the flat fallback';
COMMENT ON COLUMN core.rates.rate IS 'Risk-free rate, decimal per year, continuously compounded, act/365';
COMMENT ON COLUMN core.rates.source IS 'raw.rates.source of the point, or fallback';
COMMENT ON COLUMN core.rates.is_fallback IS 'No observation within rate_max_age_days: the flat fallback_rate setting';
