"""The advice: :func:`advise` and the :class:`Advice` it returns."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gex.advisor.bands import (
    BGK_SHIFT, band_rates, band_rates_scalar, clock_rates, optimal_clock_interval, reset_half_width,
)
from gex.advisor.inputs import (
    DAYS_PER_YEAR, DEFAULT_COSTS, DEFAULT_RISK_AVERSION, MINUTES_PER_DAY, CostModel, Execution, Leg, template_legs,
)
from gex.advisor.policy import AdvisorStrategy, BandPolicy
from gex.advisor.position import PositionGreeks, _leg_arrays, position_gamma, position_greeks
from gex.advisor.regime import RegimeAdjustment, regime_adjustment, variance_ratio_adjustment
from gex.advisor.risk import implied_risk_aversion_band, implied_risk_aversion_clock, risk_aversion_for_std


@dataclass(frozen=True)
class UserRuleAssessment:
    """How a user's current rule compares with the advice (model CE loss per day, same risk aversion)."""

    rule: str
    ce_loss_usd_per_day: float
    optimal_ce_loss_usd_per_day: float
    loss_ratio: float
    implied_risk_aversion: float
    best_of_kind_ratio: float


@dataclass(frozen=True)
class Advice:
    """The advisor's recommendation; every field carries its unit in its name (see :meth:`to_dict`).

    Examples
    --------
    The shared doc's reference: 4 ATM calls, 30 days, 5 bp, risk aversion 0.01/$ -> an 18-share WW band.

    >>> a = advise(template="long-atm-calls-4", spot=100.0, iv=0.2, costs=CostModel(cost_bps=5), risk_aversion=0.01)
    >>> round(a.band_shares, 1), a.execution, round(a.hedge_target_shares, 1)
    (18.0, 'edge', -204.6)
    """

    # inputs
    legs: tuple[Leg, ...]
    template: str | None
    spot: float
    iv: float | None
    realized_vol: float
    realized_vol_assumed: bool
    rate: float
    costs: CostModel
    risk_aversion: float
    risk_aversion_source: str
    regime_row: Mapping[str, Any] | None
    # position
    greeks: PositionGreeks
    min_days_to_expiry: float
    # the rule
    hedge_target_shares: float
    band_shares: float
    band_unadjusted_shares: float
    band_dollar_delta_usd: float
    execution: Execution
    min_order_shares: float
    clock_interval_minutes: float
    mean_minutes_between_trades: float
    expected_trades_per_day: float
    # expected daily P&L (at the current greeks)
    pnl_gamma_usd_per_day: float
    pnl_theta_usd_per_day: float
    pnl_cost_usd_per_day: float
    hedging_error_std_usd_per_day: float
    ce_loss_usd_per_day: float
    clock_ce_loss_usd_per_day: float
    breakeven_vol: float | None
    regime_adjustment: RegimeAdjustment
    user_rule: UserRuleAssessment | None
    warnings: tuple[str, ...] = field(default=())
    variance_ratio: float | None = None

    @property
    def pnl_total_usd_per_day(self) -> float:
        return self.pnl_gamma_usd_per_day + self.pnl_theta_usd_per_day - self.pnl_cost_usd_per_day

    @property
    def policy(self) -> BandPolicy:
        """The rule as a :class:`BandPolicy` (regime factor included)."""
        return BandPolicy(self.execution, self.risk_aversion, CostModel(
            self.costs.cost_bps, self.costs.spread_usd_per_share, self.costs.fee_usd_per_order,
            self.min_order_shares, self.costs.max_trades_per_day, self.costs.monitor_minutes),
            self.rate, self.regime_adjustment.factor)

    def strategy(self, name: str = "advisor") -> AdvisorStrategy:
        """The advice as a simulator strategy."""
        return AdvisorStrategy(self.policy, name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict: the rule, expected daily P&L, regime adjustment, warnings, inputs and units."""

        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        g = self.greeks
        return {
            "hedge_target_shares": self.hedge_target_shares,
            "band_shares": self.band_shares,
            "band_unadjusted_shares": self.band_unadjusted_shares,
            "band_dollar_delta": self.band_dollar_delta_usd,
            "execution": self.execution,
            "min_order_shares": self.min_order_shares,
            "clock_interval_minutes": num(self.clock_interval_minutes),
            "mean_minutes_between_trades": num(self.mean_minutes_between_trades),
            "expected_trades_per_day": num(self.expected_trades_per_day),
            "expected_daily_pnl": {
                "gamma": self.pnl_gamma_usd_per_day,
                "theta": self.pnl_theta_usd_per_day,
                "cost": num(self.pnl_cost_usd_per_day),
                "hedging_error_std": self.hedging_error_std_usd_per_day,
                "total": num(self.pnl_total_usd_per_day),
            },
            "ce_loss_usd_per_day": num(self.ce_loss_usd_per_day),
            "best_clock_ce_loss_usd_per_day": num(self.clock_ce_loss_usd_per_day),
            "breakeven_vol": num(self.breakeven_vol),
            "regime_adjustment": {"factor": self.regime_adjustment.factor, "reason": self.regime_adjustment.reason,
                                  "regime": self.regime_adjustment.regime, "strength": self.regime_adjustment.strength,
                                  "model": self.regime_adjustment.model,
                                  "variance_ratio": self.regime_adjustment.variance_ratio,
                                  "effective_cost_bps": None if self.regime_adjustment.effective_cost_frac is None
                                  else self.regime_adjustment.effective_cost_frac * 1e4},
            "user_rule": None if self.user_rule is None else {
                "rule": self.user_rule.rule,
                "ce_loss_usd_per_day": self.user_rule.ce_loss_usd_per_day,
                "optimal_ce_loss_usd_per_day": self.user_rule.optimal_ce_loss_usd_per_day,
                "loss_ratio": self.user_rule.loss_ratio,
                "implied_risk_aversion": self.user_rule.implied_risk_aversion,
                "best_of_kind_ratio": self.user_rule.best_of_kind_ratio,
            },
            "warnings": list(self.warnings),
            "position": {
                "template": self.template,
                "legs": [{"strike": leg.strike, "days_to_expiry": leg.days_to_expiry, "right": leg.right,
                          "contracts": leg.contracts, "multiplier": leg.multiplier, "iv": leg.iv} for leg in self.legs],
                "delta_shares": g.delta_shares,
                "gamma_shares_per_usd": g.gamma_shares_per_usd,
                "vega_usd_per_volpt": g.vega_usd_per_volpt,
                "theta_usd_per_day": g.theta_usd_per_day,
                "value_usd": g.value_usd,
            },
            "inputs": {
                "spot": self.spot,
                "iv": self.iv,
                "realized_vol": self.realized_vol,
                "realized_vol_assumed_equal_to_iv": self.realized_vol_assumed,
                "rate": self.rate,
                "costs": self.costs.as_dict(),
                "risk_aversion": self.risk_aversion,
                "risk_aversion_source": self.risk_aversion_source,
                "regime_row": None if self.regime_row is None else {k: _jsonable(v) for k, v in self.regime_row.items()},
                "variance_ratio": self.variance_ratio,
            },
            "units": {
                "shares": "shares of the underlying (hedge = short when the options are long delta)",
                "band_dollar_delta": "$ of underlying notional: band_shares x spot",
                "expected_daily_pnl": "$ per calendar day (1/365 year) at the current greeks; total = gamma + theta - cost",
                "theta": "hedged carry -1/2 S^2 sum(Gamma_i iv_i^2) per day (theta net of the hedge's financing)",
                "clock_interval_minutes": f"trading minutes, {MINUTES_PER_DAY:g} per day of the option's life",
                "vol": "decimal per year (0.2 = 20%)",
                "risk_aversion": "CARA, 1/$",
                "rate": "continuous, decimal per year",
                "cost_bps": "one-way, basis points of traded notional",
            },
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _choose_execution(costs: CostModel) -> Execution:
    """Edge for proportional costs; reset as soon as a fixed fee applies (trading to the edge would send
    many tiny orders, each paying the fee)."""
    return "reset" if costs.fee_usd_per_order > 0 else "edge"


def advise(
    legs: Sequence[Leg] | None = None,
    *,
    spot: float,
    iv: float | None = None,
    template: str | None = None,
    realized_vol: float | None = None,
    rate: float = 0.0,
    costs: CostModel = DEFAULT_COSTS,
    risk_aversion: float | None = None,
    target_std_usd_per_day: float | None = None,
    regime_row: Mapping[str, Any] | None = None,
    user_rule_dollar_delta: float | None = None,
    user_rule_clock_minutes: float | None = None,
    variance_ratio: float | None = None,
) -> Advice:
    """Hedging advice for a position, see :class:`Advice` and the module docstring.

    Parameters
    ----------
    legs : sequence of Leg, optional
        The position; or give ``template`` (see :func:`template_legs`).
    spot : float
        Underlying price, $ per share.
    iv : float, optional
        Implied vol for legs without their own, decimal per year.
    realized_vol : float, optional
        Expected realized vol, decimal per year; default: the position's (vega-weighted) IV.
    rate : float
        Risk-free rate, continuous decimal per year.
    costs : CostModel
    risk_aversion : float, optional
        CARA risk aversion, 1/$ (default :data:`DEFAULT_RISK_AVERSION`); or
    target_std_usd_per_day : float, optional
        Target hedging-error std, $ per day, converted to the risk aversion giving it.
    regime_row : mapping, optional
        The session's ``regime_daily`` row (keys ``regime``, ``total_gex_usd_per_1pct``, ``flip_distance_pct``).
    user_rule_dollar_delta, user_rule_clock_minutes : float, optional
        Your current rule (reset when |dollar delta| exceeds this; or hedge every N trading minutes), assessed.
    variance_ratio : float, optional
        Measured variance ratio of the underlying's returns, ``Var(k-step) / (k Var(1-step))`` with one step =
        ``costs.monitor_minutes`` and ``k`` long next to the autocorrelation's memory (e.g. daily returns vs
        one-minute returns: ``k = 390``); > 1 trending, < 1 mean-reverting. When given, the band comes from
        the autocorrelated-returns model (:mod:`gex.advisor.variance_ratio`) instead of the regime's sign-only
        factor; 1 gives exactly the unadjusted band. ``realized_vol`` is then the long-horizon vol.

    Raises
    ------
    ValueError
        On invalid input (message meant for people).
    """
    if not (isinstance(spot, (int, float)) and math.isfinite(spot) and spot > 0):
        raise ValueError(f"spot {spot} must be a positive number")
    if legs is None and template is None:
        raise ValueError("give a position: legs or a template name")
    if legs is not None and template is not None:
        raise ValueError("give legs or a template, not both")
    legs = tuple(template_legs(template, spot, iv)) if template is not None else tuple(legs or ())
    if not legs:
        raise ValueError("the position has no legs")
    if not -0.05 <= rate <= 0.5:
        raise ValueError(f"rate {rate} looks wrong: give a decimal per year such as 0.045")
    if risk_aversion is not None and target_std_usd_per_day is not None:
        raise ValueError("give a risk aversion or a target std, not both")
    greeks = position_greeks(legs, spot, iv, rate)
    gamma = greeks.gamma_shares_per_usd
    _, _, _, _, vols = _leg_arrays(legs, iv)
    weights = np.abs([leg.contracts * leg.multiplier for leg in legs])
    mean_iv = float(np.average(vols, weights=weights))
    assumed = realized_vol is None
    sigma = mean_iv if realized_vol is None else float(realized_vol)
    if not (0.005 <= sigma <= 5.0):
        raise ValueError(f"realized vol {sigma} must be a decimal in [0.005, 5] (0.2 = 20%)")
    tau = min(leg.tau_years for leg in legs)
    lam = float(costs.proportional(spot))
    fee = costs.fee_usd_per_order
    if target_std_usd_per_day is not None:
        ra = risk_aversion_for_std(target_std_usd_per_day, legs, spot, iv, sigma, costs, rate)
        ra_source = f"target hedging-error std {target_std_usd_per_day:g} $/day"
    else:
        ra = DEFAULT_RISK_AVERSION if risk_aversion is None else float(risk_aversion)
        ra_source = "given" if risk_aversion is not None else "default"
    if not (math.isfinite(ra) and ra > 0):
        raise ValueError(f"risk aversion {ra} must be a positive number (CARA, 1/$)")

    execution = _choose_execution(costs)
    base = BandPolicy(execution, ra, costs, rate)
    if variance_ratio is not None:
        adjustment = variance_ratio_adjustment(variance_ratio, base, gamma, spot, sigma, tau, regime_row)
    else:
        adjustment = regime_adjustment(regime_row, base, gamma, spot, sigma, tau)
    warnings: list[str] = []
    h0 = float(base.optimal_half_width(gamma, spot, tau))
    h = adjustment.factor * h0
    policy = BandPolicy(execution, ra, costs, rate, adjustment.factor)

    # minimum order: the user's; for an edge band without one, the discrete monitoring already sets the
    # typical order (the overshoot past the edge), reported as the expected order size.
    a = abs(gamma) * spot * sigma
    min_order = costs.min_order_shares
    trades_y, cost_y, var_y = (float(v) for v in policy.rates(gamma, spot, sigma, tau))
    cap = costs.max_trades_per_day
    if cap is not None and trades_y / DAYS_PER_YEAR > cap:
        # widen until the cap holds (reset: a^2/B^2 = cap; edge: through the minimum order)
        need = cap * DAYS_PER_YEAR
        if execution == "reset":
            h = max(h, a / math.sqrt(need) - BGK_SHIFT * a * math.sqrt(costs.monitor_years))
        else:
            m = max(min_order, 1e-9)
            bshift = BGK_SHIFT * a * math.sqrt(costs.monitor_years)
            # a^2 / ((h + m + shift)^2 - h^2) = need  ->  solve for h
            b_minus_r = m + bshift
            h = max(h, (a * a / need - b_minus_r**2) / (2 * b_minus_r))
        policy = BandPolicy(execution, ra, costs, rate, h / h0 if h0 > 0 else 1.0)
        trades_y, cost_y, var_y = (float(v) for v in policy.rates(gamma, spot, sigma, tau))
        warnings.append(f"the optimal band would trade more than your cap of {cap:g} orders/day: widened to {h:.1f} shares")

    clock = optimal_clock_interval(gamma, spot, sigma, lam, fee, ra)
    if math.isfinite(clock) and clock > 0:
        cc, cv = clock_rates(clock, gamma, spot, sigma, lam, fee)
        clock_ce = float(cc + 0.5 * ra * cv) / DAYS_PER_YEAR
    else:
        clock_ce = 0.0
    gamma_pnl = 0.5 * gamma * spot**2 * sigma**2 / DAYS_PER_YEAR
    carry = greeks.carry_usd_per_day
    cost_day = cost_y / DAYS_PER_YEAR
    breakeven = _breakeven_vol(policy, gamma, spot, tau, carry)

    # warnings
    if tau * DAYS_PER_YEAR <= 7:
        warnings.append(f"{tau * DAYS_PER_YEAR:.1f} days to expiry: gamma explodes as 1/sqrt(T); exit or shrink "
                        "long-gamma positions by about 7 days to expiry")
    day = 1 / DAYS_PER_YEAR
    if gamma != 0:
        # ATM gamma grows like 1/sqrt(tau): +10% within a day from about 5.7 days to expiry
        move = spot * sigma * math.sqrt(day)
        grid = np.array([spot - move, spot, spot + move])
        growth = (float(np.abs(position_gamma(legs, grid, day, iv, rate)).max()) / abs(gamma)) if tau > day else math.inf
        if growth > 1.10:
            warnings.append("exploding gamma: position gamma can grow "
                            + (f"{growth - 1:.0%}" if math.isfinite(growth) else "without bound")
                            + " within a day: re-run the advice at least daily and size the position down")
    size = h if execution == "reset" else max(min_order, BGK_SHIFT * a * math.sqrt(costs.monitor_years), 1e-9)
    per_adjustment = lam + fee / (spot * size) if size > 0 else lam
    if per_adjustment > 5e-4:
        warnings.append(f"hedge cost {per_adjustment * 1e4:.1f} bp per adjustment (> ~5 bp): hedging is expensive; "
                        "consider a cheaper instrument or fewer, larger adjustments")
    warnings.append(f"delta hedging leaves vega {greeks.vega_usd_per_volpt:+.2f} $/vol point and theta "
                    f"{greeks.theta_usd_per_day:+.2f} $/day unhedged")
    if breakeven is None and gamma > 0:
        warnings.append("hedging costs exceed gamma revenue at any realized vol: the position cannot break even")
    elif breakeven is not None and gamma > 0 and sigma < breakeven:
        warnings.append(f"expected realized vol {sigma:.1%} is below the break-even {breakeven:.1%}: expected loss")
    if regime_row is None and variance_ratio is None:
        warnings.append("no session regime given: no regime adjustment applied")

    ce_day = (cost_y + 0.5 * ra * var_y) / DAYS_PER_YEAR
    user = _assess_user_rule(user_rule_dollar_delta, user_rule_clock_minutes, gamma, spot, sigma, costs, ra, ce_day, tau, rate)
    if user is not None and user.loss_ratio > 1.25 * user.best_of_kind_ratio:
        warnings.append(f"your rule ({user.rule}) loses {user.loss_ratio:.1f}x the optimal band's certainty-equivalent "
                        f"cost (the best rule of its kind: {user.best_of_kind_ratio:.2f}x); it is optimal only for risk "
                        f"aversion {user.implied_risk_aversion:.3g}/$ (you gave {ra:.3g})")

    trades_day = trades_y / DAYS_PER_YEAR
    return Advice(
        legs=legs, template=template, spot=float(spot), iv=iv, realized_vol=sigma, realized_vol_assumed=assumed,
        rate=rate, costs=costs, risk_aversion=ra, risk_aversion_source=ra_source, regime_row=regime_row,
        greeks=greeks, min_days_to_expiry=tau * DAYS_PER_YEAR,
        hedge_target_shares=-greeks.delta_shares, band_shares=h, band_unadjusted_shares=h0,
        band_dollar_delta_usd=h * spot, execution=execution, min_order_shares=min_order,
        clock_interval_minutes=clock * DAYS_PER_YEAR * MINUTES_PER_DAY,
        mean_minutes_between_trades=(MINUTES_PER_DAY / trades_day) if trades_day > 0 else math.inf,
        expected_trades_per_day=trades_day,
        pnl_gamma_usd_per_day=gamma_pnl, pnl_theta_usd_per_day=carry, pnl_cost_usd_per_day=cost_day,
        hedging_error_std_usd_per_day=math.sqrt(var_y / DAYS_PER_YEAR),
        ce_loss_usd_per_day=ce_day, clock_ce_loss_usd_per_day=clock_ce, breakeven_vol=breakeven,
        regime_adjustment=replace(adjustment, factor=policy.factor),
        user_rule=user, warnings=tuple(warnings), variance_ratio=adjustment.variance_ratio,
    )


def _breakeven_vol(policy: BandPolicy, gamma: float, spot: float, tau: float, carry_usd_per_day: float) -> float | None:
    """Realized vol at which gamma revenue = carry + cost (the band held fixed), or None when there is none.

    Cost is nearly proportional to sigma^2 (exactly so in continuous monitoring), so the root is bracketed
    from the closed form of that limit and polished by bisection on the full rates.
    """
    if gamma == 0 or carry_usd_per_day == 0:
        return None

    # policy.rates(gamma, spot, sigma, tau) with what does not depend on sigma computed once (~400 evaluations)
    h = policy.half_width(gamma, spot, tau)
    outer, restart, lam = float(policy.outer(h)), float(policy.restart(h)), float(policy.costs.proportional(spot))
    fee, monitor = float(policy.costs.fee_usd_per_order), float(policy.costs.monitor_years)
    g, s = float(gamma), float(spot)

    def pnl(sigma: float) -> float:
        _, cost, _ = band_rates_scalar(outer, restart, g, s, sigma, lam, fee, monitor)
        return (0.5 * gamma * spot**2 * sigma**2 - float(cost)) / DAYS_PER_YEAR + carry_usd_per_day

    lo, hi = 1e-4, 10.0
    f_lo, f_hi = pnl(lo), pnl(hi)
    if not (math.isfinite(f_lo) and math.isfinite(f_hi)) or f_lo * f_hi > 0:
        return None
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        f_mid = pnl(mid)
        if (f_mid > 0) == (f_hi > 0):
            hi, f_hi = mid, f_mid
        else:
            lo, f_lo = mid, f_mid
        if hi / lo - 1 < 1e-15:
            break
    return 0.5 * (lo + hi)


def _assess_user_rule(dollar_delta: float | None, clock_minutes: float | None, gamma: float, spot: float, sigma: float,
                      costs: CostModel, ra: float, optimal_ce_day: float, tau: float, rate: float) -> UserRuleAssessment | None:
    if dollar_delta is None and clock_minutes is None:
        return None
    if dollar_delta is not None and clock_minutes is not None:
        raise ValueError("give one user rule: a dollar-delta threshold or a clock, not both")
    lam, fee = float(costs.proportional(spot)), costs.fee_usd_per_order
    if dollar_delta is not None:
        if not (math.isfinite(dollar_delta) and dollar_delta > 0):
            raise ValueError(f"user rule dollar delta {dollar_delta} must be a positive number of $")
        h = dollar_delta / spot
        _, c, v = band_rates(h, 0.0, gamma, spot, sigma, lam, fee, costs.monitor_years)
        implied = implied_risk_aversion_band(h, gamma, spot, costs, "reset", tau, rate) if gamma != 0 else math.nan
        hb = reset_half_width(gamma, spot, lam, fee, ra, tau, rate)
        _, cb, vb = band_rates(hb, 0.0, gamma, spot, sigma, lam, fee, costs.monitor_years)
        rule = f"reset to the target when |dollar delta| > ${dollar_delta:g}"
    else:
        if not (math.isfinite(clock_minutes) and clock_minutes > 0):
            raise ValueError(f"user rule clock {clock_minutes} must be a positive number of minutes")
        interval = clock_minutes / MINUTES_PER_DAY / DAYS_PER_YEAR
        c, v = clock_rates(interval, gamma, spot, sigma, lam, fee)
        implied = implied_risk_aversion_clock(interval, gamma, spot, sigma, costs) if gamma != 0 else math.nan
        best = optimal_clock_interval(gamma, spot, sigma, lam, fee, ra)
        cb, vb = clock_rates(best, gamma, spot, sigma, lam, fee) if math.isfinite(best) and best > 0 else (0.0, 0.0)
        rule = f"hedge to the target every {clock_minutes:g} minutes"
    ce = float(c + 0.5 * ra * v) / DAYS_PER_YEAR
    ratio = ce / optimal_ce_day if optimal_ce_day > 0 else math.inf
    best_ratio = float(cb + 0.5 * ra * vb) / DAYS_PER_YEAR / optimal_ce_day if optimal_ce_day > 0 else math.inf
    return UserRuleAssessment(rule, ce, optimal_ce_day, ratio, float(implied), best_ratio)
