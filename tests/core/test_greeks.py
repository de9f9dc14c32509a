"""Tests of gex.greeks: 50-digit mpmath references, finite differences, parity and properties."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gex.greeks as g
from gex import _bs_kernels as _k

EPS = 2.220446049250313e-16


@pytest.fixture(autouse=True, scope="module")
def _mp_precision():
    """50-digit mpmath for this module only (mpmath's precision is global state)."""
    with mp.workdps(50):
        yield

# --------------------------------------------------------------------------------------------------
# mpmath reference


def _mp_reference(S, K, r, sig, T, q, is_call):
    """Exact (50-digit) values and a magnitude for each quantity, from the float64 inputs as given.

    The magnitude is the value itself where the formula is a product (price of the OTM side, delta,
    gamma, vega); where the value is a sum of terms of different signs or crosses zero (d1, d2,
    vanna through d2, theta, charm, and the ITM price = OTM price + intrinsic) it is the largest
    absolute constituent, because float64 evaluation of such a sum is only accurate relative to its
    largest term (the inputs' own rounding already moves the sum by that much).
    """
    S, K, r, sig, T, q = map(mp.mpf, (S, K, r, sig, T, q))
    sq = mp.sqrt(T)
    s = sig * sq
    lsk = mp.log(S / K)
    d1 = (lsk + (r - q + sig**2 / 2) * T) / s
    d2 = d1 - s
    N, dq, dr, ph = mp.ncdf, mp.exp(-q * T), mp.exp(-r * T), mp.npdf(d1)
    out = {
        "d1": (d1, abs(lsk) / s + abs(r - q) * T / s + s / 2),
        "d2": (d2, abs(lsk) / s + abs(r - q) * T / s + s / 2),
        "gamma": (dq * ph / (S * s),) * 2,
        "vega": (S * dq * ph * sq,) * 2,
        "vanna": (-dq * ph * d2 / sig, dq * ph * (abs(lsk) / s + abs(r - q) * T / s + s / 2) / sig),
    }
    flow = [-dq * ph * (r - q) / s, dq * ph * d2 / (2 * T)]
    decay = -S * dq * ph * sig / (2 * sq)
    if is_call:
        price = S * dq * N(d1) - K * dr * N(d2)
        out["price"] = (price, max(price, S * dq - K * dr))
        out["delta"] = (dq * N(d1),) * 2
        theta = [decay, -r * K * dr * N(d2), q * S * dq * N(d1)]
        charm = [q * dq * N(d1), *flow]
    else:
        price = K * dr * N(-d2) - S * dq * N(-d1)
        out["price"] = (price, max(price, K * dr - S * dq))
        out["delta"] = (-dq * N(-d1), dq * N(-d1))
        theta = [decay, r * K * dr * N(-d2), -q * S * dq * N(-d1)]
        charm = [-q * dq * N(-d1), *flow]
    out["theta"] = (mp.fsum(theta), max(abs(t) for t in theta))
    out["charm"] = (mp.fsum(charm), max(abs(t) for t in charm))
    return out, float(max(abs(d1), abs(d2)))


def _random_domain(n, seed):
    rng = np.random.default_rng(seed)
    S = np.exp(rng.uniform(0.0, math.log(1e4), n))
    K = np.clip(S * np.exp(rng.uniform(math.log(0.3), math.log(3.0), n)), 1.0, 1e4)
    return dict(
        S=S,
        K=K,
        r=rng.uniform(0.0, 0.1, n),
        sig=rng.uniform(0.01, 3.0, n),
        T=rng.uniform(1 / 365, 5.0, n),
        q=rng.uniform(0.0, 0.05, n),
        call=rng.random(n) < 0.5,
    )


def _all_greeks(S, K, r, sig, T, q, call):
    return {
        "d1": g.d1(S, K, r, sig, T, q),
        "d2": g.d2(S, K, r, sig, T, q),
        "price": g.bs_price(S, K, r, sig, T, call, q),
        "delta": g.bs_delta(S, K, r, sig, T, call, q),
        "gamma": g.bs_gamma(S, K, r, sig, T, q),
        "vega": g.bs_vega(S, K, r, sig, T, q),
        "vanna": g.bs_vanna(S, K, r, sig, T, q),
        "theta": g.bs_theta(S, K, r, sig, T, call, q),
        "charm": g.bs_charm(S, K, r, sig, T, call, q),
    }


def test_matches_mpmath_over_random_domain():
    """Every greek and the price agree with 50-digit mpmath to 1e-12 relative (see _mp_reference).

    Tolerance: ``max(1e-12, 16 eps (1 + d^2))`` relative to the magnitude. The ``d^2`` term is the
    condition number of ``exp(-d^2/2)`` (and of N(d) in the tail) under the rounding of the float64
    inputs (sigma sqrt(T) alone is rounded once); it only exceeds 1e-12 for |d| > ~17. Values below
    1e-290 (underflow region, where float64 has lost relative precision) are compared absolutely.
    """
    n = 400
    dom = _random_domain(n, seed=20240611)
    got = _all_greeks(dom["S"], dom["K"], dom["r"], dom["sig"], dom["T"], dom["q"], dom["call"])
    failures = []
    worst = 0.0
    for i in range(n):
        ref, d = _mp_reference(*(dom[k][i] for k in ("S", "K", "r", "sig", "T", "q", "call")))
        tol = max(1e-12, 16 * EPS * (1 + d * d))
        for name, (value, mag) in ref.items():
            x = got[name][i]
            assert math.isfinite(x), (name, i)
            mag = abs(mag)
            err = abs(mp.mpf(x) - value)
            if mag < 1e-290:
                ok = err < 1e-290
            else:
                rel = float(err / mag)
                worst = max(worst, rel)
                ok = rel <= tol
            if not ok:
                failures.append((name, i, float(value), x, d))
    assert not failures, failures[:10]
    assert worst < 1e-12  # in this domain the realised worst case is ~4e-13


def test_out_of_the_money_price_keeps_relative_accuracy():
    """Deep OTM prices: relative (not absolute) accuracy down to ~1e-300, both calls and puts."""
    cases = []  # (S, K, r, sig, T, q, is_call)
    for S, K, sig, T in [
        (100.0, 300.0, 0.2, 0.25),  # ~1e-13-ish call
        (100.0, 150.0, 0.05, 0.5),  # d2 ~ -8
        (100.0, 101.0, 0.01, 1 / 365),  # near the money, tiny s: series region
        (100.0, 100.5, 0.02, 2 / 365),
        (100.0, 130.0, 0.1, 0.1),  # d2 ~ -8.3
        (100.0, 250.0, 0.15, 0.2),  # ~1e-80
        (1000.0, 2900.0, 0.1, 0.5),  # ~1e-40
        (100.0, 120.0, 0.01, 0.05),  # d ~ -80: ~1e-1400 underflows to 0
    ]:
        cases.append((S, K, 0.03, sig, T, 0.01, True))
        cases.append((K, S, 0.03, sig, T, 0.01, False))  # mirrored OTM put
    for S, K, r, sig, T, q, c in cases:
        ref, d = _mp_reference(S, K, r, sig, T, q, c)
        exact = ref["price"][0]
        got = g.bs_price(S, K, r, sig, T, c, q)
        if exact < 1e-300:
            assert 0.0 <= got < 1e-300
            continue
        assert abs(mp.mpf(got) / exact - 1) <= 16 * EPS * (1 + d * d), (S, K, sig, T, c, got, exact)


def test_normalised_otm_price_kernel_against_mpmath():
    """The shared kernel c(theta, s) in all three of its regions (including tiny s and theta)."""
    rng = np.random.default_rng(7)
    th = -np.concatenate(
        [rng.uniform(0, 1.2, 150), 10 ** rng.uniform(-12, 0, 150), np.zeros(20), np.full(20, 0.25)]
    )
    s = 10 ** rng.uniform(-6, 1.3, th.size)
    got = np.empty(th.size)
    _k.otm_c_loop(th, s, got)
    for t_, s_, c in zip(th, s, got, strict=True):
        tm, sm = mp.mpf(t_), mp.mpf(s_)
        exact = mp.exp(tm) * mp.ncdf(tm / sm + sm / 2) - mp.ncdf(tm / sm - sm / 2)
        d2 = float(tm / sm - sm / 2)
        if exact < 1e-300:
            assert 0.0 <= c < 1e-300
        else:
            assert abs(mp.mpf(c) / exact - 1) <= 16 * EPS * (1 + d2 * d2), (t_, s_, c, exact)


def test_mpmath_reference_formulas_are_the_derivatives_of_the_price():
    """Guard the reference itself: closed forms == numerical derivatives of the mpmath price."""

    def price(S, K, r, sig, T, q, c):
        return _mp_reference(S, K, r, sig, T, q, c)[0]["price"][0]

    cases = [(95.0, 100.0, 0.03, 0.25, 0.7, 0.02, True), (95.0, 80.0, 0.05, 0.4, 1.3, 0.01, False)]
    for S, K, r, sig, T, q, c in cases:
        ref = _mp_reference(S, K, r, sig, T, q, c)[0]
        S_, sig_, T_ = mp.mpf(S), mp.mpf(sig), mp.mpf(T)
        assert mp.almosteq(ref["delta"][0], mp.diff(lambda x: price(x, K, r, sig, T, q, c), S_), 1e-30)
        assert mp.almosteq(ref["gamma"][0], mp.diff(lambda x: price(x, K, r, sig, T, q, c), S_, 2), 1e-30)
        assert mp.almosteq(ref["vega"][0], mp.diff(lambda x: price(S, K, r, x, T, q, c), sig_), 1e-30)
        assert mp.almosteq(ref["theta"][0], -mp.diff(lambda x: price(S, K, r, sig, x, q, c), T_), 1e-30)
        assert mp.almosteq(
            ref["vanna"][0], mp.diff(lambda a, b: price(a, K, r, b, T, q, c), (S_, sig_), (1, 1)), 1e-30
        )
        assert mp.almosteq(
            ref["charm"][0], -mp.diff(lambda a, b: price(a, K, r, sig, b, q, c), (S_, T_), (1, 1)), 1e-30
        )


# --------------------------------------------------------------------------------------------------
# finite differences of the float64 price and parity


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize(
    "S,K,r,sig,T,q",
    [
        (100.0, 100.0, 0.03, 0.2, 0.5, 0.01),
        (100.0, 90.0, 0.05, 0.35, 1.5, 0.03),
        (50.0, 60.0, 0.0, 0.5, 0.1, 0.0),
    ],
)
def test_greeks_are_finite_differences_of_the_price(S, K, r, sig, T, q, is_call):
    def P(S=S, sig=sig, T=T):
        return g.bs_price(S, K, r, sig, T, is_call, q)

    def D(S=S, sig=sig, T=T):
        return g.bs_delta(S, K, r, sig, T, is_call, q)

    # fourth-order central stencils: truncation O(h^4), rounding O(eps / h^k)
    def d1st(f, h):
        return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)

    def d2nd(f, h):
        return (-f(2 * h) + 16 * f(h) - 30 * f(0.0) + 16 * f(-h) - f(-2 * h)) / (12 * h * h)

    hS, hv, hT = 1e-3 * S, 1e-3, 1e-3 * T
    fd = {
        "delta": d1st(lambda e: P(S=S + e), hS),
        "gamma": d2nd(lambda e: P(S=S + e), hS),
        "vega": d1st(lambda e: P(sig=sig + e), hv),
        "theta": -d1st(lambda e: P(T=T + e), hT),
        "vanna": d1st(lambda e: D(sig=sig + e), hv),
        "charm": -d1st(lambda e: D(T=T + e), hT),
    }
    an = {
        "delta": D(),
        "gamma": g.bs_gamma(S, K, r, sig, T, q),
        "vega": g.bs_vega(S, K, r, sig, T, q),
        "theta": g.bs_theta(S, K, r, sig, T, is_call, q),
        "vanna": g.bs_vanna(S, K, r, sig, T, q),
        "charm": g.bs_charm(S, K, r, sig, T, is_call, q),
    }
    for name in fd:
        assert an[name] == pytest.approx(fd[name], rel=1e-7, abs=1e-9), name


def test_put_call_parity():
    dom = _random_domain(5000, seed=3)
    S, K, r, sig, T, q = (dom[k] for k in ("S", "K", "r", "sig", "T", "q"))
    C = g.bs_price(S, K, r, sig, T, True, q)
    P = g.bs_price(S, K, r, sig, T, False, q)
    fwd = S * np.exp(-q * T) - K * np.exp(-r * T)
    np.testing.assert_allclose(C - P, fwd, rtol=0, atol=1e-14 * (S + K).max())
    np.testing.assert_array_less(np.abs((C - P) - fwd), 4 * EPS * (S + K + C + P))


def test_hull_textbook_values():
    assert g.bs_price(42.0, 40.0, 0.10, 0.20, 0.5, True) == pytest.approx(4.7594, abs=5e-5)
    assert g.bs_price(42.0, 40.0, 0.10, 0.20, 0.5, False) == pytest.approx(0.8086, abs=5e-5)
    assert g.bs_delta(42.0, 40.0, 0.10, 0.20, 0.5, True) == pytest.approx(0.7791, abs=5e-5)
    assert g.bs_gamma(49.0, 50.0, 0.05, 0.20, 0.3846) == pytest.approx(0.0655, abs=5e-5)
    assert g.bs_vega(49.0, 50.0, 0.05, 0.20, 0.3846) == pytest.approx(12.1, abs=0.05)
    assert g.bs_theta(49.0, 50.0, 0.05, 0.20, 0.3846, True) == pytest.approx(-4.31, abs=0.005)


# --------------------------------------------------------------------------------------------------
# API: broadcasting, scalars, flags, the parallel path


def test_scalar_in_float_out_and_broadcasting():
    assert isinstance(g.bs_gamma(100.0, 100.0, 0.0, 0.2, 1.0), float)
    assert isinstance(g.bs_price(np.float64(100.0), np.array(100.0), 0, 0.2, 1, True), float)
    strikes = np.array([[90.0], [100.0], [110.0]])
    out = g.bs_price(100.0, strikes, 0.01, np.array([0.1, 0.2, 0.3, 0.4]), 0.5, [True, False, True, False])
    assert out.shape == (3, 4)
    for i, K in enumerate([90.0, 100.0, 110.0]):
        for j, (v, c) in enumerate(zip([0.1, 0.2, 0.3, 0.4], [True, False, True, False], strict=True)):
            assert out[i, j] == g.bs_price(100.0, K, 0.01, v, 0.5, c)
    assert g.bs_vega([], 100.0, 0.0, 0.2, 1.0).shape == (0,)


def test_is_call_spellings_and_invalid_flags():
    ref_c = g.bs_price(100.0, 105.0, 0.01, 0.2, 0.5, True)
    ref_p = g.bs_price(100.0, 105.0, 0.01, 0.2, 0.5, False)
    flags = ["C", "call", "P", " put ", 1, 0, 1.0, np.True_, "X", 2, 0.5, None, math.nan]
    got = g.bs_price(100.0, 105.0, 0.01, 0.2, 0.5, np.array(flags, dtype=object))
    np.testing.assert_array_equal(got[:8], [ref_c, ref_c, ref_p, ref_p, ref_c, ref_p, ref_c, ref_c])
    assert np.isnan(got[8:]).all()
    got = g.bs_delta(100.0, 105.0, 0.01, 0.2, 0.5, np.array(["c", "p", "?"]))
    assert np.isfinite(got[:2]).all() and np.isnan(got[2])


@pytest.mark.parametrize("name", ["d1", "d2", "gamma", "vega", "vanna", "price", "delta", "theta", "charm"])
def test_parallel_path_equals_serial_path(name):
    """Above PARALLEL_MIN_SIZE the threaded kernel (scalars kept as scalars) gives the serial results."""
    n = g.PARALLEL_MIN_SIZE + 17
    dom = _random_domain(n, seed=11)
    S, K, sig, T, q, call = (dom[k].copy() for k in ("S", "K", "sig", "T", "q", "call"))
    S[::97] = np.nan  # invalid elements stay NaN on both paths
    fn = {
        "d1": g.d1, "d2": g.d2, "gamma": g.bs_gamma, "vega": g.bs_vega, "vanna": g.bs_vanna,
        "price": g.bs_price, "delta": g.bs_delta, "theta": g.bs_theta, "charm": g.bs_charm,
    }[name]
    flagged = name in ("price", "delta", "theta", "charm")

    def run(sl):
        args = (S[sl], K[sl], 0.02, sig[sl], T[sl]) + ((call[sl],) if flagged else ()) + (q[sl],)
        return fn(*args)

    big = run(slice(None))
    small = np.concatenate([run(slice(i, i + 5000)) for i in range(0, n, 5000)])
    np.testing.assert_allclose(big, small, rtol=4 * EPS, atol=0)
    assert np.isnan(big[::97]).all() and np.isfinite(np.delete(big, np.s_[::97])).all()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([(), (1,), (3,), (1, 4), (2, 1), (2, 3)]), st.sampled_from([(), (3,), (2, 3), (4, 2, 3)]),
       st.booleans(), st.integers(0, 2**31))
def test_small_arguments_are_the_broadcast_values(arg_shape, other_shape, strided, seed):
    """The serial path's arguments (:func:`gex.greeks._full_arg`: a view, a fill or a copy) are exactly
    ``np.broadcast_to``'s values, C-contiguous float64; and a small call equals the kernel run on them."""
    rng = np.random.default_rng(seed)
    try:
        shape = np.broadcast_shapes(arg_shape, other_shape)
    except ValueError:
        return
    a = rng.uniform(50.0, 150.0, size=(2 * max(1, math.prod(arg_shape)),))
    a = (a[::2] if strided else a[: max(1, math.prod(arg_shape))]).reshape(arg_shape)
    n = math.prod(shape)
    got = g._full_arg(np.asarray(a, dtype=np.float64), shape, n)
    want = np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
    assert got.dtype == np.float64 and got.flags.c_contiguous and got.shape == (n,)
    np.testing.assert_array_equal(got, want)
    strike = rng.uniform(50.0, 150.0, size=other_shape)
    out = np.empty(n)
    _k.LOOPS["gamma"][0](want, np.ascontiguousarray(np.broadcast_to(strike, shape)).reshape(-1),
                         np.full(n, 0.03), np.full(n, 0.2), np.full(n, 0.5), np.full(n, 0.0), out)
    small = g.bs_gamma(a, strike, 0.03, 0.2, 0.5)
    np.testing.assert_array_equal(np.reshape(small, -1), out)


# --------------------------------------------------------------------------------------------------
# properties (hypothesis)

_pos = st.floats(0.5, 5000.0)
_mny = st.floats(-1.5, 1.5)  # ln(K/S)
_sig = st.floats(0.005, 4.0)
_T = st.floats(1e-3, 10.0)
_r = st.floats(-0.02, 0.15)
_q = st.floats(0.0, 0.1)
_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(S=_pos, m=_mny, sig=_sig, T=_T, r=_r, q=_q)
def test_properties(S, m, sig, T, r, q):
    K = S * math.exp(m)
    gam = g.bs_gamma(S, K, r, sig, T, q)
    vega = g.bs_vega(S, K, r, sig, T, q)
    assert gam >= 0.0 and vega >= 0.0
    dc = g.bs_delta(S, K, r, sig, T, True, q)
    dp = g.bs_delta(S, K, r, sig, T, False, q)
    dq = math.exp(-q * T)
    assert 0.0 <= dc <= dq * (1 + 1e-15) and -dq * (1 + 1e-15) <= dp <= 0.0
    assert dc - dp == pytest.approx(dq, rel=1e-14)
    c = g.bs_price(S, K, r, sig, T, True, q)
    p = g.bs_price(S, K, r, sig, T, False, q)
    sdq, kdr = S * dq, K * math.exp(-r * T)
    slack = 4 * EPS * (sdq + kdr)
    assert max(sdq - kdr, 0.0) - slack <= c <= sdq + slack
    assert max(kdr - sdq, 0.0) - slack <= p <= kdr + slack
    # gamma is the same for calls and puts: d(delta_call)/dS == d(delta_put)/dS
    h = 1e-4 * S
    gc = (g.bs_delta(S + h, K, r, sig, T, True, q) - g.bs_delta(S - h, K, r, sig, T, True, q)) / (2 * h)
    gp = (g.bs_delta(S + h, K, r, sig, T, False, q) - g.bs_delta(S - h, K, r, sig, T, False, q)) / (2 * h)
    assert gc == pytest.approx(gp, rel=1e-6, abs=1e-9 / S)


_any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, math.nan, math.inf, -math.inf, 1e-320, 1e308]),
)


@_settings
@given(
    S=_any_float,
    K=_any_float,
    r=_any_float,
    sig=_any_float,
    T=_any_float,
    q=_any_float,
    flag=st.sampled_from([True, False, 0.5, math.nan, "C", "?"]),
)
def test_never_raises_and_invalid_gives_nan(S, K, r, sig, T, q, flag):
    valid = all(math.isfinite(v) for v in (S, K, r, sig, T, q)) and min(S, K, sig, T) > 0
    # beyond this box float64 itself overflows/underflows intermediate quantities such as sigma*sqrt(T), and a
    # discounted spot or strike (S e^{-qT}, K e^{-rT}) past 1.8e308 times a density or probability that underflows
    # to 0 is NaN (e.g. S = K = 1, q = -1 over T = 710 years: the module docstring's "Invalid inputs")
    sane = (valid and all(1e-100 <= v <= 1e100 for v in (S, K, sig, T)) and max(abs(r), abs(q)) <= 1e3
            and math.log(max(S, K, 1.0)) + max(abs(r), abs(q)) * T <= 650.0)
    flag_ok = flag in (True, False, "C")
    out = _all_greeks(S, K, r, sig, T, q, flag)
    for name, v in out.items():
        assert isinstance(v, float)
        flagged = name in ("price", "delta", "theta", "charm")
        if not valid or (flagged and not flag_ok):
            assert math.isnan(v), (name, v)
        elif sane:
            assert not math.isnan(v), (name, S, K, r, sig, T, q)


@_settings
@given(
    S=st.floats(1.0, 1e4),
    m=st.floats(-5.0, 5.0),
    sig=st.one_of(st.floats(1e-6, 1e-3), st.floats(1e-3, 10.0), st.just(10.0)),
    T=st.one_of(st.floats(1e-8, 1e-5), st.floats(1e-5, 30.0)),
    r=st.floats(-0.05, 0.2),
    q=st.floats(0.0, 0.2),
)
def test_extreme_but_defined_inputs_are_finite(S, m, sig, T, r, q):
    """Tiny T (1e-8), tiny sigma (1e-6), far wings (|ln S/K| <= 5), huge sigma (10): no inf, no NaN."""
    K = S * math.exp(m)
    for c in (True, False):
        out = _all_greeks(S, K, r, sig, T, q, c)
        for name, v in out.items():
            assert math.isfinite(v), (name, S, K, r, sig, T, q, c, v)
        assert out["price"] >= 0.0 and out["gamma"] >= 0.0 and out["vega"] >= 0.0


def test_at_the_money_tiny_tenor_and_vol():
    """ATM with sigma sqrt(T) ~ 1e-10: price ~ 0.4 S s, gamma ~ 0.4 / (S s) -- finite and accurate."""
    S = K = 100.0
    sig, T = 1e-6, 1e-8
    s = sig * math.sqrt(T)
    assert g.bs_gamma(S, K, 0.0, sig, T) == pytest.approx(1 / (math.sqrt(2 * math.pi) * S * s), rel=1e-12)
    assert g.bs_price(S, K, 0.0, sig, T, True) == pytest.approx(S * s / math.sqrt(2 * math.pi), rel=1e-12)
    assert g.bs_price(S, K, 0.0, sig, T, False) == pytest.approx(S * s / math.sqrt(2 * math.pi), rel=1e-12)

