"""The compiled kernels against their plain numpy/scipy references (gex.kernel, gex.flip.reference,
gex.bs_reference), and the kernel selection.

Documented tolerances (compiled vs reference):
- profile coefficients: same terms in the same order; ``a`` to 4 ulp relative, ``c`` to 4 ulp or 16 eps
  of the largest ``c`` (merged call/put terms partly cancel), ``b`` to
  1e-15 absolute per unit of ``a ln(reference / K)`` (different log implementations);
- ``G(S)`` and ``dG/dS``: 1e-12 of ``sum |terms|`` at that spot;
- crossings: the same number, each within ``2 xtol + 1e-9 S`` (the reference is not certified; its
  dense grid is fine enough for these chains, which the property test draws away from near-touches);
- greeks: 1e-9 relative to the largest term on moderate inputs (the textbook formulas cancel in the
  tails, the compiled ones do not).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gex import greeks
from gex.flip import GammaProfile, find_crossings, nearest_flip, solve_flip
from gex.flip import reference as flip_ref
from gex.kernel import KERNEL_ENV, resolve

HOUR = 1.0 / (24 * 365)
XTOL = 1e-6


def test_resolve_argument_env_and_default(monkeypatch):
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    assert resolve() == "compiled"
    assert resolve("Reference") == "reference"
    monkeypatch.setenv(KERNEL_ENV, "reference")
    assert resolve() == "reference"
    assert resolve("compiled") == "compiled"  # the argument wins
    monkeypatch.setenv(KERNEL_ENV, "fast")
    with pytest.raises(ValueError, match=r"\$GEX_KERNEL must be one of compiled, reference, got 'fast'"):
        resolve()
    with pytest.raises(ValueError, match="kernel argument"):
        resolve("numba")


def test_env_switch_reaches_the_public_functions(monkeypatch):
    prof = GammaProfile.from_contracts([90.0, 110.0], 0.2, 0.25, [-100.0, 100.0], reference=100.0)
    calls = []
    real = flip_ref.f_and_slope

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(flip_ref, "f_and_slope", spy)
    prof.gex(100.0)
    assert not calls
    monkeypatch.setenv(KERNEL_ENV, "reference")
    assert prof.gex(100.0) == pytest.approx(prof.gex(100.0, kernel="compiled"), rel=1e-13)
    assert calls
    assert greeks.bs_gamma(100.0, 100.0, 0.01, 0.2, 0.5) == pytest.approx(
        greeks.bs_gamma(100.0, 100.0, 0.01, 0.2, 0.5, kernel="compiled"), rel=1e-12
    )


def _chain(rng, n, spot=100.0):
    return dict(
        strike=spot * np.exp(rng.normal(0, 0.15, n)),
        sigma=rng.uniform(0.05, 0.9, n),
        tenor_years=np.exp(rng.uniform(math.log(HOUR), math.log(3.0), n)),
        weight=rng.choice([-1, 1], n) * np.exp(rng.uniform(0, 12, n)),
        rate=rng.uniform(0.0, 0.06, n),
        dividend_yield=rng.uniform(0.0, 0.03, n),
    )


def assert_profiles_agree(ch, reference=None, lo=None, hi=None):
    """Compiled vs reference: coefficients, values, slopes, crossings, flip (the documented tolerances)."""
    comp = GammaProfile.from_contracts(**ch, reference=reference, kernel="compiled")
    ref = GammaProfile.from_contracts(**ch, reference=comp.reference, kernel="reference")
    assert comp.n_contracts == ref.n_contracts and comp.n_input == ref.n_input
    np.testing.assert_allclose(comp.a, ref.a, rtol=4 * np.finfo(float).eps, atol=0)
    # merged call/put terms partly cancel: c to 4 ulp, or 16 eps of the largest c
    eps = np.finfo(float).eps
    np.testing.assert_allclose(comp.c, ref.c, rtol=4 * eps, atol=16 * eps * np.max(np.abs(comp.c), initial=0.0))
    np.testing.assert_allclose(comp.b, ref.b, rtol=0, atol=1e-14 * (1.0 + np.max(np.abs(comp.b), initial=0.0)))
    lo = lo if lo is not None else 0.6 * comp.reference
    hi = hi if hi is not None else 1.6 * comp.reference
    S = np.geomspace(lo, hi, 257)
    g, d = comp.gex_and_slope(S)
    gr, dr = comp.gex_and_slope(S, kernel="reference")
    d_ = comp.a[None, :] * np.log(S / comp.reference)[:, None] + comp.b[None, :]
    e = np.abs(comp.c)[None, :] * np.exp(-0.5 * d_ * d_)
    scale = S * e.sum(axis=1)  # sum of |terms| of G, dollars per 1%
    slope_scale = (e * (1.0 + comp.a[None, :] * np.abs(d_))).sum(axis=1)  # of dG/dS = F + F'
    assert np.all(np.abs(g - gr) <= 1e-12 * scale + 1e-300)
    assert np.all(np.abs(d - dr) <= 1e-12 * slope_scale + 1e-300)
    cr = find_crossings(comp, lo, hi)
    cr_ref = find_crossings(comp, lo, hi, kernel="reference")
    assert cr.shape == cr_ref.shape, (cr, cr_ref)
    assert np.all(np.abs(cr - cr_ref) <= 2 * XTOL + 1e-9 * cr)
    spot = comp.reference
    if lo <= spot <= hi:
        got, want = solve_flip(comp, spot, lo, hi), solve_flip(comp, spot, lo, hi, kernel="reference")
        assert (got.flip is None) == (want.flip is None)
        if got.flip is not None:
            assert abs(got.flip - want.flip) <= 2 * XTOL + 1e-9 * got.flip
        assert got.gex_at_spot == pytest.approx(want.gex_at_spot, rel=1e-10, abs=1e-300)
    return cr


@pytest.mark.parametrize("seed", range(4))
def test_random_chains_compiled_equals_reference(seed):
    rng = np.random.default_rng(seed)
    assert_profiles_agree(_chain(rng, 300), reference=100.0)


def test_merging_and_dropping_agree():
    ch = dict(
        strike=[100.0, 100.0, 105.0, -5.0, 110.0],
        sigma=[0.2, 0.2, 0.2, 0.2, np.nan],
        tenor_years=[0.1, 0.1, 0.1, 0.1, 0.1],
        weight=[100.0, -100.0, 50.0, 1.0, 1.0],
        rate=0.03,
        dividend_yield=0.01,
    )
    comp = GammaProfile.from_contracts(**ch)
    ref = GammaProfile.from_contracts(**ch, kernel="reference")
    assert comp.n_contracts == ref.n_contracts == 1  # the pair at K=100 cancels exactly; bad rows dropped
    assert comp.reference == pytest.approx(ref.reference, rel=1e-15)


@st.composite
def chains(draw):
    n = draw(st.integers(1, 12))
    fl = st.floats
    K = draw(st.lists(fl(70.0, 140.0), min_size=n, max_size=n))
    sig = draw(st.lists(fl(0.05, 1.0), min_size=n, max_size=n))
    lnT = draw(st.lists(fl(math.log(HOUR), math.log(3.0)), min_size=n, max_size=n))
    mag = draw(st.lists(fl(0.0, 11.0), min_size=n, max_size=n))
    sgn = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    return dict(
        strike=np.array(K), sigma=np.array(sig), tenor_years=np.exp(lnT), weight=np.array(sgn) * np.exp(mag),
        rate=draw(fl(0.0, 0.06)), dividend_yield=draw(fl(0.0, 0.03)),
    )


def _well_separated(ch, lo, hi) -> bool:
    """No two crossings closer than the reference grid can resolve, and no near-touch (the reference's
    documented blind spots; the compiled scan has none, see test_flip.py)."""
    prof = GammaProfile.from_contracts(**ch)
    cr = find_crossings(prof, lo, hi)
    if cr.size > 1 and np.min(np.diff(cr)) < 0.05:
        return False
    S = np.geomspace(lo, hi, 4001)
    g = np.abs(prof.gex(S))
    scale = S * flip_ref.f_and_slope(prof.a, prof.b, np.abs(prof.c), np.log(S / prof.reference))[0]
    # local minima of |G| that come near zero without a crossing nearby are near-touches
    interior = (g[1:-1] <= g[:-2]) & (g[1:-1] <= g[2:]) & (g[1:-1] < 1e-6 * scale[1:-1])
    for s in S[1:-1][interior]:
        if cr.size == 0 or np.min(np.abs(cr - s)) > 0.5:
            return False
    return True


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(ch=chains())
def test_property_compiled_equals_reference(ch):
    lo, hi = 60.0, 170.0
    if not _well_separated(ch, lo, hi):
        return
    assert_profiles_agree(ch, lo=lo, hi=hi)
    prof = GammaProfile.from_contracts(**ch)
    spot = 0.5 * (lo + hi)
    assert nearest_flip(prof, spot, lo, hi) == nearest_flip(prof, spot, lo, hi, kernel="compiled")


# --------------------------------------------------------------------------------------------------
# greeks
# --------------------------------------------------------------------------------------------------


def _inputs(n=4000, seed=9):
    rng = np.random.default_rng(seed)
    S = rng.uniform(50, 150, n)
    return dict(
        spot=S, strike=S * np.exp(rng.normal(0, 0.2, n)), rate=rng.uniform(0, 0.08, n),
        sigma=rng.uniform(0.05, 1.0, n), tenor_years=np.exp(rng.uniform(math.log(1 / 365), math.log(3.0), n)),
        dividend_yield=rng.uniform(0, 0.04, n),
    )


@pytest.mark.parametrize("name", ["d1", "d2", "bs_gamma", "bs_vega", "bs_vanna"])
def test_greeks_compiled_equals_reference(name):
    x = _inputs()
    fn = getattr(greeks, name)
    comp, ref = fn(**x, kernel="compiled"), fn(**x, kernel="reference")
    # d1, d2, vanna are sums of terms of different signs: relative to their largest term
    s = x["sigma"] * np.sqrt(x["tenor_years"])
    big = np.abs(np.log(x["spot"] / x["strike"])) / s + s + np.abs(x["rate"]) * x["tenor_years"] / s + 1.0
    tol = 1e-9 * (np.abs(ref) + (big * np.abs(ref / np.where(ref == 0, 1, ref)) if name in ("d1", "d2") else 0))
    if name == "bs_vanna":
        tol = 1e-9 * np.abs(greeks.bs_vega(**x) / x["spot"] / s) * big
    assert np.all(np.abs(comp - ref) <= tol + 1e-300), np.max(np.abs(comp - ref) - tol)


@pytest.mark.parametrize("name", ["bs_price", "bs_delta", "bs_theta", "bs_charm"])
def test_flagged_greeks_compiled_equals_reference(name):
    x = _inputs(seed=10)
    flag = np.random.default_rng(11).random(x["spot"].size) < 0.5
    fn = getattr(greeks, name)
    comp = fn(**{**x, "is_call": flag}, kernel="compiled")
    ref = fn(**{**x, "is_call": flag}, kernel="reference")
    # scale: the largest term of each formula (spot-sized for price and theta, 1 for delta, charm's flow)
    S, T = x["spot"], x["tenor_years"]
    s = x["sigma"] * np.sqrt(T)
    scale = {"bs_price": S, "bs_delta": np.ones_like(S), "bs_theta": S * (x["sigma"] / np.sqrt(T) + 0.2),
             "bs_charm": (1.0 / s + 1.0 / T) * (1 + np.abs(np.log(S / x["strike"])) / s)}[name]
    assert np.all(np.abs(comp - ref) <= 1e-9 * scale), np.max(np.abs(comp - ref) / scale)


def test_reference_greeks_invalid_inputs_are_nan():
    out = greeks.bs_price([-1.0, 100.0, 100.0], 100.0, 0.01, [0.2, 0.0, 0.2], 0.5, ["C", "C", "x"], kernel="reference")
    assert np.isnan(out).all()
    assert isinstance(greeks.bs_gamma(100.0, 100.0, 0.01, 0.2, 0.5, kernel="reference"), float)


def test_implied_vol_compiled_equals_reference():
    from gex import bs_reference
    from gex.iv import implied_vol

    x = _inputs(n=300, seed=12)
    flag = (np.random.default_rng(13).random(300) < 0.5).astype(float)
    S, K, r, sig, T, q = (x[k] for k in ("spot", "strike", "rate", "sigma", "tenor_years", "dividend_yield"))
    p = greeks.bs_price(S, K, r, sig, T, flag, q)
    # moderate cases only: the textbook price cancels for far out-of-the-money options
    vega = greeks.bs_vega(S, K, r, sig, T, q)
    ok = vega > 1e-3 * S
    comp = implied_vol(p[ok], S[ok], K[ok], r[ok], T[ok], flag[ok], q[ok])
    ref = bs_reference.implied_vol(p[ok], S[ok], K[ok], r[ok], T[ok], flag[ok], q[ok])
    assert ok.sum() > 100 and np.isfinite(ref).all()
    # both reprice the same price; their vols differ by the reference price's rounding / vega
    np.testing.assert_allclose(comp, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(comp, sig[ok], rtol=0, atol=1e-9)
