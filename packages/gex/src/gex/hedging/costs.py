"""Execution costs and trading constraints applied by the simulator (never by the strategies)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Costs"]


@dataclass(frozen=True)
class Costs:
    """What an order costs and which orders are allowed.

    Parameters
    ----------
    proportional_bps : float, default 0
        One-way proportional cost, basis points of traded notional (5 = 5 bp: trading ``v`` shares at
        ``S`` costs ``0.0005 * S * |v|``).
    spread_per_share : float, default 0
        Half bid-ask spread paid per share traded, currency.
    slippage_per_share : float, default 0
        Further slippage per share traded, currency.
    fee_per_order : float, default 0
        Fixed fee per order, currency.
    min_order_shares : float, default 0
        Orders smaller than this (absolute shares) are not sent; the hedge stays as it was. Orders of
        at most 1e-9 shares (rounding dust) are never sent, whatever this is.
    max_trades_per_day : int or None, default None
        At most this many orders per simulated day; later desired trades that day are skipped.
    charge_initial_hedge : bool, default False
        Charge costs for putting the hedge on at inception (step 0). By default the initial hedge is
        assumed to trade with the options (a delta-neutral package) at no extra cost; it never counts
        towards trade counts or the daily cap.

    Examples
    --------
    >>> Costs(proportional_bps=5, fee_per_order=1.0).order_cost(10.0, 100.0)
    1.5
    """

    proportional_bps: float = 0.0
    spread_per_share: float = 0.0
    slippage_per_share: float = 0.0
    fee_per_order: float = 0.0
    min_order_shares: float = 0.0
    max_trades_per_day: int | None = None
    charge_initial_hedge: bool = False

    def __post_init__(self) -> None:
        for name in ("proportional_bps", "spread_per_share", "slippage_per_share", "fee_per_order",
                     "min_order_shares"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)
        cap = self.max_trades_per_day
        if cap is not None and (int(cap) != cap or cap < 0):
            raise ValueError(f"max_trades_per_day must be a non-negative integer or None, got {cap!r}")

    @property
    def cost_rate(self) -> float:
        """Proportional one-way cost as a decimal of notional (``lambda`` of the theory)."""
        return self.proportional_bps * 1e-4

    @property
    def per_share(self) -> float:
        """Currency per share traded, independent of price (spread + slippage)."""
        return self.spread_per_share + self.slippage_per_share

    @property
    def trade_cap(self) -> int:
        """The daily cap as an int (a huge number when uncapped)."""
        return 2**62 if self.max_trades_per_day is None else int(self.max_trades_per_day)

    def order_cost(self, shares, spot):
        """Cost of orders of ``shares`` (signed) at ``spot``, currency; 0 where ``shares == 0``."""
        v = np.abs(np.asarray(shares, dtype=np.float64))
        s = np.asarray(spot, dtype=np.float64)
        c = np.where(v > 0, self.cost_rate * s * v + self.per_share * v + self.fee_per_order, 0.0)
        return float(c) if c.ndim == 0 else c
