"""Vectorised Black-Scholes-Merton price and greeks (European options, continuous dividend yield).

All functions broadcast their arguments like numpy ufuncs and accept Python/numpy scalars or arrays.
If every argument is a scalar (or 0-d array) the result is a Python ``float``; otherwise it is a
float64 ``ndarray`` of the broadcast shape.

Inputs and units
----------------
spot, strike
    Underlying price and strike, currency units per share.
rate, dividend_yield
    Continuously compounded annual rates as decimals (0.05 = 5%): the risk-free rate ``r`` and the
    dividend (or borrow / carry) yield ``q``. Any finite value is accepted, negative included.
sigma
    Annualised volatility as a decimal (0.20 = 20%).
tenor_years
    Time to expiry ``T`` in years.
is_call
    ``True`` / ``1`` for calls, ``False`` / ``0`` for puts; the strings ``"C"``/``"call"`` and
    ``"P"``/``"put"`` (any case) are accepted too. Anything else is invalid.

Invalid inputs
--------------
An element whose spot, strike, sigma or tenor is not a finite positive number, whose rate or
dividend yield is not finite, whose ``is_call`` is not one of the values above, or that contains NaN
gives NaN in that element. Nothing raises for bad *values* (arguments that cannot be converted to
float64 at all, such as arbitrary strings for ``spot``, raise the usual numpy ``ValueError``). Valid inputs
whose discounted spot or strike overflows float64 (``S e^{-qT}`` or ``K e^{-rT}`` past ~1.8e308: a negative
rate or yield over centuries, ``|qT|`` above ~700) may give NaN or infinities.

Accuracy
--------
Kernels use an erfc-based normal cdf (relative accuracy in both tails) and an exact-at-the-money
``ln(S/K)``. Measured against 50-digit mpmath over S, K in [1, 1e4], K/S in [0.3, 3],
sigma in [0.01, 3], T in [1/365, 5], r in [0, 0.1], q in [0, 0.05], every result agrees to a relative
``max(1e-12, 16 eps (1 + d^2))`` where ``d = max(|d1|, |d2|)`` (the realised worst case is ~4e-13; the
``d^2`` term is the condition number of ``exp(-d^2/2)`` with respect to the rounding of the inputs,
which no float64 algorithm can avoid, and only matters for |d| > ~17), except that quantities which
are *sums of terms of different signs* (d1, d2, theta, charm, vanna through its ``d2`` factor, and
the in-the-money price = OTM price + intrinsic value) are accurate to that bound relative to
*their largest term*.
The price is evaluated for the out-of-the-money option first (without cancellation, see
:func:`bs_price`), so deep OTM prices keep that relative accuracy down to the underflow threshold.
No intermediate overflows for finite inputs, so the extreme but well-defined corner of tiny T (1e-8),
tiny sigma (1e-6), far wings (|ln S/K| ~ 5) and huge sigma (10) returns finite values (which may be 0
when the true value is below the smallest float64).

Performance
-----------
Kernels are numba-compiled on first use (and cached on disk). Inputs of at least
:data:`PARALLEL_MIN_SIZE` elements run on all cores; gamma, vega, vanna, d1 and d2 are additionally
SIMD-vectorised. See ``docs/performance.md``.

Every function takes ``kernel="compiled"|"reference"`` (default: ``$GEX_KERNEL``, else compiled; see
:mod:`gex.kernel`); the reference is the textbook numpy/scipy formula of :mod:`gex.bs_reference`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gex import _bs_kernels as _k
from gex.kernel import resolve

__all__ = [
    "PARALLEL_MIN_SIZE",
    "bs_charm",
    "bs_delta",
    "bs_gamma",
    "bs_price",
    "bs_theta",
    "bs_vanna",
    "bs_vega",
    "d1",
    "d2",
]

#: Inputs with at least this many (broadcast) elements are processed by the multi-threaded kernels.
PARALLEL_MIN_SIZE = 50_000

ArrayLike = Any
FloatOrArray = Any  # float for all-scalar input, else np.ndarray[float64]

_FLAG_WORDS = {"c": 1.0, "call": 1.0, "p": 0.0, "put": 0.0}


def _flag_scalar(v: object) -> float:
    if isinstance(v, (bool, np.bool_)):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float, np.integer, np.floating)):
        return 1.0 if v == 1 else (0.0 if v == 0 else math.nan)
    if isinstance(v, (str, bytes)):
        key = v.decode(errors="replace") if isinstance(v, bytes) else v
        return _FLAG_WORDS.get(key.strip().lower(), math.nan)
    return math.nan


def _as_flag(is_call: ArrayLike) -> np.ndarray:
    """is_call as float64: 1.0 call, 0.0 put, anything else passed through (numeric) or NaN."""
    a = np.asarray(is_call)
    if a.dtype.kind in "biuf":
        return a.astype(np.float64, copy=False)
    if a.dtype.kind in "US":
        low = np.char.lower(np.char.strip(a.astype(str)))
        return np.where(
            (low == "c") | (low == "call"), 1.0, np.where((low == "p") | (low == "put"), 0.0, np.nan)
        )
    flat = np.fromiter((_flag_scalar(v) for v in a.reshape(-1)), dtype=np.float64, count=a.size)
    return flat.reshape(a.shape)


def _flat_arg(a: np.ndarray, shape: tuple[int, ...]) -> float | np.ndarray:
    """A kernel argument: a float if ``a`` broadcasts as a scalar, else a C-contiguous 1-D view/copy."""
    if a.size == 1:
        return float(a.reshape(-1)[0])
    if a.shape == shape and a.flags.c_contiguous:
        return a.reshape(-1)
    return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)


def _full_arg(a: np.ndarray, shape: tuple[int, ...], n: int) -> np.ndarray:
    """A serial kernel's argument: :func:`_flat_arg` with a scalar filled to ``n`` values, so every argument is a
    C-contiguous 1-D float64 array (the values of ``np.broadcast_to``, with less of numpy's dispatch, which is
    most of a small call such as the advisor's few legs)."""
    flat = _flat_arg(a, shape)
    return np.full(n, flat) if isinstance(flat, float) else flat


def _broadcast(args: tuple[ArrayLike, ...]) -> tuple[list[np.ndarray], tuple[int, ...], int]:
    arrs = [np.asarray(a, dtype=np.float64) for a in args]
    shape = np.broadcast_shapes(*(a.shape for a in arrs))
    return arrs, shape, math.prod(shape)


def _run(name: str, args: tuple[ArrayLike, ...], kernel: str | None = None) -> FloatOrArray:
    arrs, shape, n = _broadcast(args)
    if resolve(kernel) == "reference":
        from gex import bs_reference  # here, not at import: it pulls in scipy.stats (~1 s)

        ref = bs_reference.evaluate(name, arrs).reshape(shape)
        return float(ref.reshape(-1)[0]) if len(shape) == 0 else ref
    serial, parallel, _ = _k.LOOPS[name]
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out.reshape(shape)
    if n < PARALLEL_MIN_SIZE:
        # small inputs: materialise the broadcast so that a single (all-array) specialisation serves
        serial(*(_full_arg(a, shape, n) for a in arrs), out)
    else:
        parallel(*(_flat_arg(a, shape) for a in arrs), out)
    return float(out[0]) if len(shape) == 0 else out.reshape(shape)


def d1(spot, strike, rate, sigma, tenor_years, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Black-Scholes-Merton ``d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt(T))``.

    Parameters
    ----------
    spot, strike : array_like
        Underlying price and strike (currency per share).
    rate : array_like
        Risk-free rate, continuously compounded annual decimal.
    sigma : array_like
        Annualised volatility (decimal).
    tenor_years : array_like
        Time to expiry in years.
    dividend_yield : array_like, default 0.0
        Continuous dividend yield, annual decimal.

    Returns
    -------
    float or ndarray
        Dimensionless. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(d1(42.0, 40.0, 0.10, 0.20, 0.5), 4)  # Hull, Options, Futures & Other Derivatives
    0.7693
    """
    return _run("d1", (spot, strike, rate, sigma, tenor_years, dividend_yield), kernel)


def d2(spot, strike, rate, sigma, tenor_years, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Black-Scholes-Merton ``d2 = d1 - sigma sqrt(T)``.

    Parameters and shape as :func:`d1`.

    Returns
    -------
    float or ndarray
        Dimensionless. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(d2(42.0, 40.0, 0.10, 0.20, 0.5), 4)
    0.6278
    """
    return _run("d2", (spot, strike, rate, sigma, tenor_years, dividend_yield), kernel)


def bs_price(spot, strike, rate, sigma, tenor_years, is_call, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Black-Scholes-Merton price of a European call or put.

    ``C = S e^{-qT} N(d1) - K e^{-rT} N(d2)``, ``P = K e^{-rT} N(-d2) - S e^{-qT} N(-d1)``.

    Parameters
    ----------
    spot, strike : array_like
        Underlying price and strike (currency per share).
    rate : array_like
        Risk-free rate, continuously compounded annual decimal.
    sigma : array_like
        Annualised volatility (decimal).
    tenor_years : array_like
        Time to expiry in years.
    is_call : bool or array_like of bool
        True for calls, False for puts (also 1/0, "C"/"P", "call"/"put").
    dividend_yield : array_like, default 0.0
        Continuous dividend yield, annual decimal.

    Returns
    -------
    float or ndarray
        Price in currency per share (same unit as spot and strike). NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Evaluation: the out-of-the-money option (the call if ``F = S e^{(r-q)T} <= K``, else the put) is
    computed first without subtracting nearly equal terms -- by a positive series near the money for
    small ``sigma sqrt(T)``, and with Mills ratios ``N(x)/phi(x)`` in the wings -- and the in-the-money
    option adds the forward intrinsic value ``e^{-rT} K |expm1(ln F/K)|`` (put-call parity). Guarantee
    (tested against 50-digit mpmath): relative error ``<= 16 eps (1 + d2^2)`` for the OTM price
    (measured <= 9 eps (1 + d2^2); ``d2^2`` is the conditioning), including deep OTM prices down to the
    float64 underflow threshold: results below ~1e-290 are formed in log space and are correct to
    their own (subnormal) spacing, and 0 only when the true price is below 4.9e-324. ITM prices
    are accurate relative to their size.

    Examples
    --------
    Hull's example (S=42, K=40, r=10%, sigma=20%, six months):

    >>> round(bs_price(42.0, 40.0, 0.10, 0.20, 0.5, True), 4)
    4.7594
    >>> round(bs_price(42.0, 40.0, 0.10, 0.20, 0.5, False), 4)
    0.8086
    >>> bs_price([42.0, 42.0], 40.0, 0.10, 0.20, 0.5, [True, False]).round(4)
    array([4.7594, 0.8086])
    >>> bs_price(-1.0, 40.0, 0.10, 0.20, 0.5, True)  # invalid input -> NaN, never an exception
    nan
    """
    return _run("price", (spot, strike, rate, sigma, tenor_years, dividend_yield, _as_flag(is_call)), kernel)


def bs_delta(spot, strike, rate, sigma, tenor_years, is_call, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Delta ``dV/dS``: ``e^{-qT} N(d1)`` for calls, ``-e^{-qT} N(-d1)`` for puts.

    Parameters as :func:`bs_price`.

    Returns
    -------
    float or ndarray
        Per 1 share of underlying (calls in [0, e^{-qT}], puts in [-e^{-qT}, 0]). Multiply by the
        contract multiplier for a per-contract figure. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(bs_delta(42.0, 40.0, 0.10, 0.20, 0.5, True), 4)
    0.7791
    >>> round(bs_delta(49.0, 50.0, 0.05, 0.20, 0.3846, True), 3)  # Hull's delta example
    0.522
    """
    return _run("delta", (spot, strike, rate, sigma, tenor_years, dividend_yield, _as_flag(is_call)), kernel)


def bs_gamma(spot, strike, rate, sigma, tenor_years, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Gamma ``d^2V/dS^2 = e^{-qT} phi(d1) / (S sigma sqrt(T))``, identical for calls and puts.

    Parameters
    ----------
    spot, strike : array_like
        Underlying price and strike (currency per share).
    rate : array_like
        Risk-free rate, continuously compounded annual decimal.
    sigma : array_like
        Annualised volatility (decimal).
    tenor_years : array_like
        Time to expiry in years.
    dividend_yield : array_like, default 0.0
        Continuous dividend yield, annual decimal.

    Returns
    -------
    float or ndarray
        Change of delta (per share) per 1 point (currency unit) move of the underlying. NaN where
        inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    This is the hot kernel of the GEX profile; it is SIMD-vectorised and multi-threaded above
    :data:`PARALLEL_MIN_SIZE` elements.

    Examples
    --------
    Hull's gamma example (S=49, K=50, r=5%, sigma=20%, 20 weeks):

    >>> round(bs_gamma(49.0, 50.0, 0.05, 0.20, 0.3846), 4)
    0.0655
    >>> bs_gamma(49.0, [45.0, 50.0, 55.0], 0.05, 0.20, 0.3846).round(4)
    array([0.0436, 0.0655, 0.0509])
    """
    return _run("gamma", (spot, strike, rate, sigma, tenor_years, dividend_yield), kernel)


def bs_vega(spot, strike, rate, sigma, tenor_years, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Vega ``dV/dsigma = S e^{-qT} phi(d1) sqrt(T)``, identical for calls and puts.

    Parameters as :func:`bs_gamma`.

    Returns
    -------
    float or ndarray
        Currency per share per 1.00 change of sigma (i.e. per 100 vol points); divide by 100 for the
        usual "per vol point" quote. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(bs_vega(49.0, 50.0, 0.05, 0.20, 0.3846), 2)  # Hull: 12.1 per 100% vol
    12.11
    """
    return _run("vega", (spot, strike, rate, sigma, tenor_years, dividend_yield), kernel)


def bs_theta(spot, strike, rate, sigma, tenor_years, is_call, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Theta: change of value as calendar time passes, ``dV/dt = -dV/dT``.

    Call: ``-S e^{-qT} phi(d1) sigma / (2 sqrt T) - r K e^{-rT} N(d2) + q S e^{-qT} N(d1)``;
    put: ``-S e^{-qT} phi(d1) sigma / (2 sqrt T) + r K e^{-rT} N(-d2) - q S e^{-qT} N(-d1)``.

    Parameters as :func:`bs_price`.

    Returns
    -------
    float or ndarray
        Currency per share per year of calendar time (divide by 365 for a per-calendar-day figure).
        Usually negative. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(bs_theta(49.0, 50.0, 0.05, 0.20, 0.3846, True), 2)  # Hull: -4.31 per year
    -4.31
    """
    return _run("theta", (spot, strike, rate, sigma, tenor_years, dividend_yield, _as_flag(is_call)), kernel)


def bs_vanna(spot, strike, rate, sigma, tenor_years, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Vanna ``d(delta)/dsigma = d(vega)/dS = -e^{-qT} phi(d1) d2 / sigma``, same for calls and puts.

    Parameters as :func:`bs_gamma`.

    Returns
    -------
    float or ndarray
        Change of delta (per share) per 1.00 change of sigma (per 100 vol points). Changes sign
        where ``d2 = 0``. NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(bs_vanna(49.0, 50.0, 0.05, 0.20, 0.3846), 4)
    0.1391
    """
    return _run("vanna", (spot, strike, rate, sigma, tenor_years, dividend_yield), kernel)


def bs_charm(spot, strike, rate, sigma, tenor_years, is_call, dividend_yield=0.0, *, kernel=None) -> FloatOrArray:
    """Charm: change of delta as calendar time passes, ``d(delta)/dt = -d(delta)/dT``.

    ``charm = +-q e^{-qT} N(+-d1) - e^{-qT} phi(d1) ((r - q)/(sigma sqrt T) - d2 / (2T))`` with the upper
    signs for calls and the lower for puts, so calls and puts differ by ``q e^{-qT}`` (only when q != 0).

    Parameters as :func:`bs_price`.

    Returns
    -------
    float or ndarray
        Change of delta (per share) per year of calendar time (divide by 365 for per day).
        NaN where inputs are invalid.

    Notes
    -----
    Shape: the broadcast shape of all arguments; a Python float if all are scalars.

    Examples
    --------
    >>> round(bs_charm(49.0, 50.0, 0.05, 0.20, 0.3846, True), 4)
    -0.1968

    Calls and puts differ by ``q e^{-qT}``:

    >>> c, p = bs_charm(49.0, 50.0, 0.05, 0.20, 0.3846, [True, False], dividend_yield=0.02)
    >>> round(float(c - p), 6), round(0.02 * math.exp(-0.02 * 0.3846), 6)
    (0.019847, 0.019847)
    """
    return _run("charm", (spot, strike, rate, sigma, tenor_years, dividend_yield, _as_flag(is_call)), kernel)
