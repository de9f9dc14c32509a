"""The certified scan for zero crossings of the GEX profile (private, compiled).

Works on ``x = ln(S / reference)`` and the coefficient arrays of :mod:`gex.flip.profile` (shapes
``(n,)``); returns crossings as ``x`` values (the public API in :mod:`gex.flip.crossings` maps them to
levels of the underlying). The method and its guarantee are in :mod:`gex.flip` (package docstring).

A *cell* is a row of 11 floats ``x0, x1, F0, F1, D0, D1, nF0, nF1, nD0, nD1, M2`` (``x0 < x1``), where
``nF``, ``nD`` bound the absolute errors of the computed ``F``, ``F'`` and ``M2`` bounds ``|F''|`` on
the cell. A *side* walks cells away from a start node towards one end of the window, keeping a stack
of at most ``_MAX_DEPTH`` cells (bisection depth is ~log2(window / xtol) < 64). A window is scanned
in one or more chunks (:func:`_scan_serial`, or :func:`_scan_parallel` over threads for very large
chains); each chunk reports its trusted end-node signs in ``link`` so that a sign change across a
chunk boundary is not lost.

Why it is fast: cells grow geometrically while they certify and shrink only where ``F`` wiggles or
approaches zero; each new node costs one fused pass over the terms (:func:`gex.flip._evaluate._node1`)
that also yields the ``|F''|`` bound; all state lives in small preallocated arrays (no allocation in
the loop). A plain scipy reference (dense grid + ``brentq``) is :func:`gex.flip.reference.crossings`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from gex._fastmath import EPS as _EPS
from gex.flip._bounds import _sup_abs_f
from gex.flip._evaluate import _node, _node1, _point

_MAX_DEPTH = 160  # per-side cell stack (depth of bisection is ~log2(window / xtol) < 64)
_MAX_ROOTS = 4096
_MAX_STEPS = 5_000_000  # safety net: cells processed per scan before giving up (never hit in tests)
_GIVE_UP = f"scan gave up (more than {_MAX_ROOTS} crossings or {_MAX_STEPS} cells); narrow the window"

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
