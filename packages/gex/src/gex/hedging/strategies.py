"""Hedging rules: the :class:`Strategy` protocol, the state it sees, and the built-in rules.

A strategy maps the current :class:`HedgeState` (vectorised over paths) to the hedge it wants, in shares.
It does not pay costs or respect limits: the simulator applies the minimum order size, the daily trade
cap and the costs (:class:`gex.hedging.costs.Costs`), so a strategy may ask for a trade that is not
executed (then ``state.hedge`` is unchanged at the next step).

Built-in rules (each also has a compiled fast path in the simulator, cross-checked against the
``rebalance`` methods here in the tests):

======================  ==========================================================================
``Clock``               every ``interval_steps`` steps, trade to the target
``FixedBand``           fixed half-width in shares; trade to the nearest edge or reset to the target
``NotionalThreshold``   reset to the target when ``|hedge - target| * S > threshold_usd``
``WhalleyWilmott``      trade to the edge of ``target +/- H``, ``H`` from the current gamma (WW 1997)
``FeeBand``             reset band from the combined quartic (fixed fee and proportional cost)
``Hybrid``              a band rule checked every step **plus** a forced reset to the target when no
                        order was sent for ``max_interval_steps`` steps
``LelandClock``         clock hedging to the delta at Leland's adjusted vol
======================  ==========================================================================

Write your own by implementing ``name`` and ``rebalance(state)``; see ``gex.hedging`` for an example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from gex.hedging import theory

if TYPE_CHECKING:
    from gex.hedging.position import Position

__all__ = [
    "Clock",
    "FeeBand",
    "FixedBand",
    "HedgeState",
    "Hybrid",
    "LelandClock",
    "NotionalThreshold",
    "Strategy",
    "WhalleyWilmott",
]

# Compiled-kernel rule kinds (see gex.hedging._kernels).
KIND_CLOCK, KIND_BAND, KIND_NOTIONAL, KIND_WW, KIND_COMBINED = 0, 1, 2, 3, 4
N_PARAMS = 8  # params[7] = max interval in steps (0: none), used by Hybrid


@dataclass(frozen=True)
class HedgeState:
    """What a strategy sees at one time step, vectorised over paths.

    Attributes
    ----------
    step : int
        Index of the current step (0 = inception, where the hedge is already set to the target).
    t_years : float
        Time since inception, years.
    tau_years : float
        Time to expiry of the position's nearest live leg, years (> 0 while alive).
    spot : ndarray, shape (n_paths,)
        Spot, currency per share.
    hedge : ndarray, shape (n_paths,)
        Shares currently held as the hedge.
    target : ndarray, shape (n_paths,)
        Black-Scholes hedge at the hedging vol = -position delta, shares.
    gamma : ndarray, shape (n_paths,)
        Position gamma, shares per currency unit (long options > 0).
    sigma : float
        Hedging (implied) vol at this step, decimal per year.
    trades_today : ndarray, shape (n_paths,)
        Orders already sent in the current simulated day.
    steps_per_day : int
        Steps in one simulated day.
    dt_years : float
        Length of one step, years.
    steps_since_trade : ndarray, shape (n_paths,)
        Steps since the last executed order (inception counts as one).
    position : Position or None
        The position being hedged (for rules that need other greeks, e.g. Leland's delta).
    """

    step: int
    t_years: float
    tau_years: float
    spot: np.ndarray
    hedge: np.ndarray
    target: np.ndarray
    gamma: np.ndarray
    sigma: float
    trades_today: np.ndarray
    steps_per_day: int
    dt_years: float = float("nan")
    steps_since_trade: np.ndarray | None = None
    position: Position | None = None


@runtime_checkable
class Strategy(Protocol):
    """A hedging rule: ``rebalance`` returns the desired hedge, shares, shape ``(n_paths,)``.

    Return ``state.hedge`` (or an equal value) where no trade is wanted. Must not modify the state's
    arrays. ``name`` labels the rule in results (unique within one simulation).
    """

    name: str

    def rebalance(self, state: HedgeState) -> np.ndarray: ...


def _check_positive(name: str, v: float) -> float:
    v = float(v)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    return v


def _check_nonnegative(name: str, v: float) -> float:
    v = float(v)
    if not (np.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return v


def _check_mode(mode: str) -> str:
    if mode not in ("edge", "reset"):
        raise ValueError(f"band mode must be 'edge' or 'reset', got {mode!r}")
    return mode


def _apply_band(hedge: np.ndarray, target: np.ndarray, halfwidth, mode: str) -> np.ndarray:
    if mode == "edge":
        return np.clip(hedge, target - halfwidth, target + halfwidth)
    return np.where(np.abs(hedge - target) > halfwidth, target, hedge)


def _params(*values: float, max_interval: int = 0) -> np.ndarray:
    p = np.zeros(N_PARAMS)
    p[: len(values)] = values
    p[7] = max_interval
    return p


@dataclass(frozen=True)
class Clock:
    """Trade to the target every ``interval_steps`` steps (at steps that are multiples of it).

    Examples
    --------
    >>> Clock(390).name
    'clock 390'
    """

    interval_steps: int
    name: str = ""

    def __post_init__(self) -> None:
        if int(self.interval_steps) != self.interval_steps or self.interval_steps < 1:
            raise ValueError(f"interval_steps must be an integer >= 1, got {self.interval_steps!r}")
        object.__setattr__(self, "interval_steps", int(self.interval_steps))
        if not self.name:
            object.__setattr__(self, "name", f"clock {self.interval_steps}")

    def rebalance(self, state: HedgeState) -> np.ndarray:
        if state.step % self.interval_steps == 0:
            return state.target.copy()
        return state.hedge.copy()

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_CLOCK, _params(self.interval_steps)

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class FixedBand:
    """Fixed no-trade band of ``halfwidth_shares`` around the target; ``mode`` ``"edge"`` or ``"reset"``.

    Examples
    --------
    >>> FixedBand(20.0).name
    'band 20 edge'
    """

    halfwidth_shares: float
    mode: str = "edge"
    name: str = ""

    def __post_init__(self) -> None:
        width = _check_nonnegative("halfwidth_shares", self.halfwidth_shares)
        object.__setattr__(self, "halfwidth_shares", width)
        _check_mode(self.mode)
        if not self.name:
            object.__setattr__(self, "name", f"band {self.halfwidth_shares:g} {self.mode}")

    def rebalance(self, state: HedgeState) -> np.ndarray:
        return _apply_band(state.hedge, state.target, self.halfwidth_shares, self.mode)

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_BAND, _params(self.halfwidth_shares, 0.0 if self.mode == "edge" else 1.0)

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class NotionalThreshold:
    """Reset to the target when the dollar mis-hedge ``|hedge - target| * S`` exceeds ``threshold_usd``.

    Examples
    --------
    >>> NotionalThreshold(500).name
    'notional $500'
    """

    threshold_usd: float
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold_usd", _check_nonnegative("threshold_usd", self.threshold_usd))
        if not self.name:
            object.__setattr__(self, "name", f"notional ${self.threshold_usd:g}")

    def rebalance(self, state: HedgeState) -> np.ndarray:
        outside = np.abs(state.hedge - state.target) * state.spot > self.threshold_usd
        return np.where(outside, state.target, state.hedge)

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_NOTIONAL, _params(self.threshold_usd)

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class WhalleyWilmott:
    """Whalley-Wilmott band: trade to the nearest edge of ``target +/- H``, ``H`` from the current gamma.

    ``H = (3/(2 gamma_ra) lambda S Gamma^2)^(1/3)`` (:func:`gex.hedging.theory.whalley_wilmott_halfwidth`).

    Parameters
    ----------
    cost_rate : float
        Proportional one-way cost the rule assumes, decimal (5 bp = 0.0005).
    risk_aversion : float
        CARA coefficient, 1/currency.
    """

    cost_rate: float
    risk_aversion: float
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_rate", _check_nonnegative("cost_rate", self.cost_rate))
        object.__setattr__(self, "risk_aversion", _check_positive("risk_aversion", self.risk_aversion))
        if not self.name:
            object.__setattr__(self, "name", f"WW ra={self.risk_aversion:g}")

    def halfwidth(self, state: HedgeState) -> np.ndarray:
        return np.asarray(
            theory.whalley_wilmott_halfwidth(state.gamma, state.spot, self.cost_rate, self.risk_aversion)
        )

    def rebalance(self, state: HedgeState) -> np.ndarray:
        return _apply_band(state.hedge, state.target, self.halfwidth(state), "edge")

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_WW, _params(self.cost_rate, self.risk_aversion)

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class FeeBand:
    """Reset band for a fixed fee (and proportional cost): reset to the target when ``|x| > H``.

    ``H`` solves ``gamma_ra H^4/6 - lambda S Gamma^2 H - 2 F Gamma^2 = 0`` at the current gamma
    (:func:`gex.hedging.theory.combined_band_halfwidth`).

    Parameters
    ----------
    fee : float
        Fixed fee per order the rule assumes, currency.
    risk_aversion : float
        CARA coefficient, 1/currency.
    cost_rate : float, default 0
        Proportional one-way cost the rule assumes, decimal.
    """

    fee: float
    risk_aversion: float
    cost_rate: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "fee", _check_nonnegative("fee", self.fee))
        object.__setattr__(self, "cost_rate", _check_nonnegative("cost_rate", self.cost_rate))
        object.__setattr__(self, "risk_aversion", _check_positive("risk_aversion", self.risk_aversion))
        if not self.name:
            object.__setattr__(self, "name", f"fee band ra={self.risk_aversion:g}")

    def halfwidth(self, state: HedgeState) -> np.ndarray:
        return np.asarray(
            theory.combined_band_halfwidth(
                state.gamma, state.spot, self.cost_rate, self.fee, self.risk_aversion
            )
        )

    def rebalance(self, state: HedgeState) -> np.ndarray:
        return _apply_band(state.hedge, state.target, self.halfwidth(state), "reset")

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_COMBINED, _params(self.cost_rate, self.fee, self.risk_aversion)

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class Hybrid:
    """A band rule checked every step, plus a forced reset to the target after ``max_interval_steps``
    steps without an order (a band with a maximum holding time, not a band on a clock grid).

    Parameters
    ----------
    band : FixedBand, NotionalThreshold, WhalleyWilmott or FeeBand
        The rule applied at every step.
    max_interval_steps : int
        Reset to the target when no order has been sent for this many steps.
    """

    band: FixedBand | NotionalThreshold | WhalleyWilmott | FeeBand
    max_interval_steps: int
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.band, (FixedBand, NotionalThreshold, WhalleyWilmott, FeeBand)):
            raise ValueError("Hybrid needs a FixedBand, NotionalThreshold, WhalleyWilmott or FeeBand")
        if int(self.max_interval_steps) != self.max_interval_steps or self.max_interval_steps < 1:
            raise ValueError(f"max_interval_steps must be an integer >= 1, got {self.max_interval_steps!r}")
        object.__setattr__(self, "max_interval_steps", int(self.max_interval_steps))
        if not self.name:
            object.__setattr__(self, "name", f"{self.band.name} max {self.max_interval_steps}")

    def rebalance(self, state: HedgeState) -> np.ndarray:
        desired = self.band.rebalance(state)
        if state.steps_since_trade is None:
            raise ValueError("Hybrid needs HedgeState.steps_since_trade")
        return np.where(state.steps_since_trade >= self.max_interval_steps, state.target, desired)

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        kind, p = self.band.kernel_spec()
        p = p.copy()
        p[7] = self.max_interval_steps
        return kind, p

    def target_vol(self, sigma: float, dt_years: float) -> float | None:
        return None


@dataclass(frozen=True)
class LelandClock:
    """Clock hedging every ``interval_steps`` steps to the delta at Leland's adjusted vol.

    ``sigma_adj = sigma sqrt(1 +/- Le)``, ``Le = sqrt(2/pi) 2 lambda / (sigma sqrt(dt))`` with ``dt`` the
    clock interval (:func:`gex.hedging.theory.leland_vol`). For the holder (``writer=False``) a correction
    ``>= 1`` has no Leland vol: the simulation raises ``ValueError``.

    Parameters
    ----------
    interval_steps : int
        Clock interval in steps.
    cost_rate : float
        Proportional one-way cost, decimal.
    writer : bool
        True when the position is short gamma (option writer), False when long gamma.
    """

    interval_steps: int
    cost_rate: float
    writer: bool
    name: str = ""
    _clock: Clock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_clock", Clock(self.interval_steps))
        object.__setattr__(self, "interval_steps", int(self.interval_steps))
        object.__setattr__(self, "cost_rate", _check_nonnegative("cost_rate", self.cost_rate))
        if not self.name:
            object.__setattr__(self, "name", f"leland clock {self.interval_steps}")

    def target_vol(self, sigma: float, dt_years: float) -> float:
        """The adjusted hedging vol for a hedging vol ``sigma`` and a step of ``dt_years``."""
        interval = self.interval_steps * dt_years
        return float(theory.leland_vol(sigma, self.cost_rate, interval, writer=self.writer))

    def rebalance(self, state: HedgeState) -> np.ndarray:
        if state.step % self.interval_steps != 0:
            return state.hedge.copy()
        if state.position is None:
            raise ValueError("LelandClock needs HedgeState.position")
        vol = self.target_vol(state.sigma, state.dt_years)
        return -state.position.delta(state.spot, state.t_years, vol)

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        return KIND_CLOCK, _params(self.interval_steps)
