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
slope comes from the same exponential. The exponential is :func:`gex._fastmath.exp_flush`, an inlined,
vectorisable Cody-Waite + degree-13 polynomial (max error 1 ulp, tested against ``numpy.exp``); the
libm call does not vectorise and is ~9x slower here.

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
amounts; ``x`` never leaks out of this package.

Modules (read in this order)
----------------------------
=====================  ==========================================================================
``profile``            :class:`GammaProfile`: the model, built once per chain, ``G`` and ``dG/dS``
``crossings``          :func:`find_crossings`, :func:`nearest_flip`, :func:`solve_flip`, :class:`FlipResult`
``grid``               :func:`first_grid_crossing`: the popular scripts' grid flip (compatibility presets)
``reference``          plain numpy/scipy reference of the profile and its crossings (tests, cross-checks)
``_coeffs``            compiled: contracts -> coefficients, identical terms merged (hash on ``(a, b)``)
``_evaluate``          compiled: ``F``, ``F'`` with certified error bounds and the ``|F''|`` bound
``_bounds``            compiled: envelope tables and window pruning behind the bounds
``_scan``              compiled: the certified cell scan (classify, split, refine, chunks)
=====================  ==========================================================================

The fast exp/log come from :mod:`gex._fastmath` (shared with the greeks). ``kernel="reference"`` on
every public function, or ``GEX_KERNEL=reference`` (see :mod:`gex.kernel`), runs the reference.
"""

from __future__ import annotations

from gex.flip.crossings import FlipResult, find_crossings, nearest_flip, solve_flip
from gex.flip.grid import first_grid_crossing
from gex.flip.profile import GammaProfile

__all__ = [
    "FlipResult",
    "GammaProfile",
    "find_crossings",
    "first_grid_crossing",
    "nearest_flip",
    "solve_flip",
]
