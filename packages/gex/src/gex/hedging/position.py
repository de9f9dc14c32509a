"""An option position to hedge: European legs on one underlying, valued with Black-Scholes at zero rates.

The simulator works in currency at expiry with ``r = q = 0`` (no financing of the hedge or premium), so
the values, deltas and gammas here are the plain Black-Scholes ones at zero rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from gex.greeks import bs_delta, bs_gamma, bs_price, bs_theta, bs_vega

__all__ = ["OptionLeg", "Position", "PositionGreeks"]

_RIGHTS = {"c": "C", "call": "C", "p": "P", "put": "P"}


@dataclass(frozen=True)
class OptionLeg:
    """One European option leg.

    Parameters
    ----------
    strike : float
        Currency per share, > 0.
    expiry_years : float
        Time from inception (step 0 of the paths) to expiry, years, > 0.
    right : str
        ``"C"``/``"call"`` or ``"P"``/``"put"`` (any case); stored as ``"C"``/``"P"``.
    quantity : float
        Signed number of contracts (long > 0), non-zero.
    multiplier : float, default 100
        Shares per contract.
    """

    strike: float
    expiry_years: float
    right: str
    quantity: float
    multiplier: float = 100.0

    def __post_init__(self) -> None:
        right = _RIGHTS.get(str(self.right).strip().lower())
        if right is None:
            raise ValueError(f"option right must be 'C' or 'P', got {self.right!r}")
        object.__setattr__(self, "right", right)
        for name in ("strike", "expiry_years", "multiplier"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"leg {name} must be a finite number > 0, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)
        q = float(self.quantity)
        if not math.isfinite(q) or q == 0:
            raise ValueError(
                f"leg quantity must be a finite non-zero number of contracts, got {self.quantity!r}"
            )
        object.__setattr__(self, "quantity", q)

    @property
    def is_call(self) -> bool:
        return self.right == "C"

    @property
    def shares(self) -> float:
        """Signed shares controlled: quantity x multiplier."""
        return self.quantity * self.multiplier

    def payoff(self, spot: np.ndarray) -> np.ndarray:
        """Value at expiry of the whole leg, currency: ``shares * max(+/-(S - K), 0)``."""
        s = np.asarray(spot, dtype=np.float64)
        intrinsic = np.maximum(s - self.strike, 0.0) if self.is_call else np.maximum(self.strike - s, 0.0)
        return self.shares * intrinsic


class PositionGreeks(NamedTuple):
    """Position value and greeks at one instant, each of the spot's shape.

    value : currency; delta : shares (dV/dS); gamma : shares per currency unit;
    theta : currency per year of calendar time (dV/dt); vega : currency per 1.00 of vol.
    """

    value: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray


@dataclass(frozen=True)
class Position:
    """A set of European option legs on one underlying (hedged with that underlying).

    Parameters
    ----------
    legs : sequence of OptionLeg
        At least one leg.

    Examples
    --------
    >>> pos = Position([OptionLeg(strike=100.0, expiry_years=30 / 365, right="C", quantity=4)])
    >>> round(float(pos.greeks(100.0, 0.0, 0.2).gamma), 2)  # shares per $
    27.82
    """

    legs: tuple[OptionLeg, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        legs = tuple(self.legs)
        if not legs or not all(isinstance(leg, OptionLeg) for leg in legs):
            raise ValueError("a position needs at least one OptionLeg")
        object.__setattr__(self, "legs", legs)

    @property
    def last_expiry_years(self) -> float:
        return max(leg.expiry_years for leg in self.legs)

    @property
    def first_expiry_years(self) -> float:
        return min(leg.expiry_years for leg in self.legs)

    def greeks(self, spot, t_years: float, sigma: float, *, need: str = "vdgtv") -> PositionGreeks:
        """Value and greeks at time ``t_years`` since inception and hedging vol ``sigma``.

        Legs with ``tau = expiry - t <= 0`` count at their intrinsic value with zero greeks (callers that
        need the value frozen at expiry pass the spot at expiry). ``need`` selects what to compute
        (``v``alue, ``d``elta, ``g``amma, ``t``heta, ``v``ega in that order; skipped ones are zeros).

        Parameters
        ----------
        spot : array_like
            Currency per share, any shape.
        t_years : float
            Time since inception, years.
        sigma : float
            Volatility, decimal per year.
        """
        s = np.asarray(spot, dtype=np.float64)
        out = [np.zeros(s.shape) for _ in range(5)]
        flags = [c != "-" for c in need.ljust(5, "-")[:5]]
        for leg in self.legs:
            tau = leg.expiry_years - t_years
            m = leg.shares
            if tau <= 0:
                if flags[0]:
                    out[0] += leg.payoff(s)
                continue
            if flags[0]:
                out[0] += m * np.asarray(bs_price(s, leg.strike, 0.0, sigma, tau, leg.is_call))
            if flags[1]:
                out[1] += m * np.asarray(bs_delta(s, leg.strike, 0.0, sigma, tau, leg.is_call))
            if flags[2]:
                out[2] += m * np.asarray(bs_gamma(s, leg.strike, 0.0, sigma, tau))
            if flags[3]:
                out[3] += m * np.asarray(bs_theta(s, leg.strike, 0.0, sigma, tau, leg.is_call))
            if flags[4]:
                out[4] += m * np.asarray(bs_vega(s, leg.strike, 0.0, sigma, tau))
        return PositionGreeks(*out)

    def delta(self, spot, t_years: float, sigma: float) -> np.ndarray:
        """Position delta, shares (0 for expired legs)."""
        return self.greeks(spot, t_years, sigma, need="-d").delta

    def gamma(self, spot, t_years: float, sigma: float) -> np.ndarray:
        """Position gamma, shares per currency unit (0 for expired legs)."""
        return self.greeks(spot, t_years, sigma, need="--g").gamma

    def value(self, spot, t_years: float, sigma: float) -> np.ndarray:
        """Position value, currency (intrinsic for expired legs)."""
        return self.greeks(spot, t_years, sigma, need="v").value
