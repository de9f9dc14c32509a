"""Monte-Carlo hedging simulator: many rules on the same paths, P&L attribution and risk summary.

Accounting (zero rates; currency at the horizon)
------------------------------------------------
At step ``k`` (time ``t_k = k dt``) the simulator computes the position's greeks at the hedging vol
``sigma_k`` (shared by every rule), asks each rule for its desired hedge, executes the order if the
minimum size and the daily cap allow it, charges its cost, and holds the hedge ``h_k`` over
``(t_k, t_{k+1}]``. The hedge is set to the target at step 0 (free unless ``Costs.charge_initial_hedge``)
and rules are consulted from step 1. The horizon is the last leg's expiry (or the end of the paths);
a leg that expires pays its intrinsic value at the first step on or after its expiry.

Per path, with ``dS_k = S_{k+1} - S_k`` and target ``T_k = -Delta_k``::

    total        = V_end - V_0 + sum h_k dS_k - costs
    gamma        = sum 1/2 Gamma_k dS_k^2              (gamma revenue)
    theta        = sum Theta_k dt
    vega         = sum vega_k (sigma_{k+1} - sigma_k)  (0 for a constant hedging vol)
    hedging_error= sum (h_k - T_k) dS_k                (the mis-hedge's P&L)
    cost_pnl     = -costs
    residual     = V_end - V_0 + sum T_k dS_k - gamma - theta - vega   (higher-order terms)

so ``gamma + theta + vega + hedging_error + cost_pnl + residual == total`` (to float rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from gex.greeks import bs_delta, bs_gamma, bs_price, bs_vega
from gex.hedging import metrics
from gex.hedging._kernels import DUST_SHARES, run_rule
from gex.hedging.costs import Costs
from gex.hedging.paths import Paths
from gex.hedging.position import Position
from gex.hedging.strategies import HedgeState, Strategy

__all__ = ["PnLBreakdown", "SimulationResult", "simulate"]


@dataclass(frozen=True)
class PnLBreakdown:
    """Final P&L per path of one rule and its attribution, each shape ``(n_paths,)``, currency.

    ``gamma + theta + vega + hedging_error + cost_pnl + residual == total``. ``cost_pnl <= 0`` is the
    cost as a P&L contribution (``cost_paid = -cost_pnl``); ``n_trades`` counts executed orders after
    inception; ``shares_traded`` is their absolute size summed.
    """

    total: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray
    hedging_error: np.ndarray
    cost_pnl: np.ndarray
    residual: np.ndarray
    n_trades: np.ndarray
    shares_traded: np.ndarray

    @property
    def cost_paid(self) -> np.ndarray:
        return -self.cost_pnl


@dataclass(frozen=True)
class SimulationResult:
    """Results of :func:`simulate`: one :class:`PnLBreakdown` per rule, in the order given.

    ``result["WW ra=0.01"]`` returns a breakdown; :meth:`summary` the table of risk metrics.
    """

    pnl: dict[str, PnLBreakdown]
    risk_aversion: float
    cvar_level: float
    n_paths: int
    n_steps: int
    dt_years: float
    names: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> PnLBreakdown:
        return self.pnl[name]

    def summary(self, risk_aversion: float | None = None) -> pl.DataFrame:
        """One row per rule: P&L mean/std (currency), ``ce_exp`` (exponential CE), ``ce_mv``
        (mean - a/2 var), ``cvar`` (mean of the worst ``1 - cvar_level`` outcomes), mean orders, mean
        shares traded, mean cost paid, and the mean of each attribution term; the CEs use
        ``risk_aversion`` (default: the simulation's)."""
        ra = self.risk_aversion if risk_aversion is None else risk_aversion
        rows = []
        for name in self.names:
            b = self.pnl[name]
            rows.append(
                {
                    "strategy": name,
                    "mean": float(np.mean(b.total)),
                    "std": float(np.std(b.total, ddof=1)) if b.total.size > 1 else 0.0,
                    "ce_exp": metrics.ce_exponential(b.total, ra),
                    "ce_mv": metrics.ce_mean_variance(b.total, ra),
                    "cvar": metrics.cvar(b.total, self.cvar_level),
                    "trades": float(np.mean(b.n_trades)),
                    "shares_traded": float(np.mean(b.shares_traded)),
                    "cost_paid": float(np.mean(b.cost_paid)),
                    "gamma": float(np.mean(b.gamma)),
                    "theta": float(np.mean(b.theta)),
                    "vega": float(np.mean(b.vega)),
                    "hedging_error": float(np.mean(b.hedging_error)),
                    "residual": float(np.mean(b.residual)),
                }
            )
        return pl.DataFrame(rows)


def _vol_path(hedge_vol, n_steps: int) -> tuple[np.ndarray, bool]:
    v = np.asarray(hedge_vol, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n_steps + 1, float(v))
        moving = False
    elif v.shape == (n_steps + 1,):
        moving = True
    else:
        raise ValueError(
            f"hedge_vol must be a number or an array of shape ({n_steps + 1},), got shape {v.shape}"
        )
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("hedge_vol must be finite and > 0")
    return np.ascontiguousarray(v), moving


def _expiry_steps(position: Position, dt: float) -> list[int]:
    # first grid step on or after expiry; the tolerance absorbs float noise in expiry / dt
    return [max(1, math.ceil(leg.expiry_years / dt - 1e-9)) for leg in position.legs]


class _Chunk:
    """Greeks of the position over rows k0..k0+m-1 (all paths), at the hedging vol."""

    def __init__(self, position, k_exp, k0, spot_rows, t, vols, want_vega):
        m, n = spot_rows.shape[0] - 1, spot_rows.shape[1]
        s = spot_rows[:m]
        self.target = np.zeros((m, n))
        self.gamma = np.zeros((m, n))
        self.vega = np.zeros((m, n)) if want_vega else None
        self.tau = np.full(m, np.inf)
        for leg, ke in zip(position.legs, k_exp):
            na = max(0, min(m, ke - k0))  # rows where the leg is alive: a prefix of the chunk
            if na == 0:
                continue
            tau = (leg.expiry_years - t[k0 : k0 + na])[:, None]
            sig = vols[k0 : k0 + na][:, None]
            sl, mult = s[:na], leg.shares
            self.target[:na] -= mult * bs_delta(sl, leg.strike, 0.0, sig, tau, leg.is_call)
            self.gamma[:na] += mult * bs_gamma(sl, leg.strike, 0.0, sig, tau)
            if want_vega:
                self.vega[:na] += mult * bs_vega(sl, leg.strike, 0.0, sig, tau)
            self.tau[:na] = np.minimum(self.tau[:na], tau[:, 0])
        # Black-Scholes at r = q = 0: theta = -1/2 sigma^2 S^2 gamma, leg by leg, hence for the position
        self.theta = -0.5 * (vols[k0 : k0 + m, None] * s) ** 2 * self.gamma


def _target_at(position, k_exp, k0, spot_rows, t, vols_adj):
    m, n = spot_rows.shape[0] - 1, spot_rows.shape[1]
    out = np.zeros((m, n))
    for leg, ke in zip(position.legs, k_exp):
        na = max(0, min(m, ke - k0))
        if na:
            tau = (leg.expiry_years - t[k0 : k0 + na])[:, None]
            out[:na] -= leg.shares * bs_delta(
                spot_rows[:na], leg.strike, 0.0, vols_adj[k0 : k0 + na][:, None], tau, leg.is_call
            )
    return out


def _value_end(position, k_exp, spot, t, vols, n_h):
    v = np.zeros(spot.shape[1])
    for leg, ke in zip(position.legs, k_exp):
        if ke <= n_h:
            v += leg.payoff(spot[ke])
        else:
            tau = leg.expiry_years - t[n_h]
            v += leg.shares * bs_price(spot[n_h], leg.strike, 0.0, vols[n_h], tau, leg.is_call)
    return v


class _RuleState:
    def __init__(self, n: int, hedge0: np.ndarray):
        self.hedge = hedge0.copy()
        self.trades_today = np.zeros(n, dtype=np.int64)
        self.last_trade = np.zeros(n, dtype=np.int64)
        self.hedge_err = np.zeros(n)
        self.cost = np.zeros(n)
        self.n_trades = np.zeros(n, dtype=np.int64)
        self.shares = np.zeros(n)


def _python_step(strategy, st, costs, k, r, ch, spot_rows, t, vols, paths, position):
    """One step of one rule with numpy: the reference implementation of the kernel."""
    s = spot_rows[r]
    tg = ch.target[r]
    if k > 0:
        if k % paths.steps_per_day == 0:
            st.trades_today[:] = 0
        state = HedgeState(
            step=k, t_years=float(t[k]), tau_years=float(ch.tau[r]), spot=s, hedge=st.hedge.copy(), target=tg,
            gamma=ch.gamma[r], sigma=float(vols[k]), trades_today=st.trades_today.copy(),
            steps_per_day=paths.steps_per_day, dt_years=paths.dt_years,
            steps_since_trade=k - st.last_trade, position=position,
        )
        desired = np.asarray(strategy.rebalance(state), dtype=np.float64)
        if desired.shape != st.hedge.shape or not np.all(np.isfinite(desired)):
            raise ValueError(
                f"strategy {strategy.name!r} returned a hedge that is not finite of shape {st.hedge.shape}"
            )
        v = desired - st.hedge
        av = np.abs(v)
        do = (av > DUST_SHARES) & (av >= costs.min_order_shares) & (st.trades_today < costs.trade_cap)
        st.hedge = np.where(do, desired, st.hedge)
        st.cost += np.where(do, costs.cost_rate * s * av + costs.per_share * av + costs.fee_per_order, 0.0)
        st.trades_today += do
        st.n_trades += do
        st.shares += np.where(do, av, 0.0)
        st.last_trade = np.where(do, k, st.last_trade)
    st.hedge_err += (st.hedge - tg) * (spot_rows[r + 1] - s)


def simulate(
    paths: Paths,
    position: Position,
    strategies: Sequence[Strategy],
    costs: Costs | None = None,
    *,
    hedge_vol,
    risk_aversion: float = 0.01,
    cvar_level: float = 0.95,
    engine: str = "auto",
    chunk_steps: int = 512,
) -> SimulationResult:
    """Hedge ``position`` along ``paths`` with every rule in ``strategies`` (common random numbers).

    Parameters
    ----------
    paths : Paths
        Spot paths, shape ``(n_steps + 1, n_paths)``, step ``dt_years``.
    position : Position
        The options to hedge (bought/sold at inception at the hedging vol).
    strategies : sequence of Strategy
        Rules with unique names. Built-in rules run in a compiled loop (``engine="auto"``); any other
        object with ``name`` and ``rebalance(state)`` runs step by step in Python.
    costs : Costs, optional
        Execution costs and limits (default: free, unconstrained).
    hedge_vol : float or ndarray of shape (n_steps + 1,)
        Hedging (implied) vol, decimal per year: a constant, or a path common to all paths (then the
        options are re-marked at it and the ``vega`` term is non-zero).
    risk_aversion : float, default 0.01
        CARA coefficient for the summary's certainty equivalents, 1/currency.
    cvar_level : float, default 0.95
        CVaR level of the summary (mean of the worst 5% by default).
    engine : {"auto", "python"}
        ``"python"`` runs every rule through its ``rebalance`` method (the reference; slow).
    chunk_steps : int, default 512
        Steps whose greeks are held in memory at once (memory ~ 5 x 8 x chunk_steps x n_paths bytes).

    Returns
    -------
    SimulationResult

    Notes
    -----
    Zero interest rates and dividends; costs are paid from the hedge account and summed (not
    financed). The hedge is a continuous number of shares (no lot rounding; use ``min_order_shares``).
    """
    if engine not in ("auto", "python"):
        raise ValueError(f"engine must be 'auto' or 'python', got {engine!r}")
    costs = Costs() if costs is None else costs
    strategies = list(strategies)
    if not strategies:
        raise ValueError("no strategies to simulate")
    names = [str(getattr(s, "name", "")) for s in strategies]
    if any(not nm for nm in names) or len(set(names)) != len(names):
        raise ValueError(f"strategy names must be non-empty and unique, got {names}")
    for s in strategies:
        if not callable(getattr(s, "rebalance", None)):
            raise ValueError(f"strategy {getattr(s, 'name', s)!r} has no rebalance(state) method")
    metrics._ra(risk_aversion)
    if not (0.0 < float(cvar_level) < 1.0):
        raise ValueError(f"cvar_level must be in (0, 1), got {cvar_level!r}")
    if int(chunk_steps) < 1:
        raise ValueError("chunk_steps must be >= 1")

    spot = paths.spot
    n_steps, n = paths.n_steps, paths.n_paths
    dt = paths.dt_years
    vols, moving = _vol_path(hedge_vol, n_steps)
    t = np.arange(n_steps + 1) * dt
    k_exp = _expiry_steps(position, dt)
    n_h = min(n_steps, max(k_exp))

    fast = [engine == "auto" and hasattr(s, "kernel_spec") and hasattr(s, "target_vol") for s in strategies]
    # Leland-type rules trade to the delta at another vol: resolve it per step once (raises if undefined)
    adj_vols: list[np.ndarray | None] = []
    for s, f in zip(strategies, fast):
        if f and s.target_vol(float(vols[0]), dt) is not None:
            adj_vols.append(np.array([s.target_vol(float(v), dt) for v in vols]) if moving
                            else np.full(n_steps + 1, s.target_vol(float(vols[0]), dt)))
        else:
            adj_vols.append(None)

    hedge0 = -position.greeks(spot[0], 0.0, float(vols[0]), need="-d").delta
    states = [_RuleState(n, hedge0) for _ in strategies]
    if costs.charge_initial_hedge:
        for st in states:
            st.cost += costs.order_cost(hedge0, spot[0])

    gamma_rev = np.zeros(n)
    theta_pnl = np.zeros(n)
    vega_pnl = np.zeros(n)
    target_pnl = np.zeros(n)
    cap = costs.trade_cap
    for k0 in range(0, n_h, int(chunk_steps)):
        k1 = min(k0 + int(chunk_steps), n_h)
        rows = spot[k0 : k1 + 1]
        ch = _Chunk(position, k_exp, k0, rows, t, vols, moving)
        ds = np.diff(rows, axis=0)
        gamma_rev += 0.5 * np.einsum("ij,ij->j", ch.gamma, ds * ds)
        theta_pnl += ch.theta.sum(axis=0) * dt
        target_pnl += np.einsum("ij,ij->j", ch.target, ds)
        if moving:
            vega_pnl += np.einsum("ij,i->j", ch.vega, np.diff(vols[k0 : k1 + 1]))
        for j, (s, st) in enumerate(zip(strategies, states)):
            if fast[j]:
                kind, p = s.kernel_spec()
                if adj_vols[j] is None:
                    trade_target = ch.target
                else:
                    trade_target = _target_at(position, k_exp, k0, rows, t, adj_vols[j])
                run_rule(
                    kind, p, k0, rows, ch.target, trade_target, ch.gamma, paths.steps_per_day,
                    costs.cost_rate, costs.per_share, costs.fee_per_order, costs.min_order_shares, cap,
                    st.hedge, st.trades_today, st.last_trade, st.hedge_err, st.cost, st.n_trades, st.shares,
                )
            else:
                for r in range(k1 - k0):
                    _python_step(s, st, costs, k0 + r, r, ch, rows, t, vols, paths, position)

    v0 = position.greeks(spot[0], 0.0, float(vols[0]), need="v").value
    option_pnl = _value_end(position, k_exp, spot, t, vols, n_h) - v0
    residual = option_pnl + target_pnl - gamma_rev - theta_pnl - vega_pnl
    out = {}
    for name, st in zip(names, states):
        out[name] = PnLBreakdown(
            total=option_pnl + target_pnl + st.hedge_err - st.cost,
            gamma=gamma_rev.copy(), theta=theta_pnl.copy(), vega=vega_pnl.copy(),
            hedging_error=st.hedge_err, cost_pnl=-st.cost, residual=residual.copy(),
            n_trades=st.n_trades, shares_traded=st.shares,
        )
    return SimulationResult(
        pnl=out, risk_aversion=float(risk_aversion), cvar_level=float(cvar_level),
        n_paths=n, n_steps=n_h, dt_years=dt, names=tuple(names),
    )
