"""Tests of gex.iv.implied_vol: round trips, reason codes, broadcasting, robustness."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gex.greeks import bs_price, bs_vega
from gex.iv import (
    IV_PARALLEL_MIN_SIZE,
    IV_SIGMA_MAX,
    IV_SIGMA_MIN,
    IV_SIGMA_RESOLUTION,
    IVReason,
    implied_vol,
)

R = IVReason
EPS = 2.220446049250313e-16


def _domain(n, seed):
    """sigma in [0.01, 5], T from 1 day to 5 years (log-uniform), K/S in [0.3, 3], r, q random."""
    rng = np.random.default_rng(seed)
    S = np.exp(rng.uniform(math.log(5.0), math.log(5000.0), n))
    return dict(
        S=S,
        K=S * np.exp(rng.uniform(math.log(0.3), math.log(3.0), n)),
        sig=rng.uniform(0.01, 5.0, n),
        T=np.exp(rng.uniform(math.log(1 / 365), math.log(5.0), n)),
        r=rng.uniform(0.0, 0.1, n),
        q=rng.uniform(0.0, 0.05, n),
        call=rng.random(n) < 0.5,
    )


def _mp_price_and_vega(S, K, r, sig, T, q, call):
    S, K, r, sig, T, q = map(mp.mpf, (S, K, r, sig, T, q))
    s = sig * mp.sqrt(T)
    d1 = (mp.log(S / K) + (r - q + sig**2 / 2) * T) / s
    d2 = d1 - s
    dq, dr = mp.exp(-q * T), mp.exp(-r * T)
    if call:
        p = S * dq * mp.ncdf(d1) - K * dr * mp.ncdf(d2)
    else:
        p = K * dr * mp.ncdf(-d2) - S * dq * mp.ncdf(-d1)
    return float(p), float(S * dq * mp.npdf(d1) * mp.sqrt(T))


def _forward_intrinsic(S, K, r, T, q, call):
    fwd = S * np.exp(-q * T) - K * np.exp(-r * T)
    return np.maximum(np.where(call, fwd, -fwd), 0.0)


def _check_round_trip(iv, why, sig, price, vega, intrinsic):
    """Well-posed -- one ulp of the price moves sigma by < 1e-11, i.e. ``spacing(P) / vega < 1e-11``,
    counting for ITM options the ulp of the intrinsic value that is subtracted to get the time value
    (``eps (P + intrinsic) / vega``) -- must give OK and |error| <= 1e-10. Every other case must be
    either NaN with a non-OK reason or still within 1e-10: never a wrong finite number.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        well_posed = (price > 0) & (np.maximum(np.spacing(price), EPS * (price + intrinsic)) / vega < 1e-11)
    err = np.abs(iv - sig)
    assert (why[well_posed] == R.OK).all(), np.unique(why[well_posed], return_counts=True)
    assert err[well_posed].max() <= 1e-10
    other = ~well_posed
    finite = np.isfinite(iv)
    assert (why[finite] == R.OK).all() and (why[~finite] != R.OK).all()
    assert (err[other & finite] <= 1e-10).all()
    assert not (why == R.NOT_CONVERGED).any()
    return well_posed


def test_round_trip_against_mpmath_prices():
    """Prices computed with 50-digit mpmath and rounded once; sigma recovered to 1e-10."""
    n = 1500
    d = _domain(n, seed=99)
    with mp.workdps(50):
        pv = [
            _mp_price_and_vega(*(d[k][i] for k in ("S", "K", "r", "sig", "T", "q", "call")))
            for i in range(n)
        ]
    price, vega = np.array(pv).T
    iv, why = implied_vol(price, d["S"], d["K"], d["r"], d["T"], d["call"], d["q"], return_reason=True)
    intrinsic = _forward_intrinsic(d["S"], d["K"], d["r"], d["T"], d["q"], d["call"])
    well_posed = _check_round_trip(iv, why, d["sig"], price, vega, intrinsic)
    assert well_posed.mean() > 0.85  # the test is not vacuous


def test_round_trip_large_parallel_and_ill_posed_classes():
    """1.5e5 options through the threaded path (prices from the accurate OTM pricer)."""
    n = max(150_000, IV_PARALLEL_MIN_SIZE)
    d = _domain(n, seed=2024)
    args = (d["S"], d["K"], d["r"], d["sig"], d["T"], d["call"], d["q"])
    price = bs_price(*args)
    vega = bs_vega(d["S"], d["K"], d["r"], d["sig"], d["T"], d["q"])
    iv, why = implied_vol(price, d["S"], d["K"], d["r"], d["T"], d["call"], d["q"], return_reason=True)
    intrinsic = _forward_intrinsic(d["S"], d["K"], d["r"], d["T"], d["q"], d["call"])
    well_posed = _check_round_trip(iv, why, d["sig"], price, vega, intrinsic)
    assert well_posed.mean() > 0.85
    # the ill-posed remainder is classified, not mis-solved: underflowed prices, ITM prices whose time
    # value vanished in rounding, and unresolved (deep ITM / huge sigma sqrt T) ones
    assert set(np.unique(why[~well_posed])) <= {R.OK, R.NON_POSITIVE_PRICE, R.BELOW_INTRINSIC, R.UNRESOLVED}


def test_round_trip_short_dated_near_the_money():
    """0DTE-like tenors (minutes to a day) and strikes within 2% of spot, both sides."""
    rng = np.random.default_rng(5)
    n = 20_000
    S = 5000.0
    K = S * np.exp(rng.uniform(-0.02, 0.02, n))
    T = np.exp(rng.uniform(math.log(5 / (365 * 24 * 60)), math.log(1 / 365), n))
    sig = rng.uniform(0.05, 1.5, n)
    call = rng.random(n) < 0.5
    price = bs_price(S, K, 0.05, sig, T, call, 0.01)
    iv, why = implied_vol(price, S, K, 0.05, T, call, 0.01, return_reason=True)
    intrinsic = _forward_intrinsic(S, K, 0.05, T, 0.01, call)
    _check_round_trip(iv, why, sig, price, bs_vega(S, K, 0.05, sig, T, 0.01), intrinsic)


def test_reproduces_the_price():
    """Backward accuracy: the returned sigma reprices the input to within a few ulps times
    (1 + kappa), kappa = vega sigma / price the condition number of the price with respect to sigma
    (~d2^2 in the wings), which is all a sigma correct to a few ulps can achieve.
    """
    d = _domain(20_000, seed=8)
    price = bs_price(d["S"], d["K"], d["r"], d["sig"], d["T"], d["call"], d["q"])
    iv = implied_vol(price, d["S"], d["K"], d["r"], d["T"], d["call"], d["q"])
    ok = np.isfinite(iv)
    args = (d["S"][ok], d["K"][ok], d["r"][ok], iv[ok], d["T"][ok])
    again = bs_price(*args, d["call"][ok], d["q"][ok])
    rel = np.abs(again / price[ok] - 1)
    kappa = bs_vega(*args, d["q"][ok]) * iv[ok] / price[ok]
    assert (rel <= 32 * EPS * (1 + kappa)).all()
    assert np.median(rel) < 4 * EPS


# --------------------------------------------------------------------------------------------------
# reason codes, one input class each


def _why(*args, **kw):
    iv, why = implied_vol(*args, return_reason=True, **kw)
    return iv, IVReason(why)


@pytest.mark.parametrize(
    "args",
    [
        (5.0, math.nan, 100.0, 0.01, 1.0, True),
        (5.0, 100.0, 0.0, 0.01, 1.0, True),
        (5.0, 100.0, 100.0, 0.01, -1.0, True),
        (5.0, 100.0, 100.0, 0.01, 0.0, True),
        (5.0, 100.0, 100.0, math.inf, 1.0, True),
        (5.0, 100.0, 100.0, 0.01, math.inf, True),
        (5.0, -100.0, 100.0, 0.01, 1.0, False),
        (5.0, 100.0, 100.0, 0.01, 1.0, 2),
        (5.0, 100.0, 100.0, 0.01, 1.0, "x"),
        (5.0, 100.0, 100.0, 0.01, 1.0, None),
        (math.nan, 100.0, 100.0, 0.01, 1.0, True),
    ],
)
def test_reason_invalid_input(args):
    iv, why = _why(*args)
    assert math.isnan(iv) and why is R.INVALID_INPUT
    iv, why = _why(*args[:6], math.nan)  # NaN dividend yield too
    assert math.isnan(iv) and why is R.INVALID_INPUT


@pytest.mark.parametrize("p", [0.0, -0.0, -1.0, -math.inf])
def test_reason_non_positive_price(p):
    iv, why = _why(p, 100.0, 100.0, 0.01, 1.0, True)
    assert math.isnan(iv) and why is R.NON_POSITIVE_PRICE


def test_reason_below_intrinsic():
    S, K, r, T, q = 100.0, 80.0, 0.05, 1.0, 0.02
    fwd_intrinsic = S * math.exp(-q * T) - K * math.exp(-r * T)
    for p in (fwd_intrinsic * 0.999, fwd_intrinsic, 1e-3):
        assert _why(p, S, K, r, T, True, q)[1] is R.BELOW_INTRINSIC
    put_intrinsic = K * math.exp(-r * T) - 60.0 * math.exp(-q * T)  # ITM put S=60, K=80
    assert _why(put_intrinsic - 1e-9, 60.0, K, r, T, False, q)[1] is R.BELOW_INTRINSIC
    # a price just above the forward intrinsic value is fine
    assert _why(fwd_intrinsic + 0.5, S, K, r, T, True, q)[1] is R.OK


def test_reason_above_max():
    S, K, r, T, q = 100.0, 80.0, 0.05, 1.0, 0.02
    assert _why(S * math.exp(-q * T), S, K, r, T, True, q)[1] is R.ABOVE_MAX
    assert _why(S, S, K, r, T, True, q)[1] is R.ABOVE_MAX
    assert _why(math.inf, S, K, r, T, True, q)[1] is R.ABOVE_MAX
    assert _why(K * math.exp(-r * T), S, K, r, T, False, q)[1] is R.ABOVE_MAX
    assert _why(K, S, K, r, T, False, q)[1] is R.ABOVE_MAX


def test_reason_unresolved():
    # huge sigma sqrt(T): the price sits 1e-9 (relative) below its upper bound
    p = bs_price(100.0, 100.0, 0.0, 8.0, 4.0, True)
    iv, why = _why(p, 100.0, 100.0, 0.0, 4.0, True)
    assert math.isnan(iv) and why is R.UNRESOLVED
    # deep ITM call with a sliver of time value: 1 ulp of the price moves sigma by > 1e-10
    p = bs_price(100.0, 60.0, 0.0, 0.08, 0.5, True)
    assert p - 40.0 < 1e-9
    iv, why = _why(p, 100.0, 60.0, 0.0, 0.5, True)
    assert math.isnan(iv) and why in (R.UNRESOLVED, R.BELOW_INTRINSIC)
    iv, why = _why(40.0 + 2e-12, 100.0, 60.0, 0.0, 0.5, True)
    assert math.isnan(iv) and why is R.UNRESOLVED
    # the same options are fine where the time value is resolved
    for sig, T in [(3.0, 1.0), (0.3, 0.5)]:
        p = bs_price(100.0, 60.0, 0.0, sig, T, True)
        iv, why = _why(p, 100.0, 60.0, 0.0, T, True)
        assert why is R.OK and abs(iv - sig) < 1e-10


def test_reason_out_of_vol_range():
    p = bs_price(100.0, 100.0, 0.0, 0.5 * IV_SIGMA_MIN, 1.0, True)  # ~2e-3, perfectly resolved
    assert _why(p, 100.0, 100.0, 0.0, 1.0, True)[1] is R.BELOW_MIN_VOL
    p = bs_price(100.0, 100.0, 0.0, 1.5 * IV_SIGMA_MAX, 0.01, True)
    assert _why(p, 100.0, 100.0, 0.0, 0.01, True)[1] is R.ABOVE_MAX_VOL
    for sig in (IV_SIGMA_MIN * 1.01, IV_SIGMA_MAX * 0.99):
        p = bs_price(100.0, 100.0, 0.0, sig, 0.01, True)
        iv, why = _why(p, 100.0, 100.0, 0.0, 0.01, True)
        assert why is R.OK and iv == pytest.approx(sig, rel=1e-9)


def test_reason_codes_are_stable_ints():
    assert [int(r) for r in IVReason] == list(range(9))
    assert IVReason.OK == 0 and IV_SIGMA_RESOLUTION == 1e-10


# --------------------------------------------------------------------------------------------------
# API


def test_scalars_and_broadcasting():
    iv = implied_vol(4.759422392871534, 42.0, 40.0, 0.10, 0.5, True)
    assert isinstance(iv, float) and iv == pytest.approx(0.2, abs=1e-12)
    iv, why = implied_vol(4.759422392871534, 42.0, 40.0, 0.10, 0.5, True, return_reason=True)
    assert isinstance(why, int) and why == 0
    K = np.array([[90.0], [100.0], [110.0]])
    sig = np.array([0.1, 0.2, 0.3, 0.4])
    prices = bs_price(100.0, K, 0.01, sig, 0.5, "P", 0.02)
    iv, why = implied_vol(prices, 100.0, K, 0.01, 0.5, "P", 0.02, return_reason=True)
    assert iv.shape == why.shape == (3, 4) and why.dtype == np.int8
    np.testing.assert_allclose(iv, np.broadcast_to(sig, (3, 4)), atol=1e-12)
    assert implied_vol([], 100.0, 100.0, 0.0, 1.0, True).shape == (0,)


_garbage = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, 1e-320, 1e308, math.nan, math.inf, -math.inf]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=_garbage, S=_garbage, K=_garbage, r=_garbage, T=_garbage, q=_garbage,
    flag=st.sampled_from([True, False, 0.5, math.nan, "C", "?", None]),
)
def test_never_raises_and_nan_iff_not_ok(p, S, K, r, T, q, flag):
    iv, why = implied_vol(p, S, K, r, T, flag, q, return_reason=True)
    assert isinstance(iv, float)
    assert why in {int(x) for x in IVReason} and why != R.NOT_CONVERGED
    assert math.isnan(iv) == (why != R.OK)
    if why == R.OK:
        assert IV_SIGMA_MIN <= iv <= IV_SIGMA_MAX


@settings(max_examples=200, deadline=None)
@given(
    S=st.floats(1.0, 1e4),
    m=st.floats(-1.2, 1.2),
    sig=st.floats(0.01, 5.0),
    T=st.floats(1 / 365, 5.0),
    r=st.floats(-0.02, 0.1),
    q=st.floats(0.0, 0.05),
    call=st.booleans(),
)
def test_round_trip_property(S, m, sig, T, r, q, call):
    K = S * math.exp(m)
    p = bs_price(S, K, r, sig, T, call, q)
    iv, why = implied_vol(p, S, K, r, T, call, q, return_reason=True)
    vega = bs_vega(S, K, r, sig, T, q)
    intrinsic = float(_forward_intrinsic(S, K, r, T, q, call))
    if why == R.OK:
        assert abs(iv - sig) <= 1e-10
    else:
        assert math.isnan(iv)
        assert p == 0.0 or vega == 0.0 or max(np.spacing(p), EPS * (p + intrinsic)) / vega >= 1e-11
