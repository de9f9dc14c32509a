"""Dealer GEX profile over hypothetical spots, its zero crossings and the "gamma flip".

Model
-----
Sticky strike: when the underlying moves to a hypothetical level ``S`` every contract keeps its own
implied volatility ``sigma_i``, tenor ``T_i`` (years), rate ``r_i`` and dividend yield ``q_i``. The
dealer gamma exposure of the chain, in **dollars per 1% move of the underlying**, is::

    G(S) = sum_i w_i * Gamma_BS(S; K_i, r_i, sigma_i, T_i, q_i) * S**2 * 0.01

with ``w_i = dealer_sign_i * open_interest_i * multiplier_i`` (signed shares per point per unit of
gamma; +1 when dealers are long the contract) and
``Gamma_BS = exp(-q T) phi(d1) / (S sigma sqrt(T))``,
``d1 = (ln(S/K) + (r - q + sigma**2/2) T) / (sigma sqrt(T))``.

Writing ``x = ln(S / reference)`` each ``d1`` is affine in ``x``, ``d_i = a_i x + b_i`` with
``a_i = 1/(sigma_i sqrt(T_i))``, so ::

    G(S) = S * F(x),   F(x) = sum_i c_i exp(-d_i**2 / 2),   c_i = 0.01 w_i exp(-q_i T_i) a_i / sqrt(2 pi)
    dG/dS = F(x) + F'(x),   F'(x) = -sum_i c_i a_i d_i exp(-d_i**2 / 2)

One evaluation costs one fused multiply-add, one square and one exponential per contract, and the
slope comes from the same exponential. The exponential is an inlined, vectorisable Cody-Waite +
degree-13 polynomial (max error 1 ulp, tested against ``numpy.exp``); the libm call does not vectorise
and is ~9x slower here.

Root finding and its guarantee
------------------------------
The zeros of ``G`` on ``S > 0`` are those of ``F``; the scan works on cells ``[x0, x1]`` of ``x``.
The pass over the contracts that evaluates ``F`` and ``F'`` at a new node also returns a rigorous
upper bound ``M2`` of ``|F''|`` on the adjacent cell(s) (contract by contract, from the range of
``d_i`` over the cell and a tabulated monotone envelope of ``|u**2 - 1| exp(-u**2/2)``), and bounds
``nF``, ``nD`` on the absolute errors of the computed ``F``, ``F'`` (rounding, underflow, and the
contracts pruned because ``|d1| > 10`` over the whole window). A node's sign is *trusted* when
``|F| > nF``. A cell is

* **certified root-free** when its ends have the same sign and the one-sided Taylor lower bounds
  ``|F(x0)| + s F'(x0) t - M2 t**2 / 2`` (and the mirror one from ``x1``) together cover it;
* **certified to hold exactly one crossing** when its ends have trusted opposite signs and ``F'``
  provably keeps one sign on it (``g0 + g1 > M2 h``, ``g0, g1`` the slope lower bounds at the ends);
  the root is refined by safeguarded Newton (bisection fallback inside the bracket) until a
  *certified* bound - ``(|F(x)| + nF) / min|F'|``, or the Newton-step bound ``M2 e**2 / (2 |F'|)`` -
  is below ``xtol`` dollars;
* otherwise split in two (one more evaluation), down to a width of ``xtol`` dollars.

Crossings are the sign changes between consecutive trusted nodes. Hence **every zero crossing of G in
the window is found and located to within xtol**, however close it is to its neighbours (no grid
resolution has to be guessed), with these limits, all at the scale of rounding:

* crossings closer together than ``xtol`` dollars may be resolved or not: two inside one final cell
  cancel like a touch, three count once;
* tangential touches (double roots without a sign change) are not crossings;
* a root within rounding of a node leaves that node untrusted; the sign change between the trusted
  nodes around it is then reported at their midpoint (they are at most a few ``xtol`` apart);
* sign changes inside stretches where ``|G| < 1e-240`` dollars (far beyond every contract, where every
  term underflows) are not reported.

Cost is adaptive: cells grow geometrically while they certify and shrink only where ``F`` wiggles
(short-dated, heavily weighted contracts) or approaches zero. The bounds add the terms' magnitudes, so
nearly cancelling contracts (same strike, tenor and volatility, opposite weights) cost smaller cells;
bit-identical ones are merged when the profile is built. A scan that would need more than 5 million
cells raises ``RuntimeError`` instead of running on.

All functions take and return levels of the underlying (``S``, same currency as strikes) and dollar
amounts; ``x`` never leaks out of this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = [
    "FlipResult",
    "GammaProfile",
    "find_crossings",
    "first_grid_crossing",
    "nearest_flip",
    "solve_flip",
]

# --------------------------------------------------------------------------------------------------
# numba flags. Element-wise math: contraction into fma, reciprocal approximations of divisions and
# signed-zero freedom do not move results beyond rounding. Reductions additionally get 'reassoc' so
# that the sums vectorise; it only changes the summation order, and the kernels' error bounds
# (2 (n + 4) eps sum|terms|) hold for any order. The exp/log helpers are compiled without 'reassoc'
# (Cody-Waite reduction and the round-to-nearest trick must not be re-associated); LLVM inlines them
# keeping their own per-instruction flags (checked by the 1-ulp tests). 'nnan'/'ninf' are never used.
# --------------------------------------------------------------------------------------------------
_FM = {"contract", "arcp", "nsz"}
_FM_SUM = {"contract", "arcp", "nsz", "reassoc"}

_EPS = float(np.finfo(np.float64).eps)  # 2.22e-16
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Threads only pay off for big batches: on the 2-core reference machine, 60 spots x 27k contracts ran
# 1.5 ms serial vs 0.8 ms on 2 threads when idle, but 4-8 ms when other processes held the cores.
_PARALLEL_MIN_WORK = 10_000_000  # element evaluations (spots x contracts) before .gex uses threads
_PARALLEL_MIN_SCAN_CONTRACTS = 100_000  # contracts above which find_crossings splits over threads
_MAX_DEPTH = 160  # per-side cell stack (depth of bisection is ~log2(window / xtol) < 64)
_MAX_ROOTS = 4096
_MAX_STEPS = 5_000_000  # safety net: cells processed per scan before giving up (never hit in tests)
_GIVE_UP = f"scan gave up (more than {_MAX_ROOTS} crossings or {_MAX_STEPS} cells); narrow the window"
_HASH_A = np.int64(-7046029254386353131)  # odd 64-bit multipliers for the (a, b) hash
_HASH_B = np.int64(-4658895280553007687)

# ---- exp and log that LLVM can vectorise (libm calls do not) ------------------------------------


@intrinsic
def _i64_as_f64(typingctx, v):  # pragma: no cover - compiled
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _f64_as_i64(typingctx, v):  # pragma: no cover - compiled
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_P = [1.0 / math.factorial(k) for k in range(14)]
(_P2, _P3, _P4, _P5, _P6, _P7, _P8, _P9, _P10, _P11, _P12, _P13) = _P[2:]


@nb.njit(cache=True, error_model="numpy", fastmath=_FM)
def _exp_neg(v):  # pragma: no cover - compiled
    """exp(v) for v < 709 (max error 1 ulp), vectorisable; 0 below -708 (true value < 3.4e-308)."""
    ok = v > -708.0
    v = max(v, -708.0)
    t = v * _INV_LN2 + _ROUND
    k = t - _ROUND
    r = (v - k * _LN2_HI) - k * _LN2_LO
    p = _P13
    p = p * r + _P12
    p = p * r + _P11
    p = p * r + _P10
    p = p * r + _P9
    p = p * r + _P8
    p = p * r + _P7
    p = p * r + _P6
    p = p * r + _P5
    p = p * r + _P4
    p = p * r + _P3
    p = p * r + _P2
    p = p * r + 1.0
    p = p * r + 1.0
    scale = _i64_as_f64((_f64_as_i64(t) + 1023) << 52)
    return p * scale if ok else 0.0


_SQRT2 = math.sqrt(2.0)
_LG1 = 6.666666666666735130e-01  # fdlibm e_log.c minimax coefficients
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@nb.njit(cache=True, error_model="numpy", fastmath=_FM)
def _log_pos(v):  # pragma: no cover - compiled
    """ln(v) for positive normal finite v (max error < 1 ulp, fdlibm's reduction); vectorisable."""
    bits = _f64_as_i64(v)
    e = (bits >> 52) - 1023
    m = _i64_as_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # mantissa in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    k = float(e)
    return k * _LN2_HI - ((hfsq - (s * (hfsq + t2 + t1) + k * _LN2_LO)) - f)


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


# ---- kernels ------------------------------------------------------------------------------------


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


# ---- cell logic -----------------------------------------------------------------------------------
# A cell is a row of 11 floats: x0, x1, F0, F1, D0, D1, nF0, nF1, nD0, nD1, M2 (x0 < x1), where nF, nD
# bound the absolute errors of the computed F, F' and M2 bounds |F''| on the cell.
#
# A node's sign is *trusted* when |F| > nF (the computed sign is then the true sign). Crossings are
# the sign changes between consecutive trusted nodes along the scan: either inside a cell certified to
# hold exactly one crossing (refined by safeguarded Newton), or across a run of untrusted nodes, which
# only happens next to a root at the resolution limit (cells of width <= xtol): it is then placed at
# the middle of the run.


@nb.njit(cache=True, error_model="numpy")
def _tsign(F, nF):  # pragma: no cover - compiled
    if F > nF:
        return 1.0
    if F < -nF:
        return -1.0
    return 0.0


@nb.njit(cache=True, error_model="numpy")
def _reach(f, g, m2):  # pragma: no cover - compiled
    """Largest t with f + g t - m2 t^2 / 2 > 0 on all of [0, t) (0 when f <= 0)."""
    if not f > 0.0:
        return 0.0
    if m2 <= 0.0:
        return np.inf if g >= 0.0 else f / (-g)
    disc = math.sqrt(g * g + 2.0 * m2 * f)
    if g >= 0.0:
        return (g + disc) / m2
    return 2.0 * f / (disc - g)


@nb.njit(cache=True, error_model="numpy")
def _classify(cell):  # pragma: no cover - compiled
    """(status, slope lower bound): 0 = certified no root, 1 = certified one crossing, 2 = undecided."""
    h = cell[1] - cell[0]
    m2 = cell[10]
    s0 = _tsign(cell[2], cell[6])
    s1 = _tsign(cell[3], cell[7])
    if s0 * s1 < 0.0:
        # F' keeps the sign s1 on the cell if max(g0 - M2 t, g1 - M2 (h - t)) > 0 for all t
        g0 = s1 * cell[4] - cell[8]
        g1 = s1 * cell[5] - cell[9]
        slack = g0 + g1 - m2 * h
        if slack > 0.0:
            return 1, 0.5 * slack
        return 2, 0.0
    s = s0 if s0 != 0.0 else (s1 if s1 != 0.0 else 1.0)
    # Taylor lower bounds of s*F from both ends must cover the cell
    tl = _reach(s * cell[2] - cell[6], s * cell[4] - cell[8], m2)
    tr = _reach(s * cell[3] - cell[7], -s * cell[5] - cell[9], m2)
    if tl + tr > h:
        return 0, 0.0
    return 2, 0.0


@nb.njit(cache=True, error_model="numpy")
def _refine(a, b, c, tails, cell, mslope, xtol_x):  # pragma: no cover - compiled
    """Root of F in a cell certified to hold exactly one crossing, |error| <= xtol_x (certified)."""
    x0 = cell[0]
    x1 = cell[1]
    F0 = cell[2]
    F1 = cell[3]
    m2 = cell[10]
    pos0 = F0 > 0.0
    lo = x0
    hi = x1
    x = x0 + (x1 - x0) * (F0 / (F0 - F1))  # regula falsi start
    if not (x > lo and x < hi):
        x = 0.5 * (lo + hi)
    for _ in range(200):
        F, D, nF, nD = _point(a, b, c, x, tails)
        err = (abs(F) + nF) / mslope  # |x - root| <= err: |F'| >= mslope on the cell
        aD = abs(D)
        if err <= xtol_x:
            # done; a last Newton step from x is free and usually gains many digits: take it when its
            # certified bound is smaller still
            if aD > 2.0 * nD:
                xn = x - F / D
                dn = aD - nD
                bound = m2 * err * err / (2.0 * dn) + (abs(F) * nD / aD + nF) / dn + 4.0 * _EPS * abs(xn)
                if bound < err and abs(xn - x) <= err:
                    return xn
            return x
        if (F > 0.0) == pos0:
            lo = x
        else:
            hi = x
        if hi - lo <= 2.0 * xtol_x:
            return 0.5 * (lo + hi)
        if aD > 2.0 * nD:
            xn = x - F / D
            if xn > lo and xn < hi:
                # Newton error: |root - xn| <= M2 err^2 / (2 |F'(x)|) + effect of the errors of F, F'
                dn = aD - nD
                bound = m2 * err * err / (2.0 * dn) + (abs(F) * nD / aD + nF) / dn + 4.0 * _EPS * abs(xn)
                if bound <= xtol_x:
                    return xn
                x = xn
                continue
        x = 0.5 * (lo + hi)
    return x


@nb.njit(cache=True, error_model="numpy")
def _set_cell(stack, k, x0, x1, p0, p1, m2):  # pragma: no cover - compiled
    """p0, p1: (F, D, nF, nD) at x0, x1."""
    row = stack[k]
    row[0] = x0
    row[1] = x1
    row[2] = p0[0]
    row[3] = p1[0]
    row[4] = p0[1]
    row[5] = p1[1]
    row[6] = p0[2]
    row[7] = p1[2]
    row[8] = p0[3]
    row[9] = p1[3]
    row[10] = m2


# Side state ``st`` (float64[16]):
#   0 x_f, 1 F_f, 2 D_f, 3 nF_f, 4 nD_f   resolved frontier node
#   5 h_next, 6 x_end, 7 direction (+1 right / -1 left), 8 h_min, 9 xtol_x, 10 negligible |F|
#   11 last trusted sign (0: none since start / since a negligible stretch), 12 its x
#   13 first trusted sign (0: none yet), 14 its x, 15 1.0 if a negligible stretch came before it
# ``ist`` (int64[3]): stack pointer, exhausted flag, give-up flag.
_ST = 16


@nb.njit(cache=True, error_model="numpy")
def _next_step(st, m2, lower, upper):  # pragma: no cover - compiled
    """Size of the next cell from the frontier: twice the certified reach of the frontier's Taylor
    lower bound, or - when heading towards a zero - enough to bracket it while staying small enough
    (``|F'| / M2``) for the one-crossing certificate; clamped to [lower, upper]."""
    s = 1.0 if st[1] >= 0.0 else -1.0
    f = s * st[1] - st[3]
    g = s * st[7] * st[2] - st[4]
    h = 2.0 * _reach(f, g, m2)
    if g < 0.0 and m2 > 0.0:
        rho = max(f, 0.0) / (-g)
        h = max(h, min(1.5 * rho, 0.9 * (-g) / m2))
    st[5] = min(max(h, lower), upper)


@nb.njit(cache=True, error_model="numpy")
def _init_side(st, ist, x, pt, m2, x_end, direction, hmin, xtol_x, lower, upper, fzero):  # pragma: no cover
    st[0] = x
    st[1] = pt[0]
    st[2] = pt[1]
    st[3] = pt[2]
    st[4] = pt[3]
    st[6] = x_end
    st[7] = direction
    st[8] = hmin
    st[9] = xtol_x
    st[10] = fzero
    s = _tsign(pt[0], pt[2])
    st[11] = s
    st[12] = x
    st[13] = s
    st[14] = x
    st[15] = 0.0
    ist[0] = 0
    ist[1] = 1 if x == x_end else 0
    ist[2] = 0
    _next_step(st, m2, lower, upper)


@nb.njit(cache=True, error_model="numpy")
def _push_root(roots, nroots, ist, x):  # pragma: no cover - compiled
    if nroots[0] < roots.size:
        roots[nroots[0]] = x
        nroots[0] += 1
    else:
        ist[2] = 1


@nb.njit(cache=True, error_model="numpy")
def _side_step(a, b, c, k2, tails, st, ist, stack, roots, nroots):  # pragma: no cover - compiled
    """Resolve (or split) the next cell of one side; advances the frontier ``st[0]`` when resolved."""
    if ist[1]:
        return
    direction = st[7]
    hmin = st[8]
    if ist[0] == 0:  # open a new cell next to the frontier
        xf = st[0]
        x_end = st[6]
        h = st[5]
        xn = xf + direction * h
        if direction * (x_end - xn) <= 0.5 * h:
            xn = x_end
        F, D, nF, nD, m2 = _node1(a, b, c, k2, xn, xf, tails)
        pf = (st[1], st[2], st[3], st[4])
        pn = (F, D, nF, nD)
        if direction > 0:
            _set_cell(stack, 0, xf, xn, pf, pn, m2)
        else:
            _set_cell(stack, 0, xn, xf, pn, pf, m2)
        ist[0] = 1
    k = ist[0] - 1
    cell = stack[k]
    status, mslope = _classify(cell)
    h = cell[1] - cell[0]
    negligible = False
    if max(abs(cell[2]), abs(cell[3])) <= st[10]:
        # Far from every contract F underflows and no sign can be certified; when |F| is provably
        # negligible on the whole cell (|G| < _NEGLIGIBLE_GEX dollars) there is nothing to report.
        if _sup_abs_f(a, b, c, cell[0], cell[1], tails) <= st[10]:
            status = 0
            negligible = True
    if status == 2 and h > hmin and k + 2 < stack.shape[0]:
        x0 = cell[0]
        x1 = cell[1]
        xm = 0.5 * (x0 + x1)
        F, D, nF, nD, m2l, m2r = _node(a, b, c, k2, xm, x0, x1, tails)
        p0 = (cell[2], cell[4], cell[6], cell[8])
        p1 = (cell[3], cell[5], cell[7], cell[9])
        pm = (F, D, nF, nD)
        if direction > 0:  # near half (left) on top
            _set_cell(stack, k, xm, x1, pm, p1, m2r)
            _set_cell(stack, k + 1, x0, xm, p0, pm, m2l)
        else:
            _set_cell(stack, k, x0, xm, p0, pm, m2l)
            _set_cell(stack, k + 1, xm, x1, pm, p1, m2r)
        ist[0] = k + 2
        return
    # the cell is resolved
    if status == 1:
        _push_root(roots, nroots, ist, _refine(a, b, c, tails, cell, mslope, st[9]))
    j = 1 if direction > 0 else 0  # far end
    xfar = cell[j]
    Ffar = cell[2 + j]
    nFfar = cell[6 + j]
    if negligible:
        st[11] = 0.0
        if st[13] == 0.0:
            st[15] = 1.0
    s = _tsign(Ffar, nFfar)
    if s != 0.0:
        if st[13] == 0.0 and st[15] == 0.0:
            st[13] = s
            st[14] = xfar
        if st[11] != 0.0 and s != st[11] and status != 1:
            _push_root(roots, nroots, ist, 0.5 * (st[12] + xfar))  # across untrusted nodes
        st[11] = s
        st[12] = xfar
    st[0] = xfar
    st[1] = Ffar
    st[2] = cell[4 + j]
    st[3] = nFfar
    st[4] = cell[8 + j]
    ist[0] = k
    if k == 0:
        if negligible:  # nothing to learn from F here: grow geometrically
            st[5] = min(4.0 * h, 0.25)
        else:
            _next_step(st, cell[10], max(16.0 * hmin, 0.25 * h), min(8.0 * h, 0.25))
        if st[0] == st[6]:
            ist[1] = 1


@nb.njit(cache=True, error_model="numpy")
def _scan_chunk(  # pragma: no cover - compiled
    a, b, c, k2, tails, x0, x1, direction, h0, htrial, hmin, xtol_x, fzero, roots, nroots, link
):
    """Scan [x0, x1] away from x0 (direction +1) or from x1 (-1).

    ``link`` receives, for joining chunks: sign and x of the trusted node nearest the chunk's right
    end (0 when a negligible stretch or nothing lies between), the same for the left end, the give-up
    flag and the number of cells processed.
    """
    st = np.empty(_ST)
    ist = np.zeros(3, dtype=np.int64)
    stack = np.empty((_MAX_DEPTH, 11))
    ht = min(htrial, x1 - x0)
    if direction > 0:
        xa, xe = x0, x1
    else:
        xa, xe = x1, x0
    F, D, nF, nD, m2 = _node1(a, b, c, k2, xa, xa + direction * ht, tails)
    _init_side(st, ist, xa, (F, D, nF, nD), m2, xe, direction, hmin, xtol_x, min(h0, ht), ht, fzero)
    steps = 0
    while not ist[1]:
        _side_step(a, b, c, k2, tails, st, ist, stack, roots, nroots)
        steps += 1
        if steps > _MAX_STEPS:
            ist[2] = 2
            break
    # st[11:13]: last trusted node (far end of the scan); st[13:15]: first one (near the start)
    if direction > 0:
        link[0], link[1], link[2], link[3] = st[11], st[12], st[13], st[14]
    else:
        link[0], link[1], link[2], link[3] = st[13], st[14], st[11], st[12]
    link[4] = ist[2]
    link[5] = steps


@nb.njit(cache=True, error_model="numpy")
def _scan_serial(  # pragma: no cover - compiled
    a, b, c, k2, tails, edges, dirs, h0, htrial, hmin, xtol_x, fzero, roots, nroots, link
):
    for k in range(edges.size - 1):
        _scan_chunk(
            a, b, c, k2, tails, edges[k], edges[k + 1], dirs[k],
            h0, htrial, hmin, xtol_x, fzero, roots[k], nroots[k], link[k],
        )


@nb.njit(cache=True, error_model="numpy", parallel=True)
def _scan_parallel(  # pragma: no cover - compiled
    a, b, c, k2, tails, edges, dirs, h0, htrial, hmin, xtol_x, fzero, roots, nroots, link
):
    for k in nb.prange(edges.size - 1):
        _scan_chunk(
            a, b, c, k2, tails, edges[k], edges[k + 1], dirs[k],
            h0, htrial, hmin, xtol_x, fzero, roots[k], nroots[k], link[k],
        )


@nb.njit(cache=True, error_model="numpy")
def _nearest_core(  # pragma: no cover - compiled
    a, b, c, k2, tails, xs, xlo, xhi, h0, htrial, hmin, xtol_x, fzero, ref, spot
):
    """Step out from xs on both sides; return (x of nearest crossing or nan, give-up flag, steps)."""
    htl = min(htrial, xs - xlo)
    htr = min(htrial, xhi - xs)
    F, D, nF, nD, m2l, m2r = _node(a, b, c, k2, xs, xs - htl, xs + htr, tails)
    pt = (F, D, nF, nD)
    stl = np.empty(_ST)
    str_ = np.empty(_ST)
    istl = np.zeros(3, dtype=np.int64)
    istr = np.zeros(3, dtype=np.int64)
    stackl = np.empty((_MAX_DEPTH, 11))
    stackr = np.empty((_MAX_DEPTH, 11))
    _init_side(stl, istl, xs, pt, m2l, xlo, -1.0, hmin, xtol_x, min(h0, htl), htl, fzero)
    _init_side(str_, istr, xs, pt, m2r, xhi, 1.0, hmin, xtol_x, min(h0, htr), htr, fzero)
    roots = np.empty(_MAX_ROOTS)
    nroots = np.zeros(1, dtype=np.int64)
    # when the spot itself is untrusted (|G(spot)| within rounding) a crossing there is only seen by
    # comparing the first trusted node on each side
    link_open = _tsign(F, nF) == 0.0
    seen = -1
    best = np.nan
    best_dist = np.inf
    steps = 0
    while True:
        if link_open:
            lready = istl[1] or stl[13] != 0.0 or stl[15] != 0.0
            rready = istr[1] or str_[13] != 0.0 or str_[15] != 0.0
            if lready and rready:
                link_open = False
                if stl[13] != 0.0 and str_[13] != 0.0 and stl[13] != str_[13]:
                    _push_root(roots, nroots, istl, 0.5 * (stl[14] + str_[14]))
        if nroots[0] != seen:
            seen = nroots[0]
            for i in range(seen):
                dist = abs(ref * math.exp(roots[i]) - spot)
                if dist < best_dist or (dist == best_dist and roots[i] < best):
                    best_dist = dist
                    best = roots[i]
        dl = np.inf if istl[1] else spot - ref * math.exp(stl[0])
        dr = np.inf if istr[1] else ref * math.exp(str_[0]) - spot
        if not link_open and (best_dist <= min(dl, dr) or (istl[1] and istr[1])):
            return best, istl[2] + istr[2], steps
        if istl[2] or istr[2]:
            return best, 1, steps
        if (dl <= dr and not istl[1]) or istr[1]:
            _side_step(a, b, c, k2, tails, stl, istl, stackl, roots, nroots)
        else:
            _side_step(a, b, c, k2, tails, str_, istr, stackr, roots, nroots)
        steps += 1
        if steps > _MAX_STEPS:
            return best, 2, steps


@nb.njit(cache=True, error_model="numpy", inline="always")
def _valid(K, sig, T, w, r, q):  # pragma: no cover - compiled
    inf = np.inf
    fin = (abs(K) < inf) & (abs(sig) < inf) & (abs(T) < inf)
    fin = fin & (abs(w) < inf) & (abs(r) < inf) & (abs(q) < inf)
    return fin & (K > 0.0) & (sig > 0.0) & (T > 0.0) & (w != 0.0)


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _mean_log_valid(K, sig, T, w, r, q):  # pragma: no cover - compiled
    s = 0.0
    m = 0.0
    for i in range(K.size):
        ok = _valid(K[i], sig[i], T[i], w[i], r[i], q[i]) & (K[i] > 1e-300) & (K[i] < 1e300)
        s += _log_pos(K[i]) if ok else 0.0
        m += 1.0 if ok else 0.0
    return s / m if m > 0.0 else np.nan


@nb.njit(cache=True, error_model="numpy", fastmath=_FM_SUM)
def _build(K, sig, T, w, r, q, ref):  # pragma: no cover - compiled
    """Coefficients a, b, c and |c| a^2 of the valid contracts, identical (a, b) merged.

    Fused (one pass of vectorisable math, then an in-place compaction): numpy temporaries cost more
    in page faults than in arithmetic at this size.
    """
    n = K.size
    ta = np.empty(n)
    tb = np.empty(n)
    tc = np.empty(n)
    tk = np.empty(n)
    keep = np.empty(n, dtype=np.uint8)
    for i in range(n):  # kept apart from the checks below so that it vectorises
        si = sig[i]
        Ti = T[i]
        ai = 1.0 / (si * math.sqrt(Ti))
        ta[i] = ai
        tb[i] = (_log_pos(ref / K[i]) + (r[i] - q[i] + 0.5 * si * si) * Ti) * ai
        tc[i] = (0.01 * _INV_SQRT_2PI) * w[i] * _exp_neg(-(q[i] * Ti)) * ai
    m = 0
    for i in range(n):
        ratio = ref / K[i]
        qt = q[i] * T[i]
        ok = _valid(K[i], sig[i], T[i], w[i], r[i], q[i])
        ok = ok & (ratio > 1e-300) & (ratio < 1e300) & (abs(qt) < 700.0)  # domains of _log_pos, _exp_neg
        ok = ok & (abs(ta[i]) < np.inf) & (abs(tb[i]) < np.inf) & (abs(tc[i]) < np.inf) & (tc[i] != 0.0)
        keep[i] = ok
        m += ok
    # Merge contracts with bit-identical (a, b) - e.g. a call and a put of the same strike and expiry
    # quoted at one volatility - into one coefficient. Besides halving the work, it keeps exactly
    # cancelling pairs from inflating the |F''| bounds (they would contribute |c| to the bound but 0 to
    # F). Open addressing, compacting in place (fresh large buffers cost page faults, not compute).
    size = 16
    while size < 2 * m:
        size *= 2
    mask = size - 1
    table = np.full(size, -1, dtype=np.int32)
    u = 0
    for i in range(n):
        if not keep[i]:
            continue
        ai = ta[i]
        bi = tb[i]
        h = (_f64_as_i64(ai) * _HASH_A) ^ (_f64_as_i64(bi) * _HASH_B)
        h = (h ^ (h >> 29)) & mask
        while True:
            j = table[h]
            if j < 0:
                table[h] = u
                ta[u] = ai  # u <= i: never overwrites an unread entry
                tb[u] = bi
                tc[u] = tc[i]
                u += 1
                break
            if ta[j] == ai and tb[j] == bi:
                tc[j] += tc[i]
                break
            h = (h + 1) & mask
    k = 0
    for j in range(u):  # drop exact cancellations
        cj = tc[j]
        if cj != 0.0:
            aj = ta[j]
            ta[k] = aj
            tb[k] = tb[j]
            tc[k] = cj
            tk[k] = abs(cj) * aj * aj
            k += 1
    return ta[:k], tb[:k], tc[:k], tk[:k]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def _as_1d(name: str, v: object) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class GammaProfile:
    """Dealer GEX of a chain as a function of a hypothetical spot (sticky strike), precompiled.

    Holds per-contract coefficients of ``G(S) = S * sum_i c_i exp(-(a_i x + b_i)**2 / 2)`` with
    ``x = ln(S / reference)`` (see the module docstring). Build it with :meth:`from_contracts`.

    Attributes
    ----------
    a, b, c:
        Coefficient arrays, shape ``(n_contracts,)``: ``a = 1/(sigma sqrt T)`` (1/log-price),
        ``b`` = ``d1`` at ``S = reference`` (dimensionless), ``c`` in dollars per 1% per unit of spot.
    k2:
        ``|c| a**2``, shape ``(n_contracts,)``: scale of each contract's curvature, used for bounds.
    reference:
        Centering level of ``x`` (currency per share); only affects rounding.
    n_input:
        Number of contracts passed to :meth:`from_contracts` (before dropping and merging).

    Examples
    --------
    >>> p = GammaProfile.from_contracts(strike=[90.0, 110.0], sigma=0.2, tenor_years=0.25,
    ...                                 weight=[-100.0, 100.0])
    >>> p.n_contracts, round(p.gex(100.0), 4)
    (2, 48.3537)
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    k2: np.ndarray
    reference: float
    n_input: int

    @property
    def n_contracts(self) -> int:
        """Distinct terms kept (valid inputs, non-zero weight, identical contracts merged)."""
        return int(self.a.size)

    @classmethod
    def from_contracts(
        cls,
        strike: np.ndarray | float,
        sigma: np.ndarray | float,
        tenor_years: np.ndarray | float,
        weight: np.ndarray | float,
        rate: np.ndarray | float = 0.0,
        dividend_yield: np.ndarray | float = 0.0,
        *,
        reference: float | None = None,
    ) -> GammaProfile:
        """Precompute the profile of a chain.

        Parameters
        ----------
        strike:
            Strikes ``K_i``, currency per share; shape ``(n,)`` or scalar.
        sigma:
            Implied volatilities, annualised decimals (0.2 = 20%); ``(n,)`` or scalar.
        tenor_years:
            Time to expiry in years (ACT/365 or whatever the caller's greeks use); ``(n,)`` or scalar.
        weight:
            ``w_i = dealer_sign_i * open_interest_i * multiplier_i``: signed shares per point per unit
            of gamma (+ when dealers are long); ``(n,)`` or scalar.
        rate, dividend_yield:
            Continuously compounded annual rate and dividend yield (decimals); ``(n,)`` or scalar.
        reference:
            Level around which ``x = ln(S/reference)`` is centred (e.g. the current spot). Only
            affects rounding (``d1`` carries an absolute error ~ ``1e-16 |ln(S/reference)| / (sigma
            sqrt T)``); defaults to the geometric mean strike of the kept contracts.

        Returns
        -------
        GammaProfile

        Notes
        -----
        Contracts with ``w_i == 0`` or invalid inputs (non-finite values, non-positive ``sigma``,
        ``tenor_years`` or ``strike``) contribute nothing and are **silently dropped**: excluding and
        counting them is the caller's job. Contracts with bit-identical ``a`` and ``b`` (same strike,
        tenor, volatility, rate and yield - typically a call and a put quoted at one volatility) are
        merged into one term (their coefficients added; dropped if they cancel exactly), so
        ``n_contracts`` counts distinct terms, not input rows.
        """
        arrs = [
            _as_1d(n, v)
            for n, v in (
                ("strike", strike),
                ("sigma", sigma),
                ("tenor_years", tenor_years),
                ("weight", weight),
                ("rate", rate),
                ("dividend_yield", dividend_yield),
            )
        ]
        K, sig, T, w, r, q = (np.ascontiguousarray(x, dtype=np.float64) for x in np.broadcast_arrays(*arrs))
        n_input = int(K.size)
        K, sig, T, w, r, q = (np.atleast_1d(x) for x in (K, sig, T, w, r, q))
        if reference is None:
            lnk_mean = _mean_log_valid(K, sig, T, w, r, q)
            reference = math.exp(lnk_mean) if math.isfinite(lnk_mean) else 1.0
        reference = float(reference)
        if not (math.isfinite(reference) and reference > 0.0):
            raise ValueError("reference must be a positive finite level")
        # ln(reference / K) directly, not ln(ref) - ln(K): keeps d1 accurate
        a, b, c, k2 = _build(K, sig, T, w, r, q, reference)
        for arr in (a, b, c, k2):
            arr.setflags(write=False)
        return cls(a=a, b=b, c=c, k2=k2, reference=reference, n_input=n_input)

    def _eval(self, spots: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        s = np.asarray(spots, dtype=np.float64)
        scalar = s.ndim == 0
        flat = np.ascontiguousarray(s.reshape(-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = np.log(flat / self.reference)
        good = np.isfinite(xs)
        xs = np.where(good, xs, 0.0)
        F = np.empty_like(xs)
        D = np.empty_like(xs)
        if xs.size >= 2 and xs.size * self.a.size >= _PARALLEL_MIN_WORK:
            _eval_many_parallel(self.a, self.b, self.c, xs, F, D)
        else:
            _eval_many_serial(self.a, self.b, self.c, xs, F, D)
        F[~good] = np.nan
        D[~good] = np.nan
        return flat, F, D, scalar

    def gex(self, spots: np.ndarray | float) -> np.ndarray | float:
        """Dealer GEX at hypothetical spots, dollars per 1% move.

        Parameters
        ----------
        spots:
            Levels of the underlying (currency per share), any shape; non-positive/NaN give NaN.

        Returns
        -------
        ndarray or float
            ``G(S)`` with the shape of ``spots`` (a float for a scalar).
        """
        flat, F, _, scalar = self._eval(spots)
        G = flat * F
        return float(G[0]) if scalar else G.reshape(np.shape(spots))

    def gex_and_slope(self, spots: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        """``(G(S), dG/dS)``: dollars per 1%, and dollars per 1% per point of the underlying.

        Parameters
        ----------
        spots:
            Levels of the underlying, any shape.

        Returns
        -------
        tuple
            Two arrays shaped like ``spots`` (floats for a scalar).
        """
        flat, F, D, scalar = self._eval(spots)
        G = flat * F
        dG = F + D
        if scalar:
            return float(G[0]), float(dG[0])
        shape = np.shape(spots)
        return G.reshape(shape), dG.reshape(shape)


# ---- window preparation -----------------------------------------------------------------------------

_HTRIAL = 0.02  # first cells: at most 2% of the level, with their |F''| bound computed up front
_NEGLIGIBLE_GEX = 1e-240  # dollars: below this on a whole cell (every term ~underflows) G counts as 0
_PCUT = 10.0  # contracts with |d1| > 10 over the whole window (weight < 2e-22) are pruned with a bound


@dataclass(frozen=True)
class _Window:
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    k2: np.ndarray
    tails: np.ndarray
    xlo: float
    xhi: float
    hmin: float
    xtol_x: float
    h0: float
    fzero: float


def _prepare(profile: GammaProfile, lo: float, hi: float, xtol: float) -> _Window:
    lo = float(lo)
    hi = float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(f"window must satisfy 0 < lo < hi, got ({lo}, {hi})")
    if not (xtol > 0.0 and math.isfinite(xtol)):
        raise ValueError("xtol must be a positive number of dollars")
    ref = profile.reference
    xlo = math.log(lo / ref)
    xhi = math.log(hi / ref)
    a, b, c, k2, tails, amax = _window(profile.a, profile.b, profile.c, profile.k2, xlo, xhi, _PCUT)
    xtol_x = max(xtol / hi, 8.0 * _EPS * max(abs(xlo), abs(xhi), 1.0))
    hmin = xtol_x
    # smallest first step: a quarter of the narrowest material contract's width (steps then adapt)
    h0 = 0.25 / amax if amax > 0.0 else xhi - xlo
    h0 = min(max(h0, 64.0 * hmin), _HTRIAL)
    return _Window(a, b, c, k2, tails, xlo, xhi, hmin, xtol_x, h0, _NEGLIGIBLE_GEX / hi)


def _to_levels(profile: GammaProfile, xs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(profile.reference * np.exp(xs), lo, hi)


def find_crossings(
    profile: GammaProfile,
    lo: float,
    hi: float,
    *,
    spot: float | None = None,
    xtol: float = 1e-6,
) -> np.ndarray:
    """Every zero crossing of the dealer GEX profile in ``[lo, hi]``, sorted.

    Parameters
    ----------
    profile:
        The chain's :class:`GammaProfile`.
    lo, hi:
        Window of hypothetical spots, ``0 < lo < hi`` (currency per share).
    spot:
        Optional current level: when inside the window the scan is anchored there (a node at the spot,
        scanning each side away from it, as :func:`nearest_flip` does). Results are the same crossings
        either way, to within ``xtol``.
    xtol:
        Absolute tolerance on each crossing, in units of the underlying (dollars for SPX); the error of
        every reported level is certified ``<= xtol`` (up to ~1e-12 relative rounding).

    Returns
    -------
    ndarray
        Shape ``(n_crossings,)``, ascending levels where ``G`` changes sign.

    Notes
    -----
    Guarantee (see the module docstring for the certification and its rounding-scale limits): every
    sign change of ``G`` in the window is reported, including pairs of crossings far closer together
    than any practical grid step; only crossings closer than ``xtol`` to each other may merge (two
    cancel like a touch, three count once). Tangential touches are not crossings. For chains of more
    than 100k terms the window is split into chunks scanned on threads.

    Examples
    --------
    >>> p = GammaProfile.from_contracts(strike=[90.0, 110.0], sigma=0.2, tenor_years=0.25,
    ...                                 weight=[-100.0, 100.0])
    >>> [round(float(v), 4) for v in find_crossings(p, 50.0, 200.0)]
    [99.0025]
    """
    win = _prepare(profile, lo, hi, xtol)
    if win.a.size == 0:
        return np.empty(0)
    # Work concentrates where the profile wiggles (near the money), so chunks are unbalanced: on the
    # 2-core reference machine threads gained <= 15% at 30k contracts and cost a lot when the other
    # core was busy. Split the window over threads only for very large chains.
    chunks = 1
    if win.a.size >= _PARALLEL_MIN_SCAN_CONTRACTS and nb.get_num_threads() > 1:
        chunks = nb.get_num_threads()
    edges = np.linspace(win.xlo, win.xhi, chunks + 1)
    dirs = np.ones(chunks)
    if spot is not None and lo < float(spot) < hi:
        xs = math.log(float(spot) / profile.reference)
        if win.xlo < xs < win.xhi:
            edges = np.unique(np.append(edges, xs))
            dirs = np.where(edges[1:] <= xs, -1.0, 1.0)  # scan away from the spot on both sides
            chunks = edges.size - 1
    roots = np.empty((chunks, _MAX_ROOTS))
    nroots = np.zeros((chunks, 1), dtype=np.int64)
    link = np.zeros((chunks, 6))
    scan = _scan_parallel if chunks > 1 and win.a.size >= _PARALLEL_MIN_SCAN_CONTRACTS else _scan_serial
    scan(
        win.a, win.b, win.c, win.k2, win.tails, edges, dirs,
        win.h0, _HTRIAL, win.hmin, win.xtol_x, win.fzero, roots, nroots, link,
    )
    if link[:, 4].any():
        raise RuntimeError(_GIVE_UP)
    found = [roots[k, : nroots[k, 0]] for k in range(chunks)]
    for k in range(chunks - 1):
        # a sign change across a chunk boundary whose node is untrusted in one of the two chunks
        rs, rx, ls, lx = link[k, 0], link[k, 1], link[k + 1, 2], link[k + 1, 3]
        if rs != 0.0 and ls != 0.0 and rs != ls:
            found.append(np.array([0.5 * (rx + lx)]))
    return _to_levels(profile, np.sort(np.concatenate(found)), lo, hi)


def nearest_flip(
    profile: GammaProfile,
    spot: float,
    lo: float,
    hi: float,
    *,
    xtol: float = 1e-6,
) -> float | None:
    """The zero crossing of ``G`` nearest to ``spot`` within ``[lo, hi]`` (the "gamma flip").

    Steps outward from ``spot`` on both sides with adaptive, certified cells (see the module
    docstring), always advancing the side whose frontier is closer to the spot, and stops as soon as a
    crossing is found that is nearer than both frontiers; that crossing is refined to ``xtol``.

    Parameters
    ----------
    profile:
        The chain's :class:`GammaProfile`.
    spot:
        Current level of the underlying; must lie in ``[lo, hi]``.
    lo, hi:
        Search window (currency per share), ``0 < lo < hi``.
    xtol:
        Absolute tolerance on the level, in units of the underlying (certified).

    Returns
    -------
    float or None
        The crossing level, or ``None`` when ``G`` has no crossing in the window (never 0, never a
        window edge). Agrees with the nearest element of :func:`find_crossings` (ties: the lower).

    Examples
    --------
    >>> p = GammaProfile.from_contracts(strike=[90.0, 110.0], sigma=0.2, tenor_years=0.25,
    ...                                 weight=[-100.0, 100.0])
    >>> round(nearest_flip(p, 103.0, 50.0, 200.0), 4)
    99.0025
    >>> nearest_flip(GammaProfile.from_contracts(100.0, 0.2, 0.25, 1.0), 100.0, 50.0, 200.0) is None
    True
    """
    win = _prepare(profile, lo, hi, xtol)
    spot = float(spot)
    if not (lo <= spot <= hi):
        raise ValueError(f"spot {spot} is outside the window [{lo}, {hi}]")
    if win.a.size == 0:
        return None
    xs = min(max(math.log(spot / profile.reference), win.xlo), win.xhi)
    x, overflow, _ = _nearest_core(
        win.a,
        win.b,
        win.c,
        win.k2,
        win.tails,
        xs,
        win.xlo,
        win.xhi,
        win.h0,
        _HTRIAL,
        win.hmin,
        win.xtol_x,
        win.fzero,
        profile.reference,
        spot,
    )
    if overflow:
        raise RuntimeError(_GIVE_UP)
    if math.isnan(x):
        return None
    return float(_to_levels(profile, np.array([x]), lo, hi)[0])


@dataclass(frozen=True)
class FlipResult:
    """Gamma flip of a chain.

    Attributes
    ----------
    flip:
        Crossing nearest to the spot (currency per share), ``None`` when there is none in the window.
    crossings:
        Every crossing in the window, ascending.
    gex_at_spot:
        ``G(spot)``, dollars per 1% move.
    window:
        ``(lo, hi)`` searched.
    distance_pct:
        ``100 * (flip - spot) / spot``, ``None`` without a flip.
    """

    flip: float | None
    crossings: tuple[float, ...]
    gex_at_spot: float
    window: tuple[float, float]
    distance_pct: float | None


def solve_flip(profile: GammaProfile, spot: float, lo: float, hi: float, *, xtol: float = 1e-6) -> FlipResult:
    """All crossings in ``[lo, hi]``, the one nearest ``spot`` and ``G(spot)``.

    Parameters
    ----------
    profile:
        The chain's :class:`GammaProfile`.
    spot:
        Current level of the underlying (currency per share), inside the window.
    lo, hi:
        Search window, ``0 < lo < hi``.
    xtol:
        Tolerance on each crossing, units of the underlying.

    Returns
    -------
    FlipResult

    Examples
    --------
    >>> p = GammaProfile.from_contracts(strike=[90.0, 110.0], sigma=0.2, tenor_years=0.25,
    ...                                 weight=[-100.0, 100.0])
    >>> r = solve_flip(p, 102.0, 80.0, 125.0)
    >>> round(r.flip, 4), round(r.distance_pct, 4), r.gex_at_spot > 0
    (99.0025, -2.9387, True)
    """
    spot = float(spot)
    if not (lo <= spot <= hi):
        raise ValueError(f"spot {spot} is outside the window [{lo}, {hi}]")
    cr = find_crossings(profile, lo, hi, spot=spot, xtol=xtol)
    flip: float | None = None
    if cr.size:
        dist = np.abs(cr - spot)
        flip = float(cr[int(np.argmin(dist))])  # argmin: the lower one on ties
    return FlipResult(
        flip=flip,
        crossings=tuple(float(v) for v in cr),
        gex_at_spot=float(profile.gex(spot)),
        window=(float(lo), float(hi)),
        distance_pct=None if flip is None else 100.0 * (flip - spot) / spot,
    )


def first_grid_crossing(levels: np.ndarray, values: np.ndarray) -> float | None:
    """Linear interpolation at the FIRST sign change of ``values`` along ``levels`` (script convention).

    Reproduces what popular GEX scripts do: ``i = np.where(np.diff(np.sign(values)))[0][0]``, then with
    ``neg = levels[i]``, ``pos = levels[i + 1]``: ``pos - (pos - neg) * v_pos / (v_pos - v_neg)``.
    Used by compatibility presets; not a root finder (it misses crossings between grid levels and
    its error is of order the grid step squared times the curvature).

    Parameters
    ----------
    levels:
        Grid of levels, shape ``(m,)`` (ascending in the scripts).
    values:
        ``G`` at those levels, shape ``(m,)``.

    Returns
    -------
    float or None
        The interpolated level, ``None`` when ``values`` never changes sign.

    Examples
    --------
    >>> first_grid_crossing([1.0, 2.0, 3.0, 4.0], [-3.0, -1.0, 1.0, 2.0])
    2.5
    >>> first_grid_crossing([1.0, 2.0], [1.0, 2.0]) is None
    True
    """
    lv = np.asarray(levels, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if lv.shape != vals.shape or lv.ndim != 1:
        raise ValueError("levels and values must be 1-D arrays of the same length")
    idx = np.where(np.diff(np.sign(vals)))[0]
    if idx.size == 0:
        return None
    i = int(idx[0])
    neg, pos = lv[i], lv[i + 1]
    v_neg, v_pos = vals[i], vals[i + 1]
    return float(pos - (pos - neg) * v_pos / (v_pos - v_neg))
