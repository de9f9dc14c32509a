"""gex.evidence: hand computations on tiny series, and every fast path against the loop reference."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from gex.evidence import BootstrapSettings, external_gex_evidence, history_stats, min_bucket_days
from gex.evidence import bootstrap as bs
from gex.evidence import reference as ref
from gex.evidence.buckets import FLIP_BUCKETS, flip_distance_groups, quantile_groups, regime_groups, wall_holds
from gex.evidence.forward import forward_log_return, forward_parkinson_vol, forward_realised_vol


def _closes(returns):
    return 100.0 * np.exp(np.concatenate(([0.0], np.cumsum(returns))))


# ---------------------------------------------------------------------------------------------
# forward figures by hand


def test_forward_rv_by_hand():
    c = _closes([0.01, -0.02, 0.03])  # 4 closes, returns r1..r3
    rv2 = forward_realised_vol(c, 2)
    assert rv2[0] == pytest.approx(math.sqrt(252 / 2 * (0.01**2 + 0.02**2)), rel=1e-12)
    assert rv2[1] == pytest.approx(math.sqrt(252 / 2 * (0.02**2 + 0.03**2)), rel=1e-12)
    assert np.isnan(rv2[2:]).all()  # no full window after the last two closes
    rv1 = forward_realised_vol(c, 1)
    assert rv1[:3] == pytest.approx([math.sqrt(252) * 0.01, math.sqrt(252) * 0.02, math.sqrt(252) * 0.03], rel=1e-12)


def test_forward_rv_gap_spoils_only_its_windows():
    c = _closes([0.01, 0.01, 0.01, 0.01, 0.01])
    c[2] = np.nan  # returns 2 and 3 unknown
    rv = forward_realised_vol(c, 1)
    assert np.isfinite(rv[0]) and np.isnan(rv[1]) and np.isnan(rv[2]) and np.isfinite(rv[3])


def test_parkinson_by_hand_and_missing_highs():
    hi = np.array([101.0, 102.0, 103.0, 104.0])
    lo = np.array([99.0, 100.0, 100.0, 101.0])
    pk = forward_parkinson_vol(hi, lo, 2)
    want0 = math.sqrt(252 / 2 * (math.log(102 / 100) ** 2 + math.log(103 / 100) ** 2) / (4 * math.log(2)))
    assert pk[0] == pytest.approx(want0, rel=1e-12)
    assert np.isnan(forward_parkinson_vol(np.full(4, np.nan), lo, 1)).all()  # close-only history


def test_forward_log_return():
    c = np.array([100.0, 110.0, 121.0])
    assert forward_log_return(c, 2)[0] == pytest.approx(math.log(1.21))
    assert np.isnan(forward_log_return(c, 2)[1:]).all()


@pytest.mark.parametrize("h", [1, 3, 21])
def test_forward_figures_match_reference(h):
    rng = np.random.default_rng(h)
    c = _closes(rng.normal(0, 0.012, 120))
    c[37] = np.nan
    hi = c * np.exp(np.abs(rng.normal(0, 0.006, c.size)))
    lo = c * np.exp(-np.abs(rng.normal(0, 0.006, c.size)))
    np.testing.assert_allclose(forward_realised_vol(c, h), ref.forward_realised_vol(list(c), h), rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(forward_parkinson_vol(hi, lo, h), ref.forward_parkinson_vol(list(hi), list(lo), h),
                               rtol=1e-10, equal_nan=True)


def test_bad_horizon_refused():
    with pytest.raises(ValueError, match="horizon"):
        forward_realised_vol([1.0, 2.0], 0)


# ---------------------------------------------------------------------------------------------
# buckets


def test_quintiles_by_hand_lowest_is_one():
    gex = [10.0, -5.0, 3.0, 0.0, 7.0, 1.0, 2.0, 8.0, 4.0, 6.0, 99.0]
    eligible = [True] * 10 + [False]  # the last day has no full forward window
    q = quantile_groups(gex, eligible)
    # ranks of the 10 eligible values: -5,0,1,2,3,4,6,7,8,10 -> groups 0,0,1,1,2,2,3,3,4,4
    assert q.tolist() == [4, 0, 2, 0, 3, 1, 1, 4, 2, 3, -1]


def test_quintiles_match_reference_with_ties():
    rng = np.random.default_rng(3)
    gex = rng.integers(0, 7, 53).astype(float)  # many ties
    gex[5] = np.nan
    eligible = rng.random(53) > 0.2
    assert quantile_groups(gex, eligible).tolist() == ref.quantile_groups(list(gex), list(eligible))
    counts = np.bincount(quantile_groups(gex, eligible)[quantile_groups(gex, eligible) >= 0])
    assert counts.max() - counts.min() <= 1  # equal-count groups


def test_regime_and_flip_labels():
    assert regime_groups(["positive", "negative", "neutral", None, "odd"]).tolist() == [0, 1, 2, -1, -1]
    labels = flip_distance_groups([-3.0, -2.0, -0.5, 0.0, 1.5, 2.0, None, float("nan")])
    assert [FLIP_BUCKETS[i] for i in labels] == ["< -2%", "-2% to -1%", "-1% to 0%", "0% to +1%", "+1% to +2%",
                                                 ">= +2%", "no flip", "no flip"]


def test_wall_holds_by_hand():
    close = [100.0, 104.0, 99.0, 101.0]
    high = [101.0, 106.0, 103.0, None]
    low = [99.0, 98.0, 97.0, 100.0]
    call = [105.0, 105.0, 102.0, 105.0]
    put = [95.0, 99.0, 98.0, None]
    h = wall_holds(close, high, low, call, put)
    # day 0 -> day 1: high 106 >= 105 (broke intraday), close 104 < 105 (held at the close)
    assert h["call_wall_held_high"][:3].tolist()[0] == 0.0 and h["call_wall_held_close"][0] == 1.0
    # day 1 -> day 2: high 103 < 105, close 99 < 105; put 99: low 97 broke, close 99 not above 99
    assert h["call_wall_held_high"][1] == 1.0 and h["put_wall_held_low"][1] == 0.0 and h["put_wall_held_close"][1] == 0.0
    # day 2 -> day 3: next high unknown -> NaN; close 101 < 102 held; put 98: low 100 > 98 held
    assert np.isnan(h["call_wall_held_high"][2]) and h["call_wall_held_close"][2] == 1.0 and h["put_wall_held_low"][2] == 1.0
    assert all(np.isnan(v[3]) for v in h.values())  # nothing after the last session


# ---------------------------------------------------------------------------------------------
# bootstrap machinery against the reference


def test_block_rule_floor_and_cap():
    assert bs.block_length(3800, 21) == 21 and bs.block_length(3800, 1) == 16 and bs.block_length(8, 21) == 8
    rng = np.random.default_rng(0)
    assert bs.choose_block_length(rng.normal(size=1000), 5) == 10  # white noise: the fixed floor n^(1/3)


def test_automatic_block_length_against_ar1_theory():
    """Politis-White's target for an AR(1): (6 phi^2 / (1 - phi^2)^2)^(1/3) n^(1/3)."""
    phi, n = 0.5, 20_000
    rng = np.random.default_rng(11)
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    theory = (6 * phi**2 / (1 - phi**2) ** 2) ** (1 / 3) * n ** (1 / 3)
    assert bs.automatic_block_length(x) == pytest.approx(theory, rel=0.3)
    assert bs.automatic_block_length(rng.normal(size=n)) < theory / 3


def test_resample_indices_match_reference():
    rng = np.random.default_rng(1)
    starts = bs.draw_block_starts(rng, 23, 4, 7)
    assert starts.shape == (7, 6) and starts.min() >= 0 and starts.max() <= 19
    np.testing.assert_array_equal(bs.resample_indices(starts, 23, 4), ref.resample_indices(starts, 23, 4))


def test_bucket_means_and_residuals_match_reference():
    rng = np.random.default_rng(2)
    n, k = 60, 3
    x = rng.normal(0.15, 0.05, n)
    y = 0.05 + 0.7 * x + rng.normal(0, 0.02, n)
    y[[3, 40]] = np.nan
    x[7] = np.nan
    labels = rng.integers(-1, k, n)
    idx = bs.resample_indices(bs.draw_block_starts(rng, n, 5, 4), n, 5)
    means, counts = bs.bucket_means(y, labels, k, idx)
    resid, _ = bs.residual_bucket_means(y, x, labels, k, idx)
    for r in range(idx.shape[0]):
        np.testing.assert_allclose(means[r], ref.bucket_means(list(y), list(labels), k, list(idx[r])), rtol=1e-12)
        np.testing.assert_allclose(resid[r], ref.residual_bucket_means(list(y), list(x), list(labels), k, list(idx[r])),
                                   rtol=1e-9, atol=1e-14)
        for j in range(k):
            assert counts[r, j] == sum(1 for i in idx[r] if labels[i] == j and np.isfinite(y[i]))


def test_percentile_interval_matches_reference():
    rng = np.random.default_rng(4)
    reps = rng.normal(size=(500, 2))
    reps[:3, 1] = np.nan
    lo, hi = bs.percentile_interval(reps, 0.9)
    for j in range(2):
        assert lo[j] == pytest.approx(ref.percentile(list(reps[:, j]), 0.05))
        assert hi[j] == pytest.approx(ref.percentile(list(reps[:, j]), 0.95))


def test_chunking_does_not_change_draws():
    a = np.vstack(list(bs.replicate_chunks(50, 5, 300, 7, chunk=64)))
    b = np.vstack(list(bs.replicate_chunks(50, 5, 300, 7, chunk=1000)))
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# tables


def _history(n=300, seed=0):
    rng = np.random.default_rng(seed)
    c = _closes(rng.normal(0, 0.01, n - 1))
    regime = np.where(rng.random(n) < 0.5, "positive", "negative")
    return pl.DataFrame({
        "session": pl.date_range(pl.date(2020, 1, 1), pl.date(2020, 1, 1) + pl.duration(days=n - 1), eager=True),
        "close": c, "high": c * 1.005, "low": c * 0.995, "total_gex": rng.normal(size=n) * 1e9,
        "regime": regime, "flip_distance_pct": rng.normal(0, 1.5, n), "call_wall": c * 1.01, "put_wall": c * 0.99,
    })


def test_history_stats_shape_and_small_flags():
    h = _history()
    out = history_stats(h, horizons=(1, 21), settings=BootstrapSettings(n_boot=200))
    stats = set(out["statistic"].unique())
    assert {"forward_rv", "forward_rv_parkinson", "forward_rv_residual", "forward_return_std", "forward_return_q05",
            "forward_return_q95", "call_wall_held_high", "put_wall_held_close"} <= stats
    rv = out.filter((pl.col("statistic") == "forward_rv") & (pl.col("grouping") == "all"))
    assert rv["n"].to_list() == [299, 279]  # days with a full forward window
    # the small-bucket flag follows max(30, 10 h): 21-day buckets of ~56 days are flagged, 1-day ones are not
    q21 = out.filter((pl.col("statistic") == "forward_rv") & (pl.col("grouping") == "gex_quintile") & (pl.col("horizon_days") == 21)
                     & ~pl.col("bucket").str.contains(" - "))
    assert q21["small_sample"].all() and min_bucket_days(21) == 210
    q1 = out.filter((pl.col("statistic") == "forward_rv") & (pl.col("grouping") == "gex_quintile") & (pl.col("horizon_days") == 1))
    assert not q1["small_sample"].any()
    assert (out["ci_low"] <= out["value"]).all() and (out["value"] <= out["ci_high"]).all()
    # the call wall (1% above the close) held intraday when the next high (0.5% above the next close) stayed below
    high, call = h["high"].to_numpy(), h["call_wall"].to_numpy()
    held = out.filter((pl.col("statistic") == "call_wall_held_high") & (pl.col("grouping") == "all"))
    assert held["value"][0] == pytest.approx(np.mean(high[1:] < call[:-1]), rel=1e-12) and held["n"][0] == 299


def test_history_stats_value_is_the_plain_mean():
    h = _history(seed=5)
    out = history_stats(h, horizons=(5,), settings=BootstrapSettings(n_boot=50))
    rv = np.array(ref.forward_realised_vol(h["close"].to_list(), 5))
    regimes = h["regime"].to_numpy()
    for name in ("positive", "negative"):
        want = np.nanmean(rv[regimes == name])
        got = out.filter((pl.col("statistic") == "forward_rv") & (pl.col("bucket") == name))["value"][0]
        assert got == pytest.approx(want, rel=1e-12)


def test_history_stats_refuses_bad_frames():
    with pytest.raises(ValueError, match="lacks column"):
        history_stats(_history().drop("put_wall"))
    h = _history(20)
    with pytest.raises(ValueError, match="repeated sessions"):
        history_stats(pl.concat([h, h.head(1)]))


def test_external_evidence_table_by_reference():
    rng = np.random.default_rng(9)
    n = 400
    c = _closes(rng.normal(0, 0.01, n - 1))
    g = rng.normal(size=n)
    ev = external_gex_evidence(c, g, horizons=(5,), settings=BootstrapSettings(n_boot=100))
    rv = np.array(ref.forward_realised_vol(list(c), 5))
    q = np.array(ref.quantile_groups(list(g), list(np.isfinite(rv))))
    t = ev.table.sort("quintile")
    assert t["quintile"].to_list() == [1, 2, 3, 4, 5] and t["n"].sum() == np.isfinite(rv).sum()
    for j in range(5):
        assert t["forward_rv"][j] == pytest.approx(np.mean(rv[q == j]), rel=1e-12)
        assert t["gex_max"][j] <= (t["gex_min"][j + 1] if j < 4 else np.inf)
    trailing = np.array([np.nan] * 21 + [math.sqrt(252 / 21 * sum(math.log(c[i - k] / c[i - k - 1]) ** 2 for k in range(21)))
                                         for i in range(21, n)])
    want = ref.residual_bucket_means(list(rv), list(trailing), list(q), 5, list(range(n)))
    np.testing.assert_allclose(t["residual_rv"].to_numpy(), want, rtol=1e-9)
    assert ev.fits["n"][0] == int((np.isfinite(rv) & np.isfinite(trailing)).sum())
