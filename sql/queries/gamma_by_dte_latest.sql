-- How much of today's dealer gamma sits in short-dated options? Net and gross GEX per days-to-expiry bucket on each
-- underlying's latest computed session, with each bucket's share of the gross |GEX| ($ per 1% move).
WITH latest AS (
    SELECT underlying, max(session) AS session FROM regime_daily GROUP BY underlying
)
SELECT
    d.underlying,
    d.session,
    d.dte_bucket,
    d.net_gex_usd_per_1pct,
    abs(d.call_gex_usd_per_1pct) + abs(d.put_gex_usd_per_1pct) AS gross_gex_usd_per_1pct,
    round(100 * (abs(d.call_gex_usd_per_1pct) + abs(d.put_gex_usd_per_1pct))
          / sum(abs(d.call_gex_usd_per_1pct) + abs(d.put_gex_usd_per_1pct)) OVER (PARTITION BY d.underlying), 1)
        AS gross_share_pct,
    d.contracts
FROM gex_by_dte AS d
JOIN latest AS l USING (underlying, session)
ORDER BY d.underlying, CASE d.dte_bucket WHEN '0' THEN 0 WHEN '1-7' THEN 1 WHEN '8-30' THEN 2 ELSE 3 END;
