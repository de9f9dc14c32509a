-- When did the dealer-gamma regime change? Every session whose regime differs from the previous computed session's,
-- with how long the previous regime had lasted and where spot and the flip were.
SELECT
    h.underlying,
    h.session,
    h.previous_regime,
    h.regime,
    lag(h.days_in_regime) OVER (PARTITION BY h.underlying ORDER BY h.session) AS previous_regime_sessions,
    h.spot,
    f.gamma_flip,
    f.flip_distance_pct,
    h.total_gex_usd_per_1pct
FROM regime_history AS h
JOIN flip_history AS f USING (underlying, session)
QUALIFY h.regime_changed
ORDER BY h.underlying, h.session;
