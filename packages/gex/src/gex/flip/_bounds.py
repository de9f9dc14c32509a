"""Rigorous bounds for the certified scan: envelope tables and window pruning (private, compiled).

The scan (:mod:`gex.flip._scan`) needs upper bounds of ``|F|``, ``|F'|`` and ``|F''|`` over a cell
``[x0, x1]`` of ``x = ln(S / reference)``, contract by contract, without evaluating exponentials. With
``d_i = a_i x + b_i`` the terms are ``c_i exp(-d**2/2)``, ``c_i a_i d exp(-d**2/2)`` and
``c_i a_i**2 (d**2 - 1) exp(-d**2/2)``; each magnitude is bounded by a tabulated monotone envelope
evaluated at ``p = min |d|`` over the cell:

* ``E_0(p) >= sup_{|u| >= p} exp(-u**2/2)``, ``E_1`` for ``|u| exp(-u**2/2)``, ``E_2`` for
  ``|u**2 - 1| exp(-u**2/2)``, tabulated at ``p = j / 32`` (``j = 0 .. 1280``, float64 arrays of shape
  ``(1281,)``), looked up at ``floor(32 p)``: an upper bound because each ``E_k`` is non-increasing.

Why it is fast: a bound costs one table load per contract (no ``exp``), and :func:`window` drops
contracts that are negligible over the whole scan window (``|d| > 10`` everywhere: weight < 2e-22)
once, replacing them by a bound, so the scan's inner loops run over the near-the-money terms only.
Units: ``c`` in dollars per 1% per unit of spot (see :mod:`gex.flip.profile`); ``a`` per unit of ``x``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from gex._fastmath import EPS as _EPS
from gex._fastmath import FM_ELEMENTWISE as _FM
from gex._fastmath import FM_SUM as _FM_SUM

# ---- monotone envelopes for bounds: E_k(p) >= sup_{|u| >= p} of ------------------------------------
#   k=0: exp(-u^2/2)   k=1: |u| exp(-u^2/2)   k=2: |u^2 - 1| exp(-u^2/2)
# tabulated at p = j / 32, looked up at floor(32 p): an upper bound because each E_k is non-increasing.
_TAB_STEP_INV = 32.0
_TAB_N = 40 * 32  # beyond |u| = 40 every envelope is < 1e-340, i.e. 0 in double


def _envelopes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.arange(_TAB_N + 1, dtype=np.float64) / _TAB_STEP_INV
    g = np.exp(-0.5 * p * p)
    e0 = g.copy()
    e1 = np.where(p <= 1.0, math.exp(-0.5), p * g)
    s3 = 2.0 * math.exp(-1.5)  # |u^2-1| e^{-u^2/2} at u = sqrt(3)
    below = np.maximum(np.where(p < 1.0, (1.0 - p * p) * g, 0.0), s3)
    e2 = np.where(p <= math.sqrt(3.0), below, (p * p - 1.0) * g)
    out = []
    for e in (e0, e1, e2):
        # + rounding margin; floored at 1e-300 where the true value underflows (all of p >= ~37.5,
        # and the last entry, which stands for every p >= 40)
        e = np.maximum(e * (1.0 + 1e-12), 1e-300)
        out.append(np.ascontiguousarray(e))
    return out[0], out[1], out[2]


_E0, _E1, _E2 = _envelopes()


@nb.njit(cache=True, error_model="numpy", fastmath=_FM, inline="always")
def _tab_index(p):  # pragma: no cover - compiled
    q = min(max(p, 0.0) * _TAB_STEP_INV, float(_TAB_N))
    return int(q)


@nb.njit(cache=True, error_model="numpy", fastmath=_FM, inline="always")
def _pmin(u, v):  # pragma: no cover - compiled
    """min |d| over the segment [u, v] (or [v, u])."""
    same = (u > 0.0) == (v > 0.0)
    m = min(abs(u), abs(v))
    return m if same else 0.0


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM, inline="always")
def _window_p(ai, bi, xlo, xhi):  # pragma: no cover - compiled
    """Lower bound of min |d| over [xlo, xhi] for one contract."""
    ul = ai * xlo
    ur = ai * xhi
    return _pmin(ul + bi, ur + bi) - 4.0 * _EPS * (abs(ul) + abs(ur) + abs(bi) + 1.0)


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _window(a, b, c, k2, xlo, xhi, pcut):  # pragma: no cover - compiled
    """Prune contracts whose |d| stays above ``pcut`` on all of [xlo, xhi], with a bound on them.

    Returns the kept (a, b, c, k2) (the inputs themselves when pruning would drop under 10%), the
    absolute error bounds tails = (F, F', F'') over the window of what is not evaluated exactly (pruned
    contracts, and terms that underflow), and the largest ``a`` among contracts with material ``|c| a``
    (>= 1e-3 of the largest).
    """
    n = a.size
    t0 = 0.0
    t1 = 0.0
    t2 = 0.0
    ndrop = 0.0
    wmax = 0.0
    csum = 0.0
    casum = 0.0
    for i in range(n):
        ai = a[i]
        p = _window_p(ai, b[i], xlo, xhi)
        j = _tab_index(p)
        ac = abs(c[i])
        wac = ac * ai
        drop = p > pcut
        t0 += ac * _E0[j] if drop else 0.0
        t1 += wac * _E1[j] if drop else 0.0
        t2 += k2[i] * _E2[j] if drop else 0.0
        ndrop += 1.0 if drop else 0.0
        wmax = max(wmax, wac)
        csum += ac
        casum += wac
    amax = 0.0
    thr = 1e-3 * wmax
    for i in range(n):
        amax = max(amax, a[i] if abs(c[i]) * a[i] >= thr else 0.0)
    # terms below exp(-708) are flushed to 0 and tiny products lose digits: bound both
    u0 = 3.4e-308 * csum + 1e-322 * (n + 1)
    u1 = 1.3e-306 * casum + 1e-322 * (n + 1)
    grow = 1.0 + 1e-12
    if ndrop <= 0.1 * n:
        return a, b, c, k2, np.array([u0 * grow, u1 * grow, 0.0]), amax
    oa = np.empty(n)
    ob = np.empty(n)
    oc = np.empty(n)
    ok = np.empty(n)
    j = 0
    for i in range(n):
        # keep a margin: a contract near the cut may be both kept and in the tails (safe), never neither
        if not _window_p(a[i], b[i], xlo, xhi) > pcut + 1e-6:
            oa[j] = a[i]
            ob[j] = b[i]
            oc[j] = c[i]
            ok[j] = k2[i]
            j += 1
    tails = np.array([(t0 + u0) * grow, (t1 + u1) * grow, t2 * grow])
    return oa[:j], ob[:j], oc[:j], ok[:j], tails, amax


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _sup_abs_f(a, b, c, x0, x1, tails):  # pragma: no cover - compiled
    """Upper bound of |F| on [x0, x1] (no exponentials: tabulated envelope)."""
    m0 = 0.0
    for i in range(a.size):
        ai = a[i]
        bi = b[i]
        u0 = ai * x0
        u1 = ai * x1
        pad = 4.0 * _EPS * (abs(u0) + abs(u1) + abs(bi) + 1.0)
        m0 += abs(c[i]) * _E0[_tab_index(_pmin(u0 + bi, u1 + bi) - pad)]
    return (m0 + tails[0]) * (1.0 + 1e-12)
