"""Plain numpy/scipy reference of the GEX profile: coefficients, values and crossings.

Written from the textbook formulas with no speed tricks (``np.log``, ``np.exp``, ``np.unique``,
``scipy.optimize.brentq``) and sharing no code with the compiled kernels, so that the tests can check
the compiled path against it (``tests/core/test_reference_paths.py``) and users can cross-check a
number (``kernel="reference"`` or ``GEX_KERNEL=reference``, see :mod:`gex.kernel`).

Conventions are those of :mod:`gex.flip.profile`: ``x = ln(S / reference)``, per-term ``a = 1 / (sigma
sqrt T)`` (per unit of ``x``), ``b = d1`` at the reference (dimensionless), ``c`` (dollars per 1% per
unit of spot), ``G(S) = S sum_i c_i exp(-(a_i x + b_i)**2 / 2)`` dollars per 1% move.

Not certified: :func:`crossings` looks for sign changes of ``G`` on a dense grid in ``x`` (step a
tenth of the narrowest material term's width, 4001 to 200001 nodes) and refines each with ``brentq``;
two crossings closer together than the grid step can be missed, and sign changes where ``|G|`` is
within 1e-12 of the sum of the terms' magnitudes (rounding noise) or below 1e-240 dollars are not
reported (the compiled scan's documented limits are tighter, never looser). Cost: ``O(grid x n)``.
"""

from __future__ import annotations

import math

import numpy as np

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_NEGLIGIBLE_GEX = 1e-240  # dollars, as the compiled scan
_NOISE = 1e-12  # |G| below this fraction of sum |terms| has no trustworthy sign here
_CHUNK = 2_000_000  # grid nodes x terms per evaluation block (bounded memory: ~16 MB a temporary)


def _valid_mask(K, sig, T, w, r, q) -> np.ndarray:
    finite = np.isfinite(K) & np.isfinite(sig) & np.isfinite(T) & np.isfinite(w) & np.isfinite(r) & np.isfinite(q)
    with np.errstate(invalid="ignore"):
        return finite & (K > 0.0) & (sig > 0.0) & (T > 0.0) & (w != 0.0)


def mean_log_strike(K, sig, T, w, r, q) -> float:
    """Mean of ``ln K`` over the valid contracts (NaN when there is none): the default reference."""
    ok = _valid_mask(K, sig, T, w, r, q)
    return float(np.mean(np.log(K[ok]))) if ok.any() else math.nan


def coefficients(K, sig, T, w, r, q, reference: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a, b, c, |c| a**2)`` of the valid contracts, identical ``(a, b)`` merged, in first-seen order.

    Inputs are float64 arrays of shape ``(n,)`` (strike, vol, tenor in years, weight, rate, yield) and
    the reference level; outputs have shape ``(m,)``, ``m <= n``. Contracts whose coefficients are not
    finite, or whose ``c`` is 0, are dropped, as are merged terms that cancel exactly.
    """
    ok = _valid_mask(K, sig, T, w, r, q)
    K, sig, T, w, r, q = (np.asarray(v, dtype=np.float64)[ok] for v in (K, sig, T, w, r, q))
    with np.errstate(all="ignore"):
        a = 1.0 / (sig * np.sqrt(T))
        b = (np.log(reference / K) + (r - q + 0.5 * sig * sig) * T) * a
        c = 0.01 * _INV_SQRT_2PI * w * np.exp(-q * T) * a
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & (c != 0.0)
    a, b, c = a[keep], b[keep], c[keep]
    if a.size == 0:
        empty = np.empty(0)
        return empty, empty.copy(), empty.copy(), empty.copy()
    pairs = np.stack([a, b], axis=1)
    _, first, inverse = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.zeros(first.size)
    np.add.at(sums, inverse, c)  # unbuffered, in input order
    order = np.argsort(first, kind="stable")
    a, b, c = a[first[order]], b[first[order]], sums[order]
    nz = c != 0.0
    a, b, c = a[nz], b[nz], c[nz]
    return a, b, c, np.abs(c) * a * a


def f_and_slope(a: np.ndarray, b: np.ndarray, c: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F(x)`` and ``F'(x)`` at every ``x`` of ``xs`` (shape ``(m,)``): ``G = S F``, ``dG/dS = F + F'``."""
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    F = np.empty(xs.size)
    D = np.empty(xs.size)
    step = max(1, _CHUNK // max(a.size, 1))
    for k in range(0, xs.size, step):
        d = a[None, :] * xs[k : k + step, None] + b[None, :]
        t = c[None, :] * np.exp(-0.5 * d * d)
        F[k : k + step] = t.sum(axis=1)
        D[k : k + step] = -(t * a[None, :] * d).sum(axis=1)
    return F, D


def _f_scale(a: np.ndarray, b: np.ndarray, c: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``sum_i |c_i| exp(-d_i**2 / 2)`` at every ``x``: the magnitude that rounding noise scales with."""
    return f_and_slope(a, b, np.abs(c), xs)[0]


def crossings(a: np.ndarray, b: np.ndarray, c: np.ndarray, reference: float, lo: float, hi: float,
              xtol: float = 1e-6) -> np.ndarray:
    """Zero crossings of ``G`` in ``[lo, hi]`` (levels, ascending, shape ``(k,)``), grid + ``brentq``.

    ``xtol`` is the tolerance of each root in units of the underlying (``brentq`` is run to
    ``xtol / 100``).
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(f"window must satisfy 0 < lo < hi, got ({lo}, {hi})")
    if not (xtol > 0.0 and math.isfinite(xtol)):
        raise ValueError("xtol must be a positive number of dollars")
    if a.size == 0:
        return np.empty(0)
    xlo, xhi = math.log(lo / reference), math.log(hi / reference)
    material = np.abs(c) * a >= 1e-3 * np.max(np.abs(c) * a)
    step = 0.1 / float(np.max(a[material]))
    n = int(min(max(math.ceil((xhi - xlo) / step) + 1, 4001), 200_001))
    xs = np.linspace(xlo, xhi, n)
    F = f_and_slope(a, b, c, xs)[0]
    scale = _f_scale(a, b, c, xs)
    S = reference * np.exp(xs)
    sign = np.where(np.abs(F) * S <= _NEGLIGIBLE_GEX, 0.0, np.sign(F))
    sign[np.abs(F) <= _NOISE * scale] = 0.0
    idx = np.flatnonzero(sign)
    out = []

    def g(x: float) -> float:
        return float(f_and_slope(a, b, c, np.array([x]))[0][0])

    from scipy import optimize  # here, not at import: scipy.optimize costs ~0.3 s to import

    for i, j in zip(idx[:-1], idx[1:], strict=True):
        if sign[i] == sign[j]:
            continue
        x = optimize.brentq(g, xs[i], xs[j], xtol=xtol / (100.0 * hi), rtol=4 * np.finfo(float).eps)
        out.append(x)
    return np.clip(reference * np.exp(np.array(out, dtype=np.float64)), lo, hi)
