-- Which underlyings sit closest to their gamma flip in the latest session, and which changed regime? The scanner's
-- cross-section of the newest session, closest flip first (flip_distance_rank: dense, ties share a rank).
SELECT
    underlying,
    session,
    round(total_gex_usd_per_1pct / 1e9, 3) AS net_gex_bn_per_1pct,
    net_gex_rank,
    round(call_gamma_share, 3) AS call_gamma_share,
    round(flip_distance_pct, 2) AS flip_distance_pct,
    flip_distance_rank,
    regime,
    previous_regime,
    regime_changed,
    gex_to_adv,
    underlyings_in_session
FROM scanner
WHERE session = (SELECT max(session) FROM scanner)
ORDER BY flip_distance_rank NULLS LAST, underlying;
