"""Advisor inputs: option legs, the cost model, position templates and the time units."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

DAYS_PER_YEAR = 365.0
"""Calendar days per year: time to expiry, theta and 'per day' figures are act/365."""
MINUTES_PER_DAY = 390.0
"""Trading minutes per day of the option's life (one regular session), for clock intervals in minutes."""

Execution = Literal["edge", "reset"]
"""How a band trades: to its nearest edge, or back to the target."""
TEMPLATE_DAYS = 30.0


@dataclass(frozen=True)
class Leg:
    """One option leg.

    Parameters
    ----------
    strike : float
        Strike, $ per share.
    days_to_expiry : float
        Calendar days to expiry (> 0).
    right : {"call", "put"}
        Option type ("c"/"p" accepted, any case).
    contracts : float
        Signed number of contracts: long > 0, short < 0.
    multiplier : float
        Shares per contract (100 for US equity and index options).
    iv : float or None
        Implied vol of this leg, decimal per year; ``None`` uses the market's single IV.
    """

    strike: float
    days_to_expiry: float
    right: str
    contracts: float
    multiplier: float = 100.0
    iv: float | None = None

    def __post_init__(self) -> None:
        right = str(self.right).strip().lower()
        right = {"c": "call", "p": "put"}.get(right, right)
        if right not in ("call", "put"):
            raise ValueError(f"leg right {self.right!r} must be 'call' or 'put'")
        object.__setattr__(self, "right", right)
        if not (math.isfinite(self.strike) and self.strike > 0):
            raise ValueError(f"leg strike {self.strike} must be a positive number")
        if not (math.isfinite(self.days_to_expiry) and self.days_to_expiry > 0):
            raise ValueError(f"leg days_to_expiry {self.days_to_expiry} must be > 0 (expired legs cannot be hedged)")
        if not math.isfinite(self.contracts) or self.contracts == 0:
            raise ValueError(f"leg contracts {self.contracts} must be a non-zero signed number (long > 0, short < 0)")
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ValueError(f"leg multiplier {self.multiplier} must be positive")
        if self.iv is not None and not (0.005 <= self.iv <= 5.0):
            raise ValueError(f"leg iv {self.iv} must be a decimal vol in [0.005, 5] (0.2 = 20%)")

    @property
    def tau_years(self) -> float:
        """Time to expiry, years (act/365)."""
        return self.days_to_expiry / DAYS_PER_YEAR


@dataclass(frozen=True)
class CostModel:
    """Trading costs of the hedge instrument (the underlying).

    Parameters
    ----------
    cost_bps : float
        One-way proportional cost, basis points of the traded notional (commission, impact).
    spread_usd_per_share : float
        Half-spread / slippage paid per share traded, $ per share (added to the proportional cost).
    fee_usd_per_order : float
        Fixed fee per order, $.
    min_order_shares : float
        Smallest order you send, shares (0: none).
    max_trades_per_day : float or None
        Cap on orders per day (None: no cap).
    monitor_minutes : float
        How often you look at the position, trading minutes (the discrete-monitoring correction).
    """

    cost_bps: float = 5.0
    spread_usd_per_share: float = 0.0
    fee_usd_per_order: float = 0.0
    min_order_shares: float = 0.0
    max_trades_per_day: float | None = None
    monitor_minutes: float = 1.0

    def __post_init__(self) -> None:
        for name in ("cost_bps", "spread_usd_per_share", "fee_usd_per_order", "min_order_shares"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} {value} must be a finite number >= 0")
        if self.cost_bps > 1000:
            raise ValueError(f"cost_bps {self.cost_bps} looks wrong: give basis points (5 = 0.05%)")
        if self.max_trades_per_day is not None and not self.max_trades_per_day > 0:
            raise ValueError(f"max_trades_per_day {self.max_trades_per_day} must be > 0")
        if not (math.isfinite(self.monitor_minutes) and self.monitor_minutes > 0):
            raise ValueError(f"monitor_minutes {self.monitor_minutes} must be > 0")

    def proportional(self, spot: float | np.ndarray) -> float | np.ndarray:
        """Effective one-way proportional cost lambda (fraction of notional) at ``spot``."""
        return self.cost_bps * 1e-4 + self.spread_usd_per_share / spot

    @property
    def monitor_years(self) -> float:
        """Monitoring interval, years."""
        return self.monitor_minutes / MINUTES_PER_DAY / DAYS_PER_YEAR

    def as_dict(self) -> dict[str, Any]:
        return {
            "cost_bps": self.cost_bps,
            "spread_usd_per_share": self.spread_usd_per_share,
            "fee_usd_per_order": self.fee_usd_per_order,
            "min_order_shares": self.min_order_shares,
            "max_trades_per_day": self.max_trades_per_day,
            "monitor_minutes": self.monitor_minutes,
        }


DEFAULT_COSTS = CostModel(cost_bps=5.0)
DEFAULT_RISK_AVERSION = 0.01


def template_legs(name: str, spot: float, iv: float | None = None) -> tuple[Leg, ...]:
    """Legs of a named position template at ``spot``.

    Templates
    ---------
    ``long-atm-straddle-30d``
        Long 1 call + 1 put, strike = spot, 30 calendar days.
    ``long-otm-calls``
        The standard gamma-scalping setup "long 4 contracts of 1-5% OTM calls, 14-60 days", made concrete:
        4 calls, strike = spot x 1.03 (the middle of 1-5% OTM), 30 calendar days (the front monthly,
        inside 14-60).
    ``long-atm-calls-4``
        Long 4 ATM calls, 30 days: the reference position of the validation (docs/hedging-advisor.md).
    ``short-atm-straddle-30d``
        Short 1 call + 1 put, strike = spot, 30 days (a short-gamma example).

    Strikes are exact (not rounded to a listed strike), so the template means the same at any spot.
    """
    if not (math.isfinite(spot) and spot > 0):
        raise ValueError(f"spot {spot} must be a positive number")
    d = TEMPLATE_DAYS
    if name == "long-atm-straddle-30d":
        return (Leg(spot, d, "call", 1, iv=iv), Leg(spot, d, "put", 1, iv=iv))
    if name == "short-atm-straddle-30d":
        return (Leg(spot, d, "call", -1, iv=iv), Leg(spot, d, "put", -1, iv=iv))
    if name == "long-otm-calls":
        return (Leg(spot * 1.03, d, "call", 4, iv=iv),)
    if name == "long-atm-calls-4":
        return (Leg(spot, d, "call", 4, iv=iv),)
    raise ValueError(f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}")


TEMPLATES = ("long-atm-straddle-30d", "long-otm-calls", "long-atm-calls-4", "short-atm-straddle-30d")
DEFAULT_TEMPLATES = ("long-atm-straddle-30d", "long-otm-calls")
