"""Public root finding on the GEX profile: every crossing, the nearest flip, the flip summary.

* :func:`find_crossings`: every zero crossing of ``G`` in a window of levels, certified (the method and
  its guarantee are in the :mod:`gex.flip` package docstring; the compiled scan is
  :mod:`gex.flip._scan`);
* :func:`nearest_flip`: the crossing nearest a spot (the nearest element of :func:`find_crossings`);
* :func:`solve_flip`: both plus ``G(spot)``, as :class:`FlipResult`, which the analysis uses.

Levels of the underlying (currency per share) and dollars go in and out; ``x = ln(S / reference)``
never leaks out. Shapes: crossings are float64 arrays of shape ``(k,)``, ascending.

``kernel="reference"`` (or ``GEX_KERNEL=reference``) runs :func:`gex.flip.reference.crossings` (dense
grid + ``brentq``, not certified) instead of the compiled scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from gex._fastmath import EPS as _EPS
from gex.flip import reference as _ref
from gex.flip._bounds import _window
from gex.flip._scan import _GIVE_UP, _MAX_ROOTS, _scan_parallel, _scan_serial
from gex.flip.profile import GammaProfile
from gex.kernel import resolve

_PARALLEL_MIN_SCAN_CONTRACTS = 100_000  # contracts above which find_crossings splits over threads

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
    kernel: str | None = None,
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
    kernel:
        ``"compiled"`` (the certified scan) or ``"reference"`` (dense grid + ``brentq``, not
        certified, ``spot`` ignored); see :mod:`gex.kernel`.

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
    if resolve(kernel) == "reference":
        return _ref.crossings(profile.a, profile.b, profile.c, profile.reference, float(lo), float(hi), xtol)
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
    kernel: str | None = None,
) -> float | None:
    """The zero crossing of ``G`` nearest to ``spot`` within ``[lo, hi]`` (the "gamma flip").

    The nearest element of :func:`find_crossings` anchored at the spot (ties: the lower one), so it
    carries the same certificate.

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
    kernel:
        ``"compiled"`` or ``"reference"`` (see :mod:`gex.kernel`).

    Returns
    -------
    float or None
        The crossing level, or ``None`` when ``G`` has no crossing in the window (never 0, never a
        window edge).

    Examples
    --------
    >>> p = GammaProfile.from_contracts(strike=[90.0, 110.0], sigma=0.2, tenor_years=0.25,
    ...                                 weight=[-100.0, 100.0])
    >>> round(nearest_flip(p, 103.0, 50.0, 200.0), 4)
    99.0025
    >>> nearest_flip(GammaProfile.from_contracts(100.0, 0.2, 0.25, 1.0), 100.0, 50.0, 200.0) is None
    True
    """
    spot = float(spot)
    if not (lo <= spot <= hi):
        raise ValueError(f"spot {spot} is outside the window [{lo}, {hi}]")
    cr = find_crossings(profile, lo, hi, spot=spot, xtol=xtol, kernel=kernel)
    return _nearest(cr, spot)


def _nearest(cr: np.ndarray, spot: float) -> float | None:
    if cr.size == 0:
        return None
    return float(cr[int(np.argmin(np.abs(cr - spot)))])  # argmin: the lower one on ties


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


def solve_flip(
    profile: GammaProfile,
    spot: float,
    lo: float,
    hi: float,
    *,
    xtol: float = 1e-6,
    kernel: str | None = None,
) -> FlipResult:
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
    kernel:
        ``"compiled"`` or ``"reference"`` (see :mod:`gex.kernel`).

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
    cr = find_crossings(profile, lo, hi, spot=spot, xtol=xtol, kernel=kernel)
    flip = _nearest(cr, spot)
    return FlipResult(
        flip=flip,
        crossings=tuple(float(v) for v in cr),
        gex_at_spot=float(profile.gex(spot, kernel=kernel)),
        window=(float(lo), float(hi)),
        distance_pct=None if flip is None else 100.0 * (flip - spot) / spot,
    )
