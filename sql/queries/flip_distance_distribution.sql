-- How far is the gamma flip from spot, usually? Distribution of flip_distance_pct ((flip - spot) / spot, percent;
-- positive = flip above spot) per underlying, and how often the profile had no flip inside the window.
SELECT
    underlying,
    count(*) AS sessions,
    count(flip_distance_pct) AS sessions_with_flip,
    round(min(flip_distance_pct), 2) AS min_pct,
    round(quantile_cont(flip_distance_pct, 0.10), 2) AS p10_pct,
    round(quantile_cont(flip_distance_pct, 0.25), 2) AS p25_pct,
    round(median(flip_distance_pct), 2) AS median_pct,
    round(quantile_cont(flip_distance_pct, 0.75), 2) AS p75_pct,
    round(quantile_cont(flip_distance_pct, 0.90), 2) AS p90_pct,
    round(max(flip_distance_pct), 2) AS max_pct,
    count(*) FILTER (WHERE abs(flip_distance_pct) <= 1) AS sessions_flip_within_1pct
FROM flip_history
GROUP BY underlying
ORDER BY underlying;
