"""The hedging advisor against independent references: the shared doc's numbers, pfhedge's test vector,
finite differences, hand-derived optima (numerical minimisation) and hypothesis properties."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from gex import advisor as adv
from gex.advisor import BandPolicy, CostModel, Leg
from gex.greeks import bs_price

S, K, T30 = 100.0, 100.0, 30 / 365
ATM4 = (Leg(100.0, 30, "call", 4),)
GAMMA_ATM4 = 27.8194  # shares per $, the doc's 27.82


# --- position greeks -------------------------------------------------------------------------------


def test_position_greeks_match_doc_and_finite_differences():
    one = (Leg(100.0, 30, "call", 1, multiplier=1.0),)
    g = adv.position_greeks(one, S, 0.2)
    assert g.value_usd == pytest.approx(2.28715, abs=5e-6)  # doc: C = 2.28715
    assert g.vega_usd_per_volpt * 100 == pytest.approx(11.4326, abs=5e-5)  # doc: vega = 11.4326
    assert adv.position_greeks(ATM4, S, 0.2).gamma_shares_per_usd == pytest.approx(GAMMA_ATM4, abs=5e-4)
    legs = (Leg(95.0, 20, "put", -3, iv=0.25), Leg(105.0, 45, "call", 2, iv=0.18))
    h = 1e-3
    val = lambda s: adv.position_greeks(legs, s).value_usd  # noqa: E731
    dlt = lambda s: adv.position_greeks(legs, s).delta_shares  # noqa: E731
    p = adv.position_greeks(legs, S)
    assert p.delta_shares == pytest.approx((val(S + h) - val(S - h)) / (2 * h), rel=1e-6)
    assert p.gamma_shares_per_usd == pytest.approx((dlt(S + h) - dlt(S - h)) / (2 * h), rel=1e-6)
    later = tuple(Leg(x.strike, x.days_to_expiry - 0.01, x.right, x.contracts, iv=x.iv) for x in legs)
    assert p.theta_usd_per_day == pytest.approx((adv.position_greeks(later, S).value_usd - p.value_usd) / 0.01, rel=1e-4)
    # r = 0: the hedged carry is the BS theta
    assert p.carry_usd_per_day == pytest.approx(p.theta_usd_per_day, rel=1e-12)


# --- bands -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ra", "expected"), [(0.002, 30.7), (0.01, 18.0), (0.05, 10.5), (0.2, 6.6)])
def test_ww_half_width_doc_values(ra, expected):
    assert adv.ww_half_width(GAMMA_ATM4, S, 5e-4, ra) == pytest.approx(expected, abs=0.05)
    a = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5), risk_aversion=ra)
    assert a.band_shares == pytest.approx(expected, abs=0.05)
    assert a.band_dollar_delta_usd == pytest.approx(a.band_shares * S)
    assert a.execution == "edge"


def test_pfhedge_ww_vector_half_width_and_edge_trade():
    """pfhedge's WhalleyWilmott test: cost 1e-5, a = 1, K = 1, tau = 0.1, sigma = 0.2, prev hedge 0.5."""
    lm = np.array([-0.05, -0.01, 0.0, 0.01, 0.05])
    spot = np.exp(lm)
    legs = (Leg(1.0, 0.1 * 365, "call", 1, multiplier=1.0, iv=0.2),)
    gamma = adv.position_gamma(legs, spot, 0.0)
    h = adv.ww_half_width(gamma, spot, 1e-5, 1.0)
    np.testing.assert_allclose(h, [0.0707, 0.0840, 0.0842, 0.0829, 0.0661], atol=6e-5)
    delta = np.array([adv.position_greeks(legs, s).delta_shares for s in spot])
    np.testing.assert_allclose(delta, [0.2239, 0.4497, 0.5126, 0.5752, 0.7945], atol=6e-5)
    policy = BandPolicy("edge", 1.0, CostModel(cost_bps=0.1), 0.0)
    state = SimpleNamespace(step=0, t_years=0.0, tau_years=0.1, spot=spot, hedge=np.full(5, 0.5), target=delta,
                            gamma=gamma, sigma=0.2, trades_today=np.zeros(5), steps_per_day=390)
    np.testing.assert_allclose(adv.AdvisorStrategy(policy).rebalance(state), [0.2946, 0.5, 0.5, 0.5, 0.7284], atol=1e-4)


def _numeric_optimum(execution, gamma, lam, fee, ra):
    def ce(logh):
        h = math.exp(logh)
        r = h if execution == "edge" else 0.0
        _, c, v = adv.band_rates(h, r, gamma, S, 0.2, lam, fee, 0.0)
        return float(c + 0.5 * ra * v)

    return math.exp(minimize_scalar(ce, bounds=(-8, 8), method="bounded", options={"xatol": 1e-11}).x)


@pytest.mark.parametrize("ra", [0.002, 0.01, 0.2])
def test_band_formulas_are_the_optima_of_the_rate_model(ra):
    assert adv.ww_half_width(GAMMA_ATM4, S, 5e-4, ra) == pytest.approx(_numeric_optimum("edge", GAMMA_ATM4, 5e-4, 0, ra), rel=1e-5)
    for lam, fee in ((5e-4, 1.0), (0.0, 1.0), (5e-4, 0.0), (1e-4, 5.0)):
        h = adv.reset_half_width(GAMMA_ATM4, S, lam, fee, ra)
        assert h == pytest.approx(_numeric_optimum("reset", GAMMA_ATM4, lam, fee, ra), rel=1e-5)
        # it is the quartic's root
        assert ra * h**4 / 6 - lam * S * GAMMA_ATM4**2 * h - 2 * fee * GAMMA_ATM4**2 == pytest.approx(0, abs=1e-9 * ra * h**4)
    assert adv.reset_half_width(GAMMA_ATM4, S, 0.0, 1.0, ra) == pytest.approx(adv.fee_half_width(GAMMA_ATM4, 1.0, ra), rel=1e-12)


def test_ww_cost_is_two_thirds_of_the_loss_and_matches_the_simulator_theory():
    from gex.hedging import theory

    h = adv.ww_half_width(GAMMA_ATM4, S, 5e-4, 0.01)
    _, c, v = adv.band_rates(h, h, GAMMA_ATM4, S, 0.2, 5e-4, 0.0, 0.0)
    assert c / (c + 0.005 * v) == pytest.approx(2 / 3, rel=1e-12)
    # independent implementation (gex.hedging.theory, written separately)
    assert c == pytest.approx(theory.band_cost_rate(GAMMA_ATM4, S, 0.2, h, 5e-4), rel=1e-12)
    assert v == pytest.approx(theory.band_pnl_variance_rate(S, 0.2, h, "edge"), rel=1e-12)
    hr = adv.reset_half_width(GAMMA_ATM4, S, 5e-4, 1.0, 0.01)
    assert hr == pytest.approx(theory.combined_band_halfwidth(GAMMA_ATM4, S, 5e-4, 1.0, 0.01), rel=1e-9)
    _, c, v = adv.band_rates(hr, 0.0, GAMMA_ATM4, S, 0.2, 5e-4, 1.0, 0.0)
    assert c == pytest.approx(theory.band_cost_rate(GAMMA_ATM4, S, 0.2, hr, 5e-4, 1.0, "reset"), rel=1e-12)


def test_band_rates_renewal_formulas_by_hand():
    # reset band B = 10 with a = Gamma S sigma = 1 * 100 * 0.2 = 20 shares/sqrt(yr): 400/100 = 4 trades a year
    trades, cost, var = adv.band_rates(10.0, 0.0, 1.0, 100.0, 0.2, 1e-3, 2.0, 0.0)
    assert trades == pytest.approx(4.0)
    assert cost == pytest.approx(4 * (2.0 + 1e-3 * 100 * 10))
    assert var == pytest.approx(100**2 * 0.04 * 100 / 6)
    # edge with a minimum order of 2: restart at 10, barrier 12: 400 / (144 - 100) trades of 2 shares
    trades, cost, var = adv.band_rates(12.0, 10.0, 1.0, 100.0, 0.2, 1e-3, 0.0, 0.0)
    assert trades == pytest.approx(400 / 44)
    assert cost == pytest.approx(400 / 44 * 1e-3 * 100 * 2)
    assert var == pytest.approx(100**2 * 0.04 * (144 + 100) / 6)


# --- clocks ----------------------------------------------------------------------------------------


def test_optimal_clock_closed_forms_and_loss_ratios():
    g, lam, ra, sig = GAMMA_ATM4, 5e-4, 0.01, 0.2
    dt_prop = adv.optimal_clock_interval(g, S, sig, lam, 0.0, ra)
    assert dt_prop == pytest.approx((2 * math.sqrt(2 / math.pi) * lam / (ra * g * S**2 * sig**3)) ** (2 / 3), rel=1e-12)
    dt_fee = adv.optimal_clock_interval(g, S, sig, 0.0, 1.0, ra)
    assert dt_fee == pytest.approx(2 * math.sqrt(1.0 / ra) / (g * S**2 * sig**2), rel=1e-12)

    def clock_ce(d, lam_, fee):
        c, v = adv.clock_rates(d, g, S, sig, lam_, fee)
        return float(c + 0.5 * ra * v)

    # both costs: the bisection hits the numerical minimum
    dt_both = adv.optimal_clock_interval(g, S, sig, lam, 1.0, ra)
    res = minimize_scalar(lambda x: clock_ce(math.exp(x), lam, 1.0), bounds=(-20, 0), method="bounded", options={"xatol": 1e-10})
    assert dt_both == pytest.approx(math.exp(res.x), rel=1e-4)
    # best clock / best band: (12/pi)^(1/3) = 1.563 (proportional), sqrt(3) (fee)
    h = adv.ww_half_width(g, S, lam, ra)
    _, c, v = adv.band_rates(h, h, g, S, sig, lam, 0.0, 0.0)
    assert clock_ce(dt_prop, lam, 0.0) / (c + 0.5 * ra * v) == pytest.approx(1.563, abs=5e-4)
    hf = adv.fee_half_width(g, 1.0, ra)
    _, c, v = adv.band_rates(hf, 0.0, g, S, sig, 0.0, 1.0, 0.0)
    assert clock_ce(dt_fee, 0.0, 1.0) / (c + 0.5 * ra * v) == pytest.approx(math.sqrt(3), rel=1e-9)


def test_clock_interval_reported_in_minutes():
    a = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5), risk_aversion=0.01)
    dt = adv.optimal_clock_interval(GAMMA_ATM4, S, 0.2, 5e-4, 0.0, 0.01)
    assert a.clock_interval_minutes == pytest.approx(dt * 365 * 390, rel=1e-3)
    assert a.clock_ce_loss_usd_per_day / a.ce_loss_usd_per_day > 1.4  # the band beats the best clock


# --- expected P&L, break-even ------------------------------------------------------------------------


@pytest.mark.parametrize(("sigma_r", "expected"), [(0.15, -0.57168), (0.30, 1.14299)])
def test_lifetime_gross_pnl_is_the_price_difference(sigma_r, expected):
    """Integrating 1/2 Gamma S^2 (sigma_r^2 - sigma_i^2) over time and the spot law gives C(sigma_r) - C(sigma_i)."""
    one = (Leg(100.0, 30, "call", 1, multiplier=1.0),)
    policy = BandPolicy("edge", 0.01, CostModel(5), 0.0)
    f = adv.forecast(one, S, policy, sigma_r, iv=0.2, n_time=128, n_space=2001)
    assert f.gross_pnl_usd == pytest.approx(expected, abs=2e-4)
    assert expected == pytest.approx(bs_price(S, K, 0, sigma_r, T30, True) - bs_price(S, K, 0, 0.2, T30, True), abs=1e-5)


def test_daily_pnl_split_and_zero_cost_breakeven_is_the_implied_vol():
    a = adv.advise(ATM4, spot=S, iv=0.2, realized_vol=0.25, costs=CostModel(0), risk_aversion=0.01)
    assert a.pnl_gamma_usd_per_day == pytest.approx(0.5 * GAMMA_ATM4 * S**2 * 0.25**2 / 365, rel=1e-4)
    assert a.pnl_theta_usd_per_day == pytest.approx(a.greeks.theta_usd_per_day, rel=1e-12)  # r = 0
    assert a.pnl_cost_usd_per_day == 0
    assert a.breakeven_vol == pytest.approx(0.2, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    contracts=st.floats(0.5, 50), bps=st.floats(0.5, 30), fee=st.sampled_from([0.0, 0.5, 2.0]),
    ra=st.floats(1e-3, 0.5), rv=st.floats(0.08, 0.6), days=st.floats(8, 200), short=st.booleans(),
)
def test_breakeven_vol_makes_expected_pnl_zero(contracts, bps, fee, ra, rv, days, short):
    legs = (Leg(100.0, days, "call", -contracts if short else contracts),)
    costs = CostModel(bps, fee_usd_per_order=fee)
    a = adv.advise(legs, spot=S, iv=0.2, realized_vol=rv, costs=costs, risk_aversion=ra)
    if a.breakeven_vol is None:
        assert not short  # a short-gamma position always has one (theta income)
        return
    b = adv.advise(legs, spot=S, iv=0.2, realized_vol=a.breakeven_vol, costs=costs, risk_aversion=ra)
    assert b.band_shares == pytest.approx(a.band_shares, rel=1e-12)  # the band does not depend on sigma
    assert abs(b.pnl_total_usd_per_day) <= 1e-9 * max(1.0, abs(b.pnl_theta_usd_per_day))


# --- scaling properties and gamma -> 0 ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.floats(0.5, 40), k=st.floats(1.1, 20), bps=st.floats(0.2, 50), ra=st.floats(1e-4, 1.0))
def test_band_scaling_laws(n, k, bps, ra):
    def band(contracts, cost, risk):
        return adv.advise((Leg(100.0, 30, "call", contracts),), spot=S, iv=0.2, costs=CostModel(cost),
                          risk_aversion=risk).band_shares

    b = band(n, bps, ra)
    assert band(n * k, bps, ra) / b == pytest.approx(k ** (2 / 3), rel=1e-9)
    assert band(n, bps * k, ra) / b == pytest.approx(k ** (1 / 3), rel=1e-9)
    assert band(n, bps, ra * k) / b == pytest.approx(k ** (-1 / 3), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(gamma=st.one_of(st.just(0.0), st.floats(1e-300, 1e-3)), fee=st.sampled_from([0.0, 1.0]), bps=st.sampled_from([0.0, 5.0]))
def test_no_nan_as_gamma_goes_to_zero(gamma, fee, bps):
    lam = bps * 1e-4
    for h in (adv.ww_half_width(gamma, S, lam, 0.01), adv.reset_half_width(gamma, S, lam, fee, 0.01)):
        assert np.isfinite(h) and h >= 0
        for r in ((h, 0.0) if fee == 0 else (0.0,)):  # the advisor trades to the edge only without a fee
            assert all(np.isfinite(x) for x in adv.band_rates(h, r, gamma, S, 0.2, lam, fee, 1e-5))
    assert not math.isnan(adv.optimal_clock_interval(gamma, S, 0.2, lam, fee, 0.01))


def test_far_otm_position_gives_clean_json():
    legs = (Leg(400.0, 10, "call", 1),)  # gamma underflows to ~0
    a = adv.advise(legs, spot=S, iv=0.2, costs=CostModel(5, fee_usd_per_order=1.0), risk_aversion=0.01)
    text = json.dumps(a.to_dict(), allow_nan=False)
    assert a.band_shares >= 0 and a.expected_trades_per_day == 0
    assert "NaN" not in text


# --- risk preference conversions --------------------------------------------------------------------


@pytest.mark.parametrize("fee", [0.0, 1.0])
def test_target_std_round_trip(fee):
    costs = CostModel(5, fee_usd_per_order=fee, monitor_minutes=1e-14)  # the conversion is continuous-time
    a = adv.advise(ATM4, spot=S, iv=0.2, costs=costs, target_std_usd_per_day=8.0)
    assert a.hedging_error_std_usd_per_day == pytest.approx(8.0, rel=1e-6)
    b = adv.advise(ATM4, spot=S, iv=0.2, costs=costs, risk_aversion=a.risk_aversion)
    assert b.band_shares == pytest.approx(a.band_shares, rel=1e-9)


def test_implied_risk_aversion_inverts_the_bands():
    costs = CostModel(5, fee_usd_per_order=1.0)
    h = adv.reset_half_width(GAMMA_ATM4, S, 5e-4, 1.0, 0.03)
    assert adv.implied_risk_aversion_band(float(h), GAMMA_ATM4, S, costs, "reset") == pytest.approx(0.03, rel=1e-9)
    h = adv.ww_half_width(GAMMA_ATM4, S, 5e-4, 0.07)
    assert adv.implied_risk_aversion_band(float(h), GAMMA_ATM4, S, CostModel(5), "edge") == pytest.approx(0.07, rel=1e-9)
    dt = adv.optimal_clock_interval(GAMMA_ATM4, S, 0.2, 5e-4, 1.0, 0.02)
    assert adv.implied_risk_aversion_clock(dt, GAMMA_ATM4, S, 0.2, costs) == pytest.approx(0.02, rel=1e-6)


@pytest.mark.parametrize("contracts", [3, 4, 5])
def test_500_dollar_rule_is_flagged_as_far_too_tight(contracts):
    """Doc: a $500 notional reset is about 4.6-6.7x the WW loss for 3-5 contracts at 5 bp."""
    legs = (Leg(100.0, 30, "call", contracts),)
    a = adv.advise(legs, spot=S, iv=0.2, costs=CostModel(5), risk_aversion=0.01, user_rule_dollar_delta=500)
    assert 3.5 < a.user_rule.loss_ratio < 8.0
    assert a.user_rule.implied_risk_aversion > 10 * 0.01
    assert any("your rule" in w for w in a.warnings)
    fee = adv.advise(legs, spot=S, iv=0.2, costs=CostModel(5, fee_usd_per_order=1.0), risk_aversion=0.01,
                     user_rule_dollar_delta=500)
    assert fee.user_rule.loss_ratio > a.user_rule.loss_ratio  # with a $1 fee it is worse still


def test_clock_user_rule_near_optimal_is_not_flagged():
    a = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5), risk_aversion=0.01)
    b = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5), risk_aversion=0.01,
                   user_rule_clock_minutes=a.clock_interval_minutes)
    assert b.user_rule.implied_risk_aversion == pytest.approx(0.01, rel=1e-3)
    assert b.user_rule.loss_ratio == pytest.approx(a.clock_ce_loss_usd_per_day / a.ce_loss_usd_per_day, rel=1e-3)
    assert not any("your rule" in w for w in b.warnings)


# --- regime --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("regime", "contracts", "widen"), [
    ("negative", 4, True), ("negative", -4, False), ("positive", 4, False), ("positive", -4, True)])
@pytest.mark.parametrize("fee", [0.0])
def test_regime_direction_and_gbm_loss_bound(regime, contracts, widen, fee):
    legs = (Leg(100.0, 30, "call", contracts),)
    costs = CostModel(5, fee_usd_per_order=fee)
    a = adv.advise(legs, spot=S, iv=0.2, costs=costs, risk_aversion=0.01, regime_row={"regime": regime, "flip_distance_pct": -3.0})
    f = a.regime_adjustment.factor
    assert (f > 1.03) if widen else (f < 0.95)
    assert a.band_shares == pytest.approx(f * a.band_unadjusted_shares)
    assert ("widened" if widen else "tightened") in a.regime_adjustment.reason
    g = a.greeks.gamma_shares_per_usd
    budget = adv.REGIME_WIDEN_BUDGET if widen else adv.REGIME_TIGHTEN_BUDGET
    ratio = adv.loss_ratio(a.policy, f, g, S, 0.2, 30 / 365)
    assert ratio == pytest.approx(1 + budget, abs=1e-6)
    # the edge WW loss curve is 2/(3f) + f^2/3 (hand derivation)
    if fee == 0:
        assert 2 / (3 * f) + f * f / 3 == pytest.approx(1 + budget, abs=1e-6)


def test_regime_not_applied_to_fee_reset_band():
    a = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5, fee_usd_per_order=1.0), regime_row={"regime": "negative"})
    assert a.execution == "reset" and a.regime_adjustment.factor == 1.0
    assert "not applied" in a.regime_adjustment.reason


def test_regime_neutral_missing_and_near_flip():
    base = {"spot": S}
    assert adv.advise(ATM4, spot=S, iv=0.2, regime_row=None).regime_adjustment.factor == 1.0
    assert adv.advise(ATM4, spot=S, iv=0.2, regime_row={**base, "regime": "neutral"}).regime_adjustment.factor == 1.0
    full = adv.advise(ATM4, spot=S, iv=0.2, regime_row={"regime": "negative", "flip_distance_pct": 2.0}).regime_adjustment
    half = adv.advise(ATM4, spot=S, iv=0.2, regime_row={"regime": "negative", "flip_distance_pct": 0.2}).regime_adjustment
    assert half.factor == pytest.approx(math.sqrt(full.factor))
    assert "half strength" in half.reason


# --- warnings, cap, strategy --------------------------------------------------------------------------


def test_warnings():
    near = adv.advise((Leg(100.0, 5, "call", 4),), spot=S, iv=0.2)
    assert any("days to expiry" in w for w in near.warnings)
    assert any("exploding gamma" in w for w in adv.advise((Leg(100.0, 4, "call", 4),), spot=S, iv=0.2).warnings)
    assert not any("exploding gamma" in w for w in adv.advise((Leg(100.0, 8, "call", 4),), spot=S, iv=0.2).warnings)
    far = adv.advise(ATM4, spot=S, iv=0.2)
    assert not any("days to expiry" in w or "exploding" in w for w in far.warnings)
    assert any("vega +45.73" in w and "theta -15.24" in w for w in far.warnings)
    pricey = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(12))
    assert any("per adjustment" in w for w in pricey.warnings)
    assert not any("per adjustment" in w for w in adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(3)).warnings)


def test_trade_cap_widens_the_band():
    free = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5, min_order_shares=0.5), risk_aversion=0.01)
    capped = adv.advise(ATM4, spot=S, iv=0.2, costs=CostModel(5, min_order_shares=0.5, max_trades_per_day=2),
                        risk_aversion=0.01)
    assert free.expected_trades_per_day > 2
    assert capped.expected_trades_per_day == pytest.approx(2, rel=1e-6)
    assert capped.band_shares > free.band_shares
    assert any("cap" in w for w in capped.warnings)


def test_strategy_reset_min_order_and_cap():
    policy = BandPolicy("reset", 0.01, CostModel(5, fee_usd_per_order=1.0, max_trades_per_day=3), 0.0)
    h = float(policy.half_width(GAMMA_ATM4, S, T30))
    n = 4
    state = SimpleNamespace(step=5, t_years=0.0, tau_years=T30, spot=np.full(n, S),
                            hedge=np.array([0.0, h * 0.9, -h * 1.1, 2 * h]), target=np.zeros(n),
                            gamma=np.full(n, GAMMA_ATM4), sigma=0.2, trades_today=np.array([0, 0, 0, 3]), steps_per_day=390)
    out = adv.AdvisorStrategy(policy).rebalance(state)
    np.testing.assert_allclose(out, [0.0, h * 0.9, 0.0, 2 * h])  # inside, inside, reset, capped
    edge = BandPolicy("edge", 0.01, CostModel(5, min_order_shares=2.0), 0.0)
    he = float(edge.half_width(GAMMA_ATM4, S, T30))
    state.hedge = np.array([he + 1.0, he + 3.0, -he - 5, 0.0])
    out = adv.AdvisorStrategy(edge).rebalance(SimpleNamespace(**{**vars(state), "trades_today": np.zeros(n)}))
    np.testing.assert_allclose(out, [he + 1.0, he, -he, 0.0])


# --- templates, JSON, rows --------------------------------------------------------------------------


def test_templates():
    straddle = adv.template_legs("long-atm-straddle-30d", 5000.0, 0.15)
    assert [(x.right, x.contracts, x.strike, x.days_to_expiry) for x in straddle] == [("call", 1, 5000.0, 30), ("put", 1, 5000.0, 30)]
    (otm,) = adv.template_legs("long-otm-calls", 200.0)
    assert otm.contracts == 4 and 1.01 <= otm.strike / 200.0 <= 1.05 and 14 <= otm.days_to_expiry <= 60
    with pytest.raises(ValueError, match="unknown template"):
        adv.template_legs("nope", 100.0)


def test_to_dict_keys_and_json():
    a = adv.advise(template="long-otm-calls", spot=S, iv=0.2, user_rule_dollar_delta=500,
                   regime_row={"regime": "positive", "flip_distance_pct": -1.0, "session": __import__("datetime").date(2024, 1, 5)})
    d = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    for key in ("band_shares", "band_dollar_delta", "execution", "clock_interval_minutes", "expected_trades_per_day",
                "breakeven_vol", "warnings", "inputs", "units"):
        assert key in d
    assert set(d["expected_daily_pnl"]) >= {"gamma", "theta", "cost", "hedging_error_std", "total"}
    assert set(d["regime_adjustment"]) >= {"factor", "reason"}
    p = d["expected_daily_pnl"]
    assert p["total"] == pytest.approx(p["gamma"] + p["theta"] - p["cost"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"spot": -1.0, "template": "long-atm-calls-4", "iv": 0.2}, "spot"),
    ({"spot": 100.0, "template": "long-atm-calls-4"}, "implied vol"),
    ({"spot": 100.0, "template": "long-atm-calls-4", "iv": 20.0}, "iv 20.0"),
    ({"spot": 100.0, "iv": 0.2}, "position"),
    ({"spot": 100.0, "template": "long-atm-calls-4", "iv": 0.2, "risk_aversion": -1.0}, "risk aversion"),
    ({"spot": 100.0, "template": "long-atm-calls-4", "iv": 0.2, "risk_aversion": 0.1, "target_std_usd_per_day": 5.0}, "not both"),
    ({"spot": 100.0, "template": "long-atm-calls-4", "iv": 0.2, "realized_vol": 15.0}, "realized vol"),
    ({"spot": 100.0, "template": "long-atm-calls-4", "iv": 0.2, "user_rule_dollar_delta": -5.0}, "dollar delta"),
])
def test_bad_input_raises_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adv.advise(**kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"strike": 0.0, "days_to_expiry": 30, "right": "call", "contracts": 1}, "strike"),
    ({"strike": 100.0, "days_to_expiry": 0, "right": "call", "contracts": 1}, "expired"),
    ({"strike": 100.0, "days_to_expiry": 30, "right": "straddle", "contracts": 1}, "right"),
    ({"strike": 100.0, "days_to_expiry": 30, "right": "put", "contracts": 0}, "contracts"),
])
def test_bad_legs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Leg(**kwargs)
    with pytest.raises(ValueError, match="cost_bps"):
        CostModel(cost_bps=-1)


@pytest.mark.parametrize("module", sorted((Path(adv.__file__).parent).glob("*.py")), ids=lambda p: p.name)
def test_advisor_subpackage_is_pure(module):
    """test_core_is_pure globs gex/*.py only: apply its rules to the advisor subpackage too."""
    from tests.core.test_core_is_pure import test_module_is_pure

    test_module_is_pure(module)


@settings(max_examples=300, deadline=None)
@given(
    outer=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)), restart_share=st.sampled_from([0.0, 0.3, 1.0, 1.5]),
    gamma=st.one_of(st.just(0.0), st.floats(-1e3, 1e3), st.floats(1e-300, 1e-90)), spot=st.floats(0.5, 1e5),
    sigma=st.floats(1e-4, 3.0), lam=st.one_of(st.just(0.0), st.floats(0.0, 1e-2)), fee=st.sampled_from([0.0, 1.0, 7.5]),
    monitor=st.sampled_from([0.0, 1 / (252 * 390), 1e-3]),
)
def test_scalar_band_rates_equal_the_array_ones_bit_for_bit(outer, restart_share, gamma, spot, sigma, lam, fee, monitor):
    from gex.advisor.bands import band_rates_scalar

    args = (outer, outer * restart_share, gamma, spot, sigma, lam, fee, monitor)
    fast = band_rates_scalar(*args)
    plain = tuple(float(x) for x in adv.band_rates(*args))
    assert [repr(x) for x in fast] == [repr(x) for x in plain]


def test_scalar_band_rates_hand_back_non_finite_inputs_to_the_array_path():
    from gex.advisor.bands import band_rates_scalar

    args = (math.inf, 0.0, 1.0, 100.0, 0.2, 1e-3, 0.0, 0.0)
    with np.errstate(invalid="ignore"):
        plain = [repr(float(x)) for x in adv.band_rates(*args)]
        assert [repr(x) for x in band_rates_scalar(*args)] == plain
