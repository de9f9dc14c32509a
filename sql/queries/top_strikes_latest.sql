-- Which strikes carry the most dealer gamma today? The 10 strikes with the largest |net GEX| on each underlying's
-- latest computed session, with their distance from spot and the call/put split ($ per 1% move).
WITH latest AS (
    SELECT underlying, max(session) AS session FROM regime_daily GROUP BY underlying
),
ranked AS (
    SELECT
        s.underlying,
        s.session,
        s.strike,
        round(100 * (s.strike - r.spot) / r.spot, 2) AS distance_from_spot_pct,
        s.net_gex_usd_per_1pct,
        s.call_gex_usd_per_1pct,
        s.put_gex_usd_per_1pct,
        s.call_open_interest,
        s.put_open_interest,
        row_number() OVER (PARTITION BY s.underlying ORDER BY abs(s.net_gex_usd_per_1pct) DESC, s.strike) AS rank
    FROM gex_by_strike AS s
    JOIN latest AS l USING (underlying, session)
    JOIN regime_daily AS r USING (underlying, session)
)
SELECT * FROM ranked WHERE rank <= 10 ORDER BY underlying, rank;
