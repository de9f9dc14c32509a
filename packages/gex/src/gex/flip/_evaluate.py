"""Evaluation kernels of the GEX profile: F, F' and their certified error bounds (private, compiled).

With ``x = ln(S / reference)`` and per-term coefficients ``a, b, c`` (float64 arrays of shape ``(n,)``,
see :mod:`gex.flip.profile`)::

    F(x) = sum_i c_i exp(-d_i**2 / 2),   F'(x) = -sum_i c_i a_i d_i exp(-d_i**2 / 2),   d_i = a_i x + b_i

and the dealer GEX is ``G(S) = S F(x)`` dollars per 1% move, ``dG/dS = F + F'``.

* :func:`_eval_many_serial` / :func:`_eval_many_parallel`: ``F`` and ``F'`` at many ``x`` (shape
  ``(m,)``), for :meth:`GammaProfile.gex`; the parallel one splits the ``x`` over threads.
* :func:`_point`: ``F``, ``F'`` at one ``x`` plus rigorous bounds ``nF``, ``nD`` on their absolute
  errors (rounding ``2 (n + 4) eps sum|terms|`` for any summation order, error of ``d`` propagated,
  and ``tails`` = what :func:`gex.flip._bounds._window` pruned or what underflows).
* :func:`_node` / :func:`_node1`: the same plus an upper bound of ``|F''|`` on the adjacent cell(s),
  from the range of ``d_i`` over the cell and the envelope table ``E_2``, in the same pass.

Why it is fast: one fused multiply-add, one square and one exponential per term, the slope from the
same exponential, the exponential being :func:`gex._fastmath.exp_flush` (inlined, vectorisable: the
loops run as SIMD); reductions are compiled with ``reassoc`` so the sums vectorise too (the error
bounds hold for any order). A reference in plain numpy is :mod:`gex.flip.reference`.
"""

from __future__ import annotations

import numba as nb

from gex._fastmath import EPS as _EPS
from gex._fastmath import FM_SUM as _FM_SUM
from gex._fastmath import exp_flush as _exp_neg
from gex.flip._bounds import _E2, _pmin, _tab_index

@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _point(a, b, c, x, tails):  # pragma: no cover - compiled
    """F(x), F'(x) and bounds on their absolute errors (rounding + pruned tail)."""
    F = 0.0
    D = 0.0
    absF = 0.0
    absD = 0.0
    errF = 0.0
    errD = 0.0
    for i in range(a.size):
        ai = a[i]
        bi = b[i]
        ax = ai * x
        d = ax + bi
        d2 = d * d
        t = c[i] * _exp_neg(-0.5 * d2)
        ta = t * ai
        F += t
        D -= ta * d
        at = abs(t)
        ata = abs(ta)
        ad = abs(d)
        dd = 4.0 * _EPS * (abs(ax) + abs(bi)) + _EPS * ad  # error of d
        absF += at
        absD += ata * ad
        errF += at * (ad * dd + (d2 + 4.0) * _EPS)
        errD += ata * (abs(1.0 - d2) * dd + ad * (d2 + 4.0) * _EPS)
    s = 2.0 * (a.size + 4) * _EPS
    return F, D, tails[0] + errF + s * absF, tails[1] + errD + s * absD


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _node(a, b, c, k2, x, xl, xr, tails):  # pragma: no cover - compiled
    """``_point`` at x plus bounds of |F''| on [xl, x] and on [x, xr] (fused: one exp per contract)."""
    F = 0.0
    D = 0.0
    absF = 0.0
    absD = 0.0
    errF = 0.0
    errD = 0.0
    m2l = 0.0
    m2r = 0.0
    for i in range(a.size):
        ai = a[i]
        bi = b[i]
        ax = ai * x
        d = ax + bi
        d2 = d * d
        t = c[i] * _exp_neg(-0.5 * d2)
        ta = t * ai
        F += t
        D -= ta * d
        at = abs(t)
        ata = abs(ta)
        ad = abs(d)
        dd = 4.0 * _EPS * (abs(ax) + abs(bi)) + _EPS * ad
        absF += at
        absD += ata * ad
        errF += at * (ad * dd + (d2 + 4.0) * _EPS)
        errD += ata * (abs(1.0 - d2) * dd + ad * (d2 + 4.0) * _EPS)
        axl = ai * xl
        axr = ai * xr
        pad = dd + 4.0 * _EPS * (abs(axl) + abs(axr))
        m2l += k2[i] * _E2[_tab_index(_pmin(axl + bi, d) - pad)]
        m2r += k2[i] * _E2[_tab_index(_pmin(d, axr + bi) - pad)]
    s = 2.0 * (a.size + 4) * _EPS
    grow = 1.0 + 1e-12
    return (
        F,
        D,
        tails[0] + errF + s * absF,
        tails[1] + errD + s * absD,
        (m2l + tails[2]) * grow,
        (m2r + tails[2]) * grow,
    )


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _node1(a, b, c, k2, x, xo, tails):  # pragma: no cover - compiled
    """``_point`` at x plus a bound of |F''| on the segment between x and xo."""
    F = 0.0
    D = 0.0
    absF = 0.0
    absD = 0.0
    errF = 0.0
    errD = 0.0
    m2 = 0.0
    for i in range(a.size):
        ai = a[i]
        bi = b[i]
        ax = ai * x
        d = ax + bi
        d2 = d * d
        t = c[i] * _exp_neg(-0.5 * d2)
        ta = t * ai
        F += t
        D -= ta * d
        at = abs(t)
        ata = abs(ta)
        ad = abs(d)
        dd = 4.0 * _EPS * (abs(ax) + abs(bi)) + _EPS * ad
        absF += at
        absD += ata * ad
        errF += at * (ad * dd + (d2 + 4.0) * _EPS)
        errD += ata * (abs(1.0 - d2) * dd + ad * (d2 + 4.0) * _EPS)
        axo = ai * xo
        pad = dd + 4.0 * _EPS * abs(axo)
        m2 += k2[i] * _E2[_tab_index(_pmin(axo + bi, d) - pad)]
    s = 2.0 * (a.size + 4) * _EPS
    return F, D, tails[0] + errF + s * absF, tails[1] + errD + s * absD, (m2 + tails[2]) * (1.0 + 1e-12)


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _eval_many_serial(a, b, c, xs, F, D):  # pragma: no cover - compiled
    for j in range(xs.size):
        x = xs[j]
        f = 0.0
        g = 0.0
        for i in range(a.size):
            ai = a[i]
            d = ai * x + b[i]
            t = c[i] * _exp_neg(-0.5 * d * d)
            f += t
            g -= t * ai * d
        F[j] = f
        D[j] = g


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM, parallel=True)
def _eval_many_parallel(a, b, c, xs, F, D):  # pragma: no cover - compiled
    for j in nb.prange(xs.size):
        x = xs[j]
        f = 0.0
        g = 0.0
        for i in range(a.size):
            ai = a[i]
            d = ai * x + b[i]
            t = c[i] * _exp_neg(-0.5 * d * d)
            f += t
            g -= t * ai * d
        F[j] = f
        D[j] = g
