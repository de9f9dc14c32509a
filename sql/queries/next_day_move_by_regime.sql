-- Do moves get bigger in negative gamma? Average and typical absolute next-session return of the underlying by
-- the regime of the session before, in percent (close to close, main.vol_context closes).
WITH moves AS (
    SELECT
        r.underlying,
        r.session,
        r.regime,
        100 * abs(lead(v.log_return) OVER (PARTITION BY v.underlying ORDER BY v.session)) AS next_abs_move_pct
    FROM vol_context AS v
    LEFT JOIN regime_daily AS r USING (underlying, session)
)
SELECT
    underlying,
    regime,
    count(next_abs_move_pct) AS sessions,
    round(avg(next_abs_move_pct), 3) AS mean_abs_next_move_pct,
    round(median(next_abs_move_pct), 3) AS median_abs_next_move_pct,
    round(max(next_abs_move_pct), 3) AS max_abs_next_move_pct
FROM moves
WHERE regime IS NOT NULL
GROUP BY underlying, regime
ORDER BY underlying, regime;
