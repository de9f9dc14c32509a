-- Where are the walls and how did they move? Spot, call wall, put wall and absolute gamma strike over each
-- underlying's last 10 computed sessions, with their changes since the session before (currency per share).
SELECT
    underlying,
    session,
    spot,
    call_wall,
    call_wall_change,
    put_wall,
    put_wall_change,
    abs_gamma_strike,
    abs_gamma_strike_change,
    round(100 * (call_wall - spot) / spot, 2) AS call_wall_distance_pct,
    round(100 * (put_wall - spot) / spot, 2) AS put_wall_distance_pct
FROM levels_history
QUALIFY row_number() OVER (PARTITION BY underlying ORDER BY session DESC) <= 10
ORDER BY underlying, session;
