"""The dealer GEX profile of a chain over hypothetical spots (sticky strike): :class:`GammaProfile`.

Model: when the underlying moves to a hypothetical level ``S`` every contract keeps its implied vol
``sigma_i``, tenor ``T_i`` (years), rate ``r_i`` and dividend yield ``q_i``. The dealer gamma exposure,
in **dollars per 1% move of the underlying**, is::

    G(S) = sum_i w_i * Gamma_BS(S; K_i, r_i, sigma_i, T_i, q_i) * S**2 * 0.01

with ``w_i = dealer_sign_i * open_interest_i * multiplier_i``. Writing ``x = ln(S / reference)``,
``d1_i = a_i x + b_i`` is affine in ``x`` (``a_i = 1 / (sigma_i sqrt T_i)``), so ``G(S) = S F(x)`` with
``F(x) = sum_i c_i exp(-d_i**2 / 2)`` and ``dG/dS = F + F'`` (see :mod:`gex.flip._evaluate`).

Shapes: coefficient arrays ``(n_contracts,)``; :meth:`GammaProfile.gex` keeps the shape of ``spots``.

Why it is fast: the profile is precompiled once per chain (:mod:`gex.flip._coeffs`: one vectorised
pass, identical call/put terms merged), after which one evaluation costs one fma, one square and one
inlined vectorisable exponential per term. ``kernel="reference"`` (or ``GEX_KERNEL=reference``)
builds and evaluates it with plain numpy instead (:mod:`gex.flip.reference`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gex.flip import reference as _ref
from gex.flip._coeffs import _build, _mean_log_valid
from gex.flip._evaluate import _eval_many_parallel, _eval_many_serial
from gex.kernel import resolve

# Threads only pay off for big batches: on the 2-core reference machine, 60 spots x 27k contracts ran
# 1.5 ms serial vs 0.8 ms on 2 threads when idle, but 4-8 ms when other processes held the cores.
_PARALLEL_MIN_WORK = 10_000_000  # element evaluations (spots x contracts) before .gex uses threads


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
        kernel: str | None = None,
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
        kernel:
            ``"compiled"`` or ``"reference"`` (plain numpy, :func:`gex.flip.reference.coefficients`);
            default from ``$GEX_KERNEL`` (see :mod:`gex.kernel`).

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
        compiled = resolve(kernel) == "compiled"
        if reference is None:
            lnk_mean = _mean_log_valid(K, sig, T, w, r, q) if compiled else _ref.mean_log_strike(K, sig, T, w, r, q)
            reference = math.exp(lnk_mean) if math.isfinite(lnk_mean) else 1.0
        reference = float(reference)
        if not (math.isfinite(reference) and reference > 0.0):
            raise ValueError("reference must be a positive finite level")
        # ln(reference / K) directly, not ln(ref) - ln(K): keeps d1 accurate
        build = _build if compiled else _ref.coefficients
        a, b, c, k2 = build(K, sig, T, w, r, q, reference)
        for arr in (a, b, c, k2):
            arr.setflags(write=False)
        return cls(a=a, b=b, c=c, k2=k2, reference=reference, n_input=n_input)

    def _eval(
        self, spots: np.ndarray | float, kernel: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        s = np.asarray(spots, dtype=np.float64)
        scalar = s.ndim == 0
        flat = np.ascontiguousarray(s.reshape(-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = np.log(flat / self.reference)
        good = np.isfinite(xs)
        xs = np.where(good, xs, 0.0)
        F = np.empty_like(xs)
        D = np.empty_like(xs)
        if resolve(kernel) == "reference":
            F, D = _ref.f_and_slope(self.a, self.b, self.c, xs)
        elif xs.size >= 2 and xs.size * self.a.size >= _PARALLEL_MIN_WORK:
            _eval_many_parallel(self.a, self.b, self.c, xs, F, D)
        else:
            _eval_many_serial(self.a, self.b, self.c, xs, F, D)
        F[~good] = np.nan
        D[~good] = np.nan
        return flat, F, D, scalar

    def gex(self, spots: np.ndarray | float, *, kernel: str | None = None) -> np.ndarray | float:
        """Dealer GEX at hypothetical spots, dollars per 1% move.

        Parameters
        ----------
        spots:
            Levels of the underlying (currency per share), any shape; non-positive/NaN give NaN.
        kernel:
            ``"compiled"`` or ``"reference"`` (see :mod:`gex.kernel`).

        Returns
        -------
        ndarray or float
            ``G(S)`` with the shape of ``spots`` (a float for a scalar).
        """
        flat, F, _, scalar = self._eval(spots, kernel)
        G = flat * F
        return float(G[0]) if scalar else G.reshape(np.shape(spots))

    def gex_and_slope(
        self, spots: np.ndarray | float, *, kernel: str | None = None
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """``(G(S), dG/dS)``: dollars per 1%, and dollars per 1% per point of the underlying.

        Parameters
        ----------
        spots:
            Levels of the underlying, any shape.
        kernel:
            ``"compiled"`` or ``"reference"`` (see :mod:`gex.kernel`).

        Returns
        -------
        tuple
            Two arrays shaped like ``spots`` (floats for a scalar).
        """
        flat, F, D, scalar = self._eval(spots, kernel)
        G = flat * F
        dG = F + D
        if scalar:
            return float(G[0]), float(dG[0])
        shape = np.shape(spots)
        return G.reshape(shape), dG.reshape(shape)
