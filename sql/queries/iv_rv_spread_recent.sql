-- Are options rich or cheap lately? ATM 30-day implied vol against 5/10/21-session realized vol over the last
-- 21 sessions of each underlying, in vol points (decimal * 100); spread = implied - 21-session realized.
SELECT
    underlying,
    session,
    "close",
    round(100 * atm_iv_30d, 2) AS atm_iv_30d_volpts,
    round(100 * rv_5d, 2) AS rv_5d_volpts,
    round(100 * rv_10d, 2) AS rv_10d_volpts,
    round(100 * rv_21d, 2) AS rv_21d_volpts,
    round(100 * rv_range_21d, 2) AS rv_range_21d_volpts,
    round(100 * iv_rv_spread, 2) AS iv_rv_spread_volpts
FROM vol_context
QUALIFY row_number() OVER (PARTITION BY underlying ORDER BY session DESC) <= 21
ORDER BY underlying, session;
