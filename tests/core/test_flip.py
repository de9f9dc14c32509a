"""Tests for gex.flip: GEX profile over hypothetical spots, its crossings and the gamma flip.

Values and roots are checked against independent references written here from the textbook
definition (numpy + scipy.stats.norm, and mpmath at 40 digits, with mpmath.findroot for roots);
consistency properties (nearest vs all crossings, linearity in weights) against the module itself.
The fast exp/log are tested in test_fastmath.py; the compiled path against gex.flip.reference in
test_reference_paths.py.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from gex.flip import (
    FlipResult,
    GammaProfile,
    find_crossings,
    first_grid_crossing,
    nearest_flip,
    solve_flip,
)

HOUR = 1.0 / (24 * 365)
XTOL = 1e-6


# ---------------------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------------------


def _chain(K, sig, T, w, r=0.0, q=0.0):
    arrs = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (K, sig, T, w, r, q))
    K, sig, T, w, r, q = np.broadcast_arrays(*arrs)
    return {"K": K, "sig": sig, "T": T, "w": w, "r": r, "q": q}


def ref_terms(ch, S):
    """Per-contract dealer GEX terms, $ per 1%: shape (len(S), n). Straight from the definition."""
    S = np.atleast_1d(np.asarray(S, dtype=float))[:, None]
    K, sig, T, w, r, q = (ch[k][None, :] for k in ("K", "sig", "T", "w", "r", "q"))
    sq = sig * np.sqrt(T)
    d1 = (np.log(S / K) + (r - q + 0.5 * sig**2) * T) / sq
    gamma = np.exp(-q * T) * stats.norm.pdf(d1) / (S * sq)
    return w * gamma * S * S * 0.01


def ref_gex(ch, S):
    return ref_terms(ch, S).sum(axis=1)


def mp_gex(ch, S, dps=40):
    with mp.workdps(max(dps, mp.mp.dps)):
        S = mp.mpf(S)
        tot = mp.mpf(0)
        for K, sig, T, w, r, q in zip(*(ch[k] for k in ("K", "sig", "T", "w", "r", "q")), strict=True):
            sig, T = mp.mpf(sig), mp.mpf(T)
            sq = sig * mp.sqrt(T)
            d1 = (mp.log(S / mp.mpf(K)) + (mp.mpf(r) - mp.mpf(q) + sig**2 / 2) * T) / sq
            tot += mp.mpf(w) * mp.exp(-mp.mpf(q) * T) * mp.npdf(d1) / (S * sq) * S * S / 100
        return tot


def mp_root(ch, lo, hi):
    """High-precision root of the reference G in a sign-change bracket (mpmath, 40 digits)."""
    with mp.workdps(40):
        return float(mp.findroot(lambda s: mp_gex(ch, s), (mp.mpf(lo), mp.mpf(hi)), solver="anderson"))


def profile_of(ch, **kw):
    return GammaProfile.from_contracts(ch["K"], ch["sig"], ch["T"], ch["w"], ch["r"], ch["q"], **kw)


def dense_sign_changes(ch, lo, hi, n=20001):
    """Brackets (S_j, S_j+1) where the reference G changes sign clearly (both ends above noise and
    above a 1e-200 $ floor: gex.flip ignores stretches where |G| < 1e-240 $)."""
    S = np.geomspace(lo, hi, n)
    G = np.empty(n)
    noise = np.empty(n)
    for k in range(0, n, 2000):  # bounded memory for large chains
        t = ref_terms(ch, S[k : k + 2000])
        G[k : k + 2000] = t.sum(axis=1)
        noise[k : k + 2000] = 1e-9 * np.abs(t).sum(axis=1)
    clear = np.abs(G) > np.maximum(noise, 1e-200)
    out = []
    idx = np.flatnonzero(clear)
    for i, j in zip(idx[:-1], idx[1:], strict=True):
        # at most one unclear point in between: a sign change across a long stretch where |G| is
        # below 1e-200 $ is not something gex.flip promises to see (it ignores |G| < 1e-240 $)
        if np.sign(G[i]) != np.sign(G[j]) and j - i <= 2:
            out.append((S[i], S[j]))
    return out


# ---------------------------------------------------------------------------------------------------
# the kernel pieces
# ---------------------------------------------------------------------------------------------------


def random_chain(rng, n, spot=100.0):
    return _chain(
        spot * np.exp(rng.normal(0, 0.15, n)),
        rng.uniform(0.05, 0.9, n),
        np.exp(rng.uniform(math.log(HOUR), math.log(3.0), n)),
        rng.choice([-1, 1], n) * np.exp(rng.uniform(0, 12, n)),
        rng.uniform(0.0, 0.06, n),
        rng.uniform(0.0, 0.03, n),
    )


@pytest.mark.parametrize("seed", range(6))
def test_gex_matches_scipy_reference(seed):
    rng = np.random.default_rng(seed)
    ch = random_chain(rng, 400)
    prof = profile_of(ch, reference=100.0)
    S = np.geomspace(70.0, 140.0, 301)
    terms = ref_terms(ch, S)
    G = prof.gex(S)
    scale = np.abs(terms).sum(axis=1)
    assert np.all(np.abs(G - terms.sum(axis=1)) <= 1e-12 * scale)
    big = np.abs(terms.sum(axis=1)) > 0.05 * scale
    assert big.any()
    assert np.all(np.abs(G[big] / terms.sum(axis=1)[big] - 1.0) <= 1e-12)


def test_gex_matches_mpmath_reference():
    rng = np.random.default_rng(42)
    ch = random_chain(rng, 60)
    prof = profile_of(ch)  # default reference (median strike)
    worst = 0.0
    for s in (72.5, 91.0, 99.99, 100.0, 104.3, 131.0):
        g_mp = mp_gex(ch, s)
        scale = float(np.abs(ref_terms(ch, s)).sum())
        worst = max(worst, abs(prof.gex(s) - float(g_mp)) / scale)
    assert worst <= 1e-12


def test_slope_matches_finite_differences_and_mpmath():
    rng = np.random.default_rng(7)
    ch = random_chain(rng, 200)
    prof = profile_of(ch)
    S = np.linspace(80.0, 125.0, 41)
    G, dG = prof.gex_and_slope(S)
    np.testing.assert_allclose(G, prof.gex(S), rtol=0, atol=0)
    h = 1e-4
    fd = (ref_gex(ch, S + h) - ref_gex(ch, S - h)) / (2 * h)
    slope_scale = np.abs(ref_terms(ch, S)).sum(axis=1) / S * 50  # |dG/dS| scale ($/1% per point)
    assert np.all(np.abs(dG - fd) <= 1e-6 * slope_scale)
    with mp.workdps(40):
        for s in (85.0, 100.0, 117.0):
            d_mp = float(mp.diff(lambda v: mp_gex(ch, v), mp.mpf(s)))
            _, d_ours = prof.gex_and_slope(s)
            assert abs(d_ours - d_mp) <= 1e-11 * abs(slope_scale[0]) + 1e-12 * abs(d_mp)


def test_shapes_scalars_and_dropped_contracts():
    prof = GammaProfile.from_contracts(
        strike=[100.0, 100.0, -5.0, 110.0, 120.0, 90.0],
        sigma=[0.2, 0.2, 0.2, np.nan, 0.3, 0.0],
        tenor_years=[0.1, 0.1, 0.1, 0.1, -1.0, 0.1],
        weight=[1.0, 0.0, 1.0, 1.0, 1.0, 1.0],
    )
    assert prof.n_input == 6 and prof.n_contracts == 1
    ch = _chain(100.0, 0.2, 0.1, 1.0)
    assert isinstance(prof.gex(100.0), float)
    assert prof.gex(100.0) == pytest.approx(float(ref_gex(ch, 100.0)[0]), rel=1e-13)
    grid = np.full((2, 3), 101.0)
    out = prof.gex(grid)
    assert out.shape == (2, 3)
    g, d = prof.gex_and_slope(grid)
    assert g.shape == d.shape == (2, 3)
    assert np.isnan(prof.gex(np.array([-1.0, 0.0, np.nan]))).all()
    # scalars broadcast against arrays
    p2 = GammaProfile.from_contracts([90.0, 110.0], 0.25, 0.5, 100.0, rate=0.03, dividend_yield=0.01)
    ch2 = _chain([90.0, 110.0], 0.25, 0.5, 100.0, 0.03, 0.01)
    assert p2.gex(97.0) == pytest.approx(float(ref_gex(ch2, 97.0)[0]), rel=1e-13)
    with pytest.raises(ValueError):
        GammaProfile.from_contracts(np.ones((2, 2)), 0.2, 0.1, 1.0)


def test_identical_contracts_are_merged():
    # a call and a put at one volatility: one term; G unchanged
    ch = _chain([100.0, 100.0, 105.0], 0.2, 0.1, [300.0, -100.0, 50.0], 0.03, 0.01)
    prof = profile_of(ch)
    assert prof.n_input == 3 and prof.n_contracts == 2
    S = np.linspace(90.0, 110.0, 7)
    np.testing.assert_allclose(prof.gex(S), ref_gex(ch, S), rtol=1e-13)
    # exactly cancelling duplicates vanish instead of loosening the bounds (found by hypothesis: the
    # scan used to crawl through the tails of the short-dated group)
    ch = _chain(70.0, 0.25, [1.0, 0.13533528, 0.13533528, 1.0, 0.13533528, 0.13533528], [-1.0, -1, -1, 1, -1, -1])
    prof = profile_of(ch)
    assert prof.n_contracts == 1
    assert find_crossings(prof, LO, HI).size == 0
    assert nearest_flip(prof, LO, LO, HI) is None


def test_empty_profile():
    prof = GammaProfile.from_contracts([100.0], 0.2, 0.1, 0.0)
    assert prof.n_contracts == 0
    assert prof.gex(100.0) == 0.0
    assert find_crossings(prof, 50.0, 150.0).size == 0
    assert nearest_flip(prof, 100.0, 50.0, 150.0) is None


# ---------------------------------------------------------------------------------------------------
# crossings with known roots
# ---------------------------------------------------------------------------------------------------


def test_two_contract_root_closed_form_and_mpmath():
    # same sigma and tenor: F = c1 exp(-(a x + b1)^2/2) + c2 exp(-(a x + b2)^2/2) has one root
    K1, K2, sig, T, r, q = 95.0, 108.0, 0.22, 0.3, 0.04, 0.01
    w1, w2 = -3.0e4, 2.0e4
    ch = _chain([K1, K2], sig, T, [w1, w2], r, q)
    prof = profile_of(ch)
    sq = sig * math.sqrt(T)
    m = (r - q + 0.5 * sig**2) * T
    # ln(-w1/w2) = (d1^2 - d2^2)/2 with d_i = (ln S - ln K_i + m)/sq  ->  solve for ln S
    u1, u2 = -math.log(K1) + m, -math.log(K2) + m
    ln_s = (2 * sq * sq * math.log(-w1 / w2) / (u1 - u2) - u1 - u2) / 2
    exact = math.exp(ln_s)
    assert abs(mp_root(ch, exact - 1, exact + 1) - exact) < 1e-9
    cr = find_crossings(prof, 50.0, 200.0)
    assert cr.shape == (1,)
    assert abs(cr[0] - exact) <= XTOL
    for spot in (60.0, exact - 3.0, exact + 0.5, 190.0):
        assert abs(nearest_flip(prof, spot, 50.0, 200.0) - exact) <= XTOL


def three_crossing_chain():
    """NDX-like: alternating dealer gamma by strike zone -> three crossings."""
    return _chain([80.0, 95.0, 110.0, 125.0], 0.2, 0.1, np.array([1.0, -1.2, 1.3, -1.1]) * 1e4, 0.03, 0.005)


def test_three_crossings_match_mpmath():
    ch = three_crossing_chain()
    prof = profile_of(ch)
    brackets = dense_sign_changes(ch, 60.0, 160.0)
    assert len(brackets) == 3
    roots = [mp_root(ch, a, b) for a, b in brackets]
    cr = find_crossings(prof, 60.0, 160.0)
    assert cr.shape == (3,)
    np.testing.assert_allclose(cr, roots, rtol=0, atol=XTOL)
    # nearest from various spots
    for spot in (61.0, 90.0, 100.0, 104.0, 118.0, 159.0):
        want = min(roots, key=lambda v: (abs(v - spot), v))
        assert abs(nearest_flip(prof, spot, 60.0, 160.0) - want) <= XTOL
    res = solve_flip(prof, 100.0, 60.0, 160.0)
    assert isinstance(res, FlipResult)
    assert len(res.crossings) == 3 and res.window == (60.0, 160.0)
    assert abs(res.flip - min(roots, key=lambda v: abs(v - 100.0))) <= XTOL
    assert res.distance_pct == pytest.approx(100 * (res.flip - 100.0) / 100.0)
    assert res.gex_at_spot == pytest.approx(float(ref_gex(ch, 100.0)[0]), rel=1e-12)


def close_pair_chain(depth=1e-3):
    """A broad positive hump with a narrow negative dip barely below zero: two roots ~0.1 apart."""
    broad = (100.0, 0.2, 0.5, 1.0e4)
    narrow_k, narrow_sig, narrow_t = 101.0, 0.15, 2.0 / 365

    def chain(wn):
        return _chain([broad[0], narrow_k], [broad[1], narrow_sig], [broad[2], narrow_t], [broad[3], -wn])

    # choose the dip weight so that min G = -depth * (broad hump's G there), by bisection on the reference
    S = np.linspace(99.0, 103.0, 4001)
    lo, hi = 0.0, 1e5
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        t = ref_terms(chain(mid), S)
        g = t.sum(axis=1)
        k = np.argmin(g)
        if g[k] < -depth * t[k, 0]:
            hi = mid
        else:
            lo = mid
    return chain(hi)


def test_close_pair_between_grid_points_is_found():
    ch = close_pair_chain()
    prof = profile_of(ch)
    brackets = dense_sign_changes(ch, 80.0, 125.0, n=200001)
    assert len(brackets) == 2
    roots = [mp_root(ch, a, b) for a, b in brackets]
    assert 0.01 < roots[1] - roots[0] < 0.5  # far closer than any 60-level grid step (0.76 here)
    cr = find_crossings(prof, 80.0, 125.0)
    np.testing.assert_allclose(cr, roots, rtol=0, atol=XTOL)
    # the popular-script grid does not see them at all
    levels = np.linspace(80.0, 125.0, 60)
    assert first_grid_crossing(levels, ref_gex(ch, levels)) is None
    # nearest from between the pair (nearer the lower root) and from far away
    mid = 0.5 * (roots[0] + roots[1]) - 0.01
    got = nearest_flip(prof, mid, 80.0, 125.0)
    want = min(roots, key=lambda v: (abs(v - mid), v))
    assert abs(got - want) <= XTOL
    assert abs(nearest_flip(prof, 81.0, 80.0, 125.0) - roots[0]) <= XTOL
    assert abs(nearest_flip(prof, 124.0, 80.0, 125.0) - roots[1]) <= XTOL


@pytest.mark.parametrize("depth", [1e-6, 1e-9])
def test_very_close_pairs(depth):
    ch = close_pair_chain(depth)
    prof = profile_of(ch)
    cr = find_crossings(prof, 80.0, 125.0)
    # roots ~ 2 * width * sqrt(depth) apart (2e-3 and 7e-5 $): still resolved (> 3 xtol)
    assert cr.size == 2
    for x in cr:
        assert mp_gex(ch, x - 2 * XTOL) * mp_gex(ch, x + 2 * XTOL) < 0


def test_tangential_touch_is_not_a_crossing():
    # G(S) = c (g_narrow - g_broad) with equal peaks: touches zero at the common centre from below
    T = 0.25
    sig_b, sig_n = 0.3, 0.1
    # strikes chosen so both d1 vanish at S = 100 (r = q = 0): K = S exp(sig^2 T / 2)
    Kb, Kn = 100.0 * math.exp(0.5 * sig_b**2 * T), 100.0 * math.exp(0.5 * sig_n**2 * T)
    # equal coefficients c = w a: w_b / (sig_b) = w_n / sig_n
    ch = _chain([Kb, Kn], [sig_b, sig_n], T, [-1e4 * sig_b / sig_n, 1e4])
    prof = profile_of(ch, reference=100.0)
    assert abs(prof.gex(100.0)) < 1e-9 * abs(prof.gex(90.0))
    assert find_crossings(prof, 50.0, 200.0).size == 0
    assert nearest_flip(prof, 100.0, 50.0, 200.0) is None
    assert nearest_flip(prof, 130.0, 50.0, 200.0) is None


def test_no_crossing_all_positive():
    rng = np.random.default_rng(3)
    ch = random_chain(rng, 300)
    ch["w"] = np.abs(ch["w"])
    prof = profile_of(ch)
    assert find_crossings(prof, 50.0, 200.0).size == 0
    assert nearest_flip(prof, 100.0, 50.0, 200.0) is None
    res = solve_flip(prof, 100.0, 50.0, 200.0)
    assert res.flip is None and res.crossings == () and res.distance_pct is None
    assert res.gex_at_spot > 0


def test_spot_exactly_on_root():
    ch = _chain([95.0, 108.0], 0.22, 0.3, [-3.0e4, 2.0e4], 0.04, 0.01)
    prof = profile_of(ch)
    (root,) = find_crossings(prof, 50.0, 200.0)
    root = mp_root(ch, root - 0.01, root + 0.01)
    for spot in (root, np.nextafter(root, 0.0), np.nextafter(root, 1e9)):
        prof_s = profile_of(ch, reference=spot)  # x = 0 exactly at the spot
        got = nearest_flip(prof_s, spot, 50.0, 200.0)
        assert got is not None and abs(got - root) <= XTOL
        cr = find_crossings(prof_s, 50.0, 200.0)
        assert cr.size == 1 and abs(cr[0] - root) <= XTOL
        cr = find_crossings(prof_s, 50.0, 200.0, spot=spot)  # a chunk boundary exactly on the root
        assert cr.size == 1 and abs(cr[0] - root) <= XTOL
    # spot on a root just inside a window edge
    assert abs(nearest_flip(prof, root, root - 1e-3, 200.0) - root) <= XTOL
    assert abs(nearest_flip(prof, root, 50.0, root + 1e-3) - root) <= XTOL


def test_threaded_paths_match(monkeypatch):
    # the thread thresholds are set for big chains; force them to check the threaded code paths
    import gex.flip.crossings as crossings_mod
    import gex.flip.profile as profile_mod

    ch = three_crossing_chain()
    prof = profile_of(ch)
    S = np.linspace(60.0, 160.0, 101)
    serial = prof.gex_and_slope(S)
    cr_serial = find_crossings(prof, 60.0, 160.0)
    monkeypatch.setattr(profile_mod, "_PARALLEL_MIN_WORK", 1)
    monkeypatch.setattr(crossings_mod, "_PARALLEL_MIN_SCAN_CONTRACTS", 1)
    monkeypatch.setattr(crossings_mod.nb, "get_num_threads", lambda: 3)  # 3 chunks even on 1-2 cores
    threaded = prof.gex_and_slope(S)
    np.testing.assert_array_equal(threaded[0], serial[0])
    np.testing.assert_array_equal(threaded[1], serial[1])
    for spot in (None, 100.0, float(cr_serial[1])):
        cr = find_crossings(prof, 60.0, 160.0, spot=spot)
        assert cr.shape == (3,) and np.all(np.abs(cr - cr_serial) <= 2 * XTOL)


def test_window_and_argument_validation():
    prof = profile_of(three_crossing_chain())
    cr_all = find_crossings(prof, 60.0, 160.0)
    cr_in = find_crossings(prof, 90.0, 120.0)
    np.testing.assert_allclose(cr_in, cr_all[(cr_all >= 90.0) & (cr_all <= 120.0)], atol=XTOL)
    # flip outside the window is not reported, and a window without crossings gives None
    assert nearest_flip(prof, 120.0, 118.0, 121.0) is None
    with pytest.raises(ValueError):
        nearest_flip(prof, 170.0, 60.0, 160.0)
    with pytest.raises(ValueError):
        find_crossings(prof, 160.0, 60.0)
    with pytest.raises(ValueError):
        find_crossings(prof, 60.0, 160.0, xtol=0.0)


def spx_like_chain(seed=11, spot=4700.0):
    """Small SPX-like chain: hours-to-years expiries, 5-point strikes near the money, put skew."""
    rng = np.random.default_rng(seed)
    Ks, sigs, Ts, ws = [], [], [], []
    for T in [3 * HOUR, 1 / 365, 2 / 365, 7 / 365, 14 / 365, 30 / 365, 91 / 365, 1.0, 2.5]:
        K = np.arange(0.85 * spot, 1.15 * spot, 5.0 if T < 0.1 else 25.0)
        atm = 0.13 + 0.05 * math.sqrt(T)
        m = np.log(K / spot) / (atm * math.sqrt(T))
        sig = np.clip(atm * (1 - 0.1 * np.clip(m, -8, 8) + 0.012 * np.clip(m, -8, 8) ** 2), 0.05, 1.5)
        width = 0.03 + 0.25 * math.sqrt(T)
        for sign, tilt in ((1.0, 1.0), (-1.0, 1.3)):
            otm = K > spot if sign > 0 else K < spot
            base = 900 * tilt * np.exp(-0.5 * (np.log(K / spot) / width) ** 2) * np.where(otm, 1.0, 0.4)
            oi = np.floor(base * rng.lognormal(0, 0.8, K.size))
            Ks.append(K)
            sigs.append(sig)
            Ts.append(np.full(K.size, T))
            ws.append(sign * oi * 100)
    return _chain(np.concatenate(Ks), np.concatenate(sigs), np.concatenate(Ts), np.concatenate(ws), 0.045, 0.013)


def test_spx_like_chain_against_reference():
    spot = 4700.0
    ch = spx_like_chain()
    prof = profile_of(ch, reference=spot)
    lo, hi = 0.8 * spot, 1.2 * spot
    brackets = dense_sign_changes(ch, lo, hi, n=8001)
    assert len(brackets) >= 1
    roots = np.array([mp_root(ch, a, b) for a, b in brackets])
    cr = find_crossings(prof, lo, hi)
    assert cr.size == roots.size
    np.testing.assert_allclose(cr, roots, rtol=0, atol=XTOL)
    flip = nearest_flip(prof, spot, lo, hi)
    assert abs(flip - roots[np.argmin(np.abs(roots - spot))]) <= XTOL


# ---------------------------------------------------------------------------------------------------
# first_grid_crossing (script convention)
# ---------------------------------------------------------------------------------------------------


def test_first_grid_crossing_convention():
    levels = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    vals = np.array([-4.0, -2.0, 6.0, -1.0, 3.0])
    # first sign change between 20 (v=-2) and 30 (v=6): 30 - 10 * 6 / 8 = 22.5
    assert first_grid_crossing(levels, vals) == 22.5
    assert first_grid_crossing(levels, -vals) == 22.5
    assert first_grid_crossing(levels, np.abs(vals)) is None
    assert first_grid_crossing(levels, np.array([1.0, 0.0, -1.0, -2.0, -3.0])) == 20.0
    assert first_grid_crossing(levels, np.array([0.0, 1.0, 2.0, 3.0, 4.0])) == 10.0
    with pytest.raises(ValueError):
        first_grid_crossing(levels, vals[:3])


# ---------------------------------------------------------------------------------------------------
# properties on random chains
# ---------------------------------------------------------------------------------------------------

LO, HI = 60.0, 170.0


@st.composite
def chains(draw):
    n = draw(st.integers(1, 12))
    fl = st.floats
    K = draw(st.lists(fl(70.0, 140.0), min_size=n, max_size=n))
    sig = draw(st.lists(fl(0.05, 1.0), min_size=n, max_size=n))
    lnT = draw(st.lists(fl(math.log(HOUR), math.log(3.0)), min_size=n, max_size=n))
    mag = draw(st.lists(fl(0.0, 11.0), min_size=n, max_size=n))
    sgn = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    r = draw(fl(0.0, 0.06))
    q = draw(fl(0.0, 0.03))
    return _chain(K, sig, np.exp(lnT), np.array(sgn) * np.exp(mag), r, q)


PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(ch=chains(), u=st.floats(0.0, 1.0))
def test_property_crossings_complete_and_consistent(ch, u):
    prof = profile_of(ch)
    spot = LO + u * (HI - LO)
    cr = find_crossings(prof, LO, HI)
    # sorted and inside the window
    assert np.all(np.diff(cr) > 0)
    assert np.all((cr >= LO) & (cr <= HI))
    # every reported crossing is a sign change of the reference G
    for i, x in enumerate(cr):
        gaps = [abs(x - y) for j, y in enumerate(cr) if j != i]
        d = min([0.01] + [g / 3 for g in gaps])
        t = ref_terms(ch, [x - d, x + d])
        g = t.sum(axis=1)
        noise = 1e-10 * np.abs(t).sum(axis=1)
        assert g[0] * g[1] <= 0 or min(abs(g[0]) - noise[0], abs(g[1]) - noise[1]) <= 0
    # no clear sign change of the reference is missed (dense geometric grid)
    for a, b in dense_sign_changes(ch, LO, HI):
        assert np.any((cr >= a - XTOL) & (cr <= b + XTOL)), (a, b, cr)
    # anchoring the scan at the spot finds the same crossings
    cr_spot = find_crossings(prof, LO, HI, spot=spot)
    assert cr_spot.shape == cr.shape and np.all(np.abs(cr_spot - cr) <= 2 * XTOL)
    # nearest_flip agrees with the nearest element of find_crossings
    nf = nearest_flip(prof, spot, LO, HI)
    if cr.size == 0:
        assert nf is None
    else:
        dist = np.abs(cr - spot)
        near = cr[dist <= dist.min() + 2 * XTOL]
        assert nf is not None and np.min(np.abs(near - nf)) <= 2 * XTOL


@PROPS
@given(ch=chains(), k=st.floats(0.01, 1000.0), u=st.floats(0.0, 1.0))
def test_property_linear_in_weights(ch, k, u):
    prof = profile_of(ch)
    scaled = dict(ch, w=ch["w"] * k)
    prof_k = profile_of(scaled)
    S = np.array([LO + u * (HI - LO), 100.0, 85.0])
    scale = np.abs(ref_terms(ch, S)).sum(axis=1)
    assert np.all(np.abs(prof_k.gex(S) - k * prof.gex(S)) <= 1e-12 * k * scale)
    np.testing.assert_allclose(find_crossings(prof_k, LO, HI), find_crossings(prof, LO, HI), rtol=0, atol=2 * XTOL)
