"""Plain numpy/scipy reference of the Black-Scholes-Merton greeks (textbook formulas, no speed tricks).

The compiled kernels (:mod:`gex._bs_kernels`, behind :mod:`gex.greeks`) are checked against these in
``tests/core/test_reference_paths.py``; ``kernel="reference"`` on every :mod:`gex.greeks` function, or
``GEX_KERNEL=reference`` (see :mod:`gex.kernel`), runs them instead of the compiled loops.

Inputs broadcast like numpy ufuncs (float64 arrays of any shape): spot ``S`` and strike ``K``
(currency per share), rate ``r`` and dividend yield ``q`` (continuous annual decimals), ``sigma``
(annual decimal), ``T`` (years), ``flag`` 1.0 call / 0.0 put. Units of the results are those of
:mod:`gex.greeks` (theta and charm per year, vega and vanna per 1.00 of sigma). Invalid elements (as
defined there) give NaN.

Accuracy: the direct formulas cancel where the compiled kernels do not (deep out-of-the-money prices,
``ln(S/K)`` at the money, ``N(d)`` near 1), so agreement is to ~1e-10 relative of the largest term
for moderate inputs, not to the compiled path's ulp-level accuracy in the tails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import norm


def _valid(S, K, r, sig, T, q) -> np.ndarray:
    fin = np.isfinite(S) & np.isfinite(K) & np.isfinite(r) & np.isfinite(sig) & np.isfinite(T) & np.isfinite(q)
    with np.errstate(invalid="ignore"):
        return fin & (S > 0) & (K > 0) & (sig > 0) & (T > 0)


def _d12(S, K, r, sig, T, q) -> tuple[np.ndarray, np.ndarray]:
    s = sig * np.sqrt(T)
    d1 = (np.log(S / K) + (r - q + 0.5 * sig * sig) * T) / s
    return d1, d1 - s


def d1(S, K, r, sig, T, q) -> np.ndarray:
    """``(ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt T)``, dimensionless."""
    return _d12(S, K, r, sig, T, q)[0]


def d2(S, K, r, sig, T, q) -> np.ndarray:
    """``d1 - sigma sqrt T``, dimensionless."""
    return _d12(S, K, r, sig, T, q)[1]


def gamma(S, K, r, sig, T, q) -> np.ndarray:
    """``e^{-qT} phi(d1) / (S sigma sqrt T)``, per point per share."""
    return np.exp(-q * T) * norm.pdf(d1(S, K, r, sig, T, q)) / (S * sig * np.sqrt(T))


def vega(S, K, r, sig, T, q) -> np.ndarray:
    """``S e^{-qT} phi(d1) sqrt T``, currency per share per 1.00 of sigma."""
    return S * np.exp(-q * T) * norm.pdf(d1(S, K, r, sig, T, q)) * np.sqrt(T)


def vanna(S, K, r, sig, T, q) -> np.ndarray:
    """``-e^{-qT} phi(d1) d2 / sigma``, delta per 1.00 of sigma."""
    a, b = _d12(S, K, r, sig, T, q)
    return -np.exp(-q * T) * norm.pdf(a) * b / sig


def price(S, K, r, sig, T, q, flag) -> np.ndarray:
    """Call ``S e^{-qT} N(d1) - K e^{-rT} N(d2)``, put ``K e^{-rT} N(-d2) - S e^{-qT} N(-d1)``."""
    a, b = _d12(S, K, r, sig, T, q)
    call = S * np.exp(-q * T) * norm.cdf(a) - K * np.exp(-r * T) * norm.cdf(b)
    put = K * np.exp(-r * T) * norm.cdf(-b) - S * np.exp(-q * T) * norm.cdf(-a)
    return np.where(flag == 1.0, call, put)


def delta(S, K, r, sig, T, q, flag) -> np.ndarray:
    """Call ``e^{-qT} N(d1)``, put ``-e^{-qT} N(-d1)``, per share."""
    a = d1(S, K, r, sig, T, q)
    return np.where(flag == 1.0, np.exp(-q * T) * norm.cdf(a), -np.exp(-q * T) * norm.cdf(-a))


def theta(S, K, r, sig, T, q, flag) -> np.ndarray:
    """``dV/dt`` (calendar time, = -dV/dT), currency per share per year."""
    a, b = _d12(S, K, r, sig, T, q)
    sdq, kdr = S * np.exp(-q * T), K * np.exp(-r * T)
    decay = -sdq * norm.pdf(a) * sig / (2.0 * np.sqrt(T))
    call = decay - r * kdr * norm.cdf(b) + q * sdq * norm.cdf(a)
    put = decay + r * kdr * norm.cdf(-b) - q * sdq * norm.cdf(-a)
    return np.where(flag == 1.0, call, put)


def charm(S, K, r, sig, T, q, flag) -> np.ndarray:
    """``d(delta)/dt`` (calendar time, = -d(delta)/dT), per share per year."""
    a, b = _d12(S, K, r, sig, T, q)
    dq, s = np.exp(-q * T), sig * np.sqrt(T)
    flow = -dq * norm.pdf(a) * ((r - q) / s - b / (2.0 * T))
    return np.where(flag == 1.0, q * dq * norm.cdf(a) + flow, -q * dq * norm.cdf(-a) + flow)


#: name -> (function, takes a call/put flag), the same names as ``gex._bs_kernels.LOOPS``.
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], bool]] = {
    "d1": (d1, False),
    "d2": (d2, False),
    "gamma": (gamma, False),
    "vega": (vega, False),
    "vanna": (vanna, False),
    "price": (price, True),
    "delta": (delta, True),
    "theta": (theta, True),
    "charm": (charm, True),
}


def evaluate(name: str, args: list[np.ndarray]) -> np.ndarray:
    """Greek ``name`` on broadcast float64 arrays ``(S, K, r, sigma, T, q[, flag])``; NaN where invalid."""
    fn, flagged = FUNCTIONS[name]
    S, K, r, sig, T, q = np.broadcast_arrays(*args[:6])
    ok = _valid(S, K, r, sig, T, q)
    extra: tuple[np.ndarray, ...] = ()
    if flagged:
        flag = np.broadcast_to(args[6], S.shape)
        ok = ok & ((flag == 1.0) | (flag == 0.0))
        extra = (flag,)
    with np.errstate(all="ignore"):
        out = np.asarray(fn(S, K, r, sig, T, q, *extra), dtype=np.float64)
    return np.where(ok, out, np.nan)


def implied_vol(price_, S, K, r, T, flag, q, lo: float = 1e-4, hi: float = 10.0) -> np.ndarray:
    """Implied vol by ``scipy.optimize.brentq`` on :func:`price`, element by element (slow: tests only).

    Inputs are 1-D float64 arrays of one length; NaN where the price is outside the prices of ``lo``
    and ``hi`` vol (annual decimals) or inputs are invalid. Root to 1e-14 absolute in vol.
    """
    from scipy import optimize

    out = np.full(np.shape(price_), np.nan)
    for i in range(out.size):
        args = (S[i], K[i], r[i], T[i], q[i], flag[i])

        def f(s: float, args=args, target=price_[i]) -> float:
            Si, Ki, ri, Ti, qi, fi = args
            return float(price(Si, Ki, ri, s, Ti, qi, fi)) - target

        f_lo, f_hi = f(lo), f(hi)
        if np.isfinite(f_lo) and np.isfinite(f_hi) and f_lo < 0.0 < f_hi:
            out[i] = optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return out
