-- How many sessions of the last year (365 calendar days up to each underlying's latest computed session) were in
-- negative dealer gamma (dealers amplify moves), per underlying, with the share and the longest negative stretch?
SELECT
    underlying,
    count(*) AS sessions,
    count(*) FILTER (WHERE regime = 'negative') AS negative_sessions,
    round(100.0 * count(*) FILTER (WHERE regime = 'negative') / count(*), 1) AS negative_pct,
    coalesce(max(days_in_regime) FILTER (WHERE regime = 'negative'), 0) AS longest_negative_stretch_sessions,
    min(session) AS first_session,
    max(session) AS last_session
FROM regime_history AS h
WHERE session > (SELECT max(session) FROM regime_history AS l WHERE l.underlying = h.underlying) - INTERVAL 365 DAY
GROUP BY underlying
ORDER BY underlying;
