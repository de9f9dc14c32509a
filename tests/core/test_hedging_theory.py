"""Closed-form hedging theory (gex.hedging.theory) against published values and independent checks."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from gex.greeks import bs_delta, bs_gamma, bs_price, bs_vega
from gex.hedging import theory as th

# ---------------------------------------------------------------- published values (docs test values)


def test_ahmad_wilmott_expected_pnl_doc_values():
    assert bs_price(100.0, 100.0, 0.0, 0.20, 30 / 365, True) == pytest.approx(2.28715, abs=5e-6)
    assert bs_vega(100.0, 100.0, 0.0, 0.20, 30 / 365) == pytest.approx(11.4326, abs=5e-5)
    assert th.expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.15) == pytest.approx(-0.57168, abs=5e-6)
    assert th.expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.30) == pytest.approx(1.14299, abs=5e-6)


def test_expected_pnl_scales_with_quantity_and_sign():
    one = th.expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.30)
    four_contracts = th.expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.30, quantity=4, multiplier=100)
    short = th.expected_hedged_pnl(100.0, 100.0, 30 / 365, 0.20, 0.30, quantity=-1)
    assert four_contracts == pytest.approx(400 * one)
    assert short == pytest.approx(-one)
    # put-call parity: same expected P&L for a put (zero rates)
    put = th.expected_hedged_pnl(100.0, 110.0, 30 / 365, 0.20, 0.30, is_call=False)
    call = th.expected_hedged_pnl(100.0, 110.0, 30 / 365, 0.20, 0.30, is_call=True)
    assert put == pytest.approx(call, rel=1e-10)
    vec = th.expected_hedged_pnl(100.0, [90.0, 100.0], 30 / 365, 0.2, [0.15, 0.3])
    assert vec.shape == (2,)


def test_quantlib_discrete_hedging_formula_and_value():
    # QuantLib DiscreteHedging example: short 1 call, S = K = 100, T = 1/12, sigma = 20%, r = 5%
    value = bs_price(100.0, 100.0, 0.05, 0.20, 1 / 12, True)
    vega = bs_vega(100.0, 100.0, 0.05, 0.20, 1 / 12)
    assert value == pytest.approx(2.51207, abs=5e-6)
    assert th.derman_kamal_std(0.20, vega, 21) == pytest.approx(0.4432, abs=5e-5)
    assert th.derman_kamal_std(0.20, vega, 84) == pytest.approx(0.2216, abs=5e-5)
    assert th.derman_kamal_std(0.20, -vega, 84) == th.derman_kamal_std(0.20, vega, 84)  # short position


def test_pfhedge_whalley_wilmott_vector():
    # pfhedge WhalleyWilmott docstring: EuropeanOption(BrownianStock(cost=1e-5)), a = 1, K = 1,
    # inputs (log_moneyness, expiry_time = 0.1, volatility = 0.2, prev_hedge = 0.5); pfhedge computes
    # spot = K exp(log_moneyness), gamma = BS gamma (r = 0), width = (cost 3/2 gamma^2 spot / a)^(1/3).
    lm = np.array([-0.05, -0.01, 0.0, 0.01, 0.05])
    spot = np.exp(lm)
    gamma = bs_gamma(spot, 1.0, 0.0, 0.2, 0.1)
    delta = bs_delta(spot, 1.0, 0.0, 0.2, 0.1, True)
    width = th.whalley_wilmott_halfwidth(gamma, spot, 1e-5, 1.0)
    hedge = np.clip(0.5, delta - width, delta + width)
    np.testing.assert_allclose(width, [0.0707, 0.0840, 0.0842, 0.0829, 0.0661], atol=5e-5)
    np.testing.assert_allclose(hedge, [0.2946, 0.5, 0.5, 0.5, 0.7284], atol=5e-5)
    np.testing.assert_allclose(delta, [0.2239, 0.4497, 0.5126, 0.5752, 0.7945], atol=5e-5)


def test_four_atm_contracts_table():
    gamma_pos = 400 * bs_gamma(100.0, 100.0, 0.0, 0.2, 30 / 365)
    assert gamma_pos == pytest.approx(27.82, abs=5e-3)
    widths = th.whalley_wilmott_halfwidth(gamma_pos, 100.0, 0.0005, np.array([0.002, 0.01, 0.05, 0.2]))
    np.testing.assert_allclose(widths, [30.7, 18.0, 10.5, 6.6], atol=0.05)


def test_leland_doc_values():
    assert th.leland_correction(0.2, 0.0005, 1 / 365) == pytest.approx(0.0762, abs=5e-5)
    assert th.leland_vol(0.2, 0.0005, 1 / 365, writer=False) == pytest.approx(0.19223, abs=5e-6)
    le = th.leland_correction(0.2, 0.0005, 1 / 365)
    assert th.leland_vol(0.2, 0.0005, 1 / 365, writer=True) == pytest.approx(0.2 * math.sqrt(1 + le), rel=1e-14)


def test_leland_holder_undefined():
    # 1-minute clock at 5 bp: Le = sqrt(2/pi) 0.001 / (0.2 sqrt(1/(365*390))) ~ 1.51 > 1
    with pytest.raises(ValueError, match="Leland correction"):
        th.leland_vol(0.2, 0.0005, 1 / (365 * 390), writer=False)
    out = th.leland_vol([0.2, 0.2], 0.0005, [1 / 365, 1 / (365 * 390)], writer=False, on_undefined="nan")
    assert out[0] == pytest.approx(0.19223, abs=5e-6) and math.isnan(out[1])
    assert math.isfinite(th.leland_vol(0.2, 0.0005, 1 / (365 * 390), writer=True))


# ---------------------------------------------------------------- optimality and ratios (independent numerics)

_S, _SIG, _LAM, _RA, _G = 100.0, 0.2, 0.0005, 0.01, 27.82


def _argmin(f, hi):
    return minimize_scalar(f, bounds=(1e-9 * hi, hi), method="bounded", options={"xatol": 1e-10 * hi}).x


def test_ww_minimises_edge_loss_and_cost_is_two_thirds():
    h_ww = th.whalley_wilmott_halfwidth(_G, _S, _LAM, _RA)
    h_num = _argmin(lambda h: th.band_ce_loss_rate(_G, _S, _SIG, h, _LAM, _RA, mode="edge"), 200.0)
    assert h_num == pytest.approx(h_ww, rel=1e-5)
    cost = th.band_cost_rate(_G, _S, _SIG, h_ww, _LAM, mode="edge")
    loss = th.band_ce_loss_rate(_G, _S, _SIG, h_ww, _LAM, _RA, mode="edge")
    assert cost / loss == pytest.approx(2 / 3, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    gamma=st.floats(1e-3, 1e4),
    spot=st.floats(1.0, 1e4),
    lam=st.sampled_from([0.0]) | st.floats(1e-7, 1e-2),
    fee=st.sampled_from([0.0]) | st.floats(1e-4, 50.0),
    ra=st.floats(1e-5, 1.0),
)
def test_combined_band_minimises_reset_loss(gamma, spot, lam, fee, ra):
    h = th.combined_band_halfwidth(gamma, spot, lam, fee, ra)
    if lam == 0 and fee == 0:
        assert h == 0.0
        return
    # the first-order condition holds, and the band minimises the reset CE loss rate
    lhs = ra * h**4 / 6
    assert lhs == pytest.approx(lam * spot * gamma**2 * h + 2 * fee * gamma**2, rel=1e-9)

    def loss(x):
        return th.band_ce_loss_rate(gamma, spot, 0.2, x, lam, ra, fee=fee, mode="reset")

    for x in (0.97 * h, 1.03 * h):
        assert loss(x) >= loss(h) * (1 - 1e-12)


def test_fee_band_is_combined_without_proportional_cost_and_minimises():
    h_fee = th.fee_band_halfwidth(_G, 1.0, _RA)
    assert th.combined_band_halfwidth(_G, _S, 0.0, 1.0, _RA) == pytest.approx(h_fee, rel=1e-12)
    h_num = _argmin(lambda h: th.band_ce_loss_rate(_G, _S, _SIG, h, 0.0, _RA, fee=1.0, mode="reset"), 500.0)
    assert h_num == pytest.approx(h_fee, rel=1e-5)
    # proportional-only reset band: (6 lambda S Gamma^2 / ra)^(1/3)
    assert th.combined_band_halfwidth(_G, _S, _LAM, 0.0, _RA) == pytest.approx(
        (6 * _LAM * _S * _G**2 / _RA) ** (1 / 3), rel=1e-12
    )


def test_optimal_clocks_minimise_clock_loss():
    dt_p = th.optimal_clock_interval_proportional(_G, _S, _SIG, _LAM, _RA)
    num = _argmin(lambda h: th.clock_ce_loss_rate(_G, _S, _SIG, h, _LAM, _RA), 0.1)
    assert num == pytest.approx(dt_p, rel=1e-5)
    dt_f = th.optimal_clock_interval_fee(_G, _S, _SIG, 1.0, _RA)
    num = _argmin(lambda h: th.clock_ce_loss_rate(_G, _S, _SIG, h, 0.0, _RA, fee=1.0), 0.1)
    assert num == pytest.approx(dt_f, rel=1e-5)
    # the reference measurement's best clock is "every 1/3 day" for this position
    assert 0.3 < dt_p * 365 < 0.45


def test_best_clock_over_best_band_ratios():
    h = th.whalley_wilmott_halfwidth(_G, _S, _LAM, _RA)
    band = th.band_ce_loss_rate(_G, _S, _SIG, h, _LAM, _RA, mode="edge")
    dt = th.optimal_clock_interval_proportional(_G, _S, _SIG, _LAM, _RA)
    clock = th.clock_ce_loss_rate(_G, _S, _SIG, dt, _LAM, _RA)
    assert clock / band == pytest.approx((12 / math.pi) ** (1 / 3), rel=1e-12)
    assert clock / band == pytest.approx(1.563, abs=5e-4)
    hf = th.fee_band_halfwidth(_G, 1.0, _RA)
    band_f = th.band_ce_loss_rate(_G, _S, _SIG, hf, 0.0, _RA, fee=1.0, mode="reset")
    dtf = th.optimal_clock_interval_fee(_G, _S, _SIG, 1.0, _RA)
    clock_f = th.clock_ce_loss_rate(_G, _S, _SIG, dtf, 0.0, _RA, fee=1.0)
    assert clock_f / band_f == pytest.approx(math.sqrt(3), rel=1e-12)


# ---------------------------------------------------------------- rates against a direct simulation of the mis-hedge


@nb.njit(cache=True)
def _edge_walk(n_paths, n_steps, dt, h, seed):
    """Mis-hedge as a Gaussian random walk (variance rate 1) clamped to [-h, h] (trade to the edge),
    started from its stationary uniform law: (shares traded per year, time-average of x^2)."""
    np.random.seed(seed)
    sd = math.sqrt(dt)
    traded = 0.0
    sq = 0.0
    for _ in range(n_paths):
        x = np.random.uniform(-h, h)
        for _ in range(n_steps):
            x += sd * np.random.standard_normal()
            y = min(max(x, -h), h)
            traded += abs(y - x)
            x = y
            sq += x * x
    return traded / (n_paths * n_steps * dt), sq / (n_paths * n_steps)


@nb.njit(cache=True)
def _reset_cycle(n_paths, dt, h, seed):
    """One reset cycle per path: a Gaussian random walk (variance rate 1) from 0 until |x| > h:
    (mean exit time, mean integral of x^2 over the cycle)."""
    np.random.seed(seed)
    sd = math.sqrt(dt)
    tau = 0.0
    integral = 0.0
    for _ in range(n_paths):
        x = 0.0
        while abs(x) <= h:
            integral += x * x * dt
            tau += dt
            x += sd * np.random.standard_normal()
    return tau / n_paths, integral / n_paths


# Discrete monitoring every dt moves a barrier out by 0.5826 sqrt(dt) (Siegmund's correction), the
# continuous-time formulas hold at that effective half-width.
_SIEGMUND = 0.5826


def test_edge_band_rates_match_direct_simulation():
    # variance rate v = 1 share^2/yr: Gamma S sigma = 1, e.g. Gamma = 0.05, S = 100, sigma = 0.2
    g, s, sig, h = 0.05, 100.0, 0.2, 1.0
    dt = 4e-4
    h_eff = h + _SIEGMUND * math.sqrt(dt)
    traded, ex2 = _edge_walk(1600, 25000, dt, h, 0)
    # shares traded per year = the cost rate at lambda S = 1; tolerance ~3 standard errors
    assert traded == pytest.approx(th.band_cost_rate(g, s, sig, h_eff, 1.0 / s), rel=0.02)
    assert ex2 == pytest.approx(th.band_mishedge_variance(h_eff, "edge"), rel=0.02)


def test_reset_band_rates_match_direct_simulation():
    g, s, sig, h = 0.05, 100.0, 0.2, 1.0
    dt = 4e-4
    h_eff = h + _SIEGMUND * math.sqrt(dt)
    tau, integral = _reset_cycle(16000, dt, h, 1)
    # renewal-reward: orders per year = 1 / E[tau]; time-average x^2 = E[int x^2] / E[tau]
    assert 1.0 / tau == pytest.approx(th.band_order_rate(g, s, sig, h_eff, "reset"), rel=0.02)
    assert integral / tau == pytest.approx(th.band_mishedge_variance(h_eff, "reset"), rel=0.03)
    # each order trades h shares: proportional cost = lambda S h x orders; fee cost = F x orders
    assert th.band_cost_rate(g, s, sig, h, 0.001, mode="reset") == pytest.approx(
        0.001 * s * h * th.band_order_rate(g, s, sig, h, "reset"), rel=1e-12
    )
    assert th.band_cost_rate(g, s, sig, h, 0.0, fee=1.0, mode="reset") == pytest.approx(
        th.band_order_rate(g, s, sig, h, "reset"), rel=1e-12
    )


def test_clock_rates_match_gaussian_monte_carlo():
    rng = np.random.default_rng(1)
    g, s, sig, h = 27.82, 100.0, 0.2, 1 / 365
    ds = s * sig * math.sqrt(h) * rng.standard_normal(2_000_000)
    err = 0.5 * g * (ds * ds - s * s * sig * sig * h)  # discrete-hedging error of one interval
    assert np.var(err) / h == pytest.approx(th.clock_pnl_variance_rate(g, s, sig, h), rel=0.01)
    cost = 0.0005 * s * np.abs(g * ds) + 1.0
    assert cost.mean() / h == pytest.approx(th.clock_cost_rate(g, s, sig, h, 0.0005, 1.0), rel=0.01)


# ---------------------------------------------------------------- scaling laws (hypothesis)


@settings(max_examples=100, deadline=None)
@given(
    gamma=st.floats(1e-4, 1e3),
    spot=st.floats(1.0, 1e4),
    lam=st.floats(1e-6, 1e-2),
    ra=st.floats(1e-5, 10.0),
    k=st.floats(0.1, 10.0),
)
def test_ww_scaling_laws(gamma, spot, lam, ra, k):
    h = th.whalley_wilmott_halfwidth(gamma, spot, lam, ra)
    assert th.whalley_wilmott_halfwidth(k * gamma, spot, lam, ra) == pytest.approx(k ** (2 / 3) * h, rel=1e-12)
    assert th.whalley_wilmott_halfwidth(gamma, spot, k * lam, ra) == pytest.approx(k ** (1 / 3) * h, rel=1e-12)
    assert th.whalley_wilmott_halfwidth(gamma, spot, lam, k * ra) == pytest.approx(k ** (-1 / 3) * h, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(gamma=st.floats(1e-4, 1e3), fee=st.floats(1e-3, 100.0), ra=st.floats(1e-5, 10.0), k=st.floats(0.1, 10.0))
def test_fee_band_scaling_laws(gamma, fee, ra, k):
    h = th.fee_band_halfwidth(gamma, fee, ra)
    assert th.fee_band_halfwidth(k * gamma, fee, ra) == pytest.approx(k**0.5 * h, rel=1e-12)
    assert th.fee_band_halfwidth(gamma, k * fee, ra) == pytest.approx(k**0.25 * h, rel=1e-12)
    assert th.fee_band_halfwidth(gamma, fee, k * ra) == pytest.approx(k**-0.25 * h, rel=1e-12)


# ---------------------------------------------------------------- gamma -> 0 and input validation


@pytest.mark.parametrize("gamma", [0.0, 1e-300, -1e-300, 5e-324, 1e-12])
def test_no_nan_as_gamma_goes_to_zero(gamma):
    vals = {
        "ww": th.whalley_wilmott_halfwidth(gamma, 100.0, 0.0005, 0.01),
        "fee": th.fee_band_halfwidth(gamma, 1.0, 0.01),
        "combined": th.combined_band_halfwidth(gamma, 100.0, 0.0005, 1.0, 0.01),
        "clock_p": th.optimal_clock_interval_proportional(gamma, 100.0, 0.2, 0.0005, 0.01),
        "clock_f": th.optimal_clock_interval_fee(gamma, 100.0, 0.2, 1.0, 0.01),
        "band_cost": th.band_cost_rate(gamma, 100.0, 0.2, 10.0, 0.0005, 1.0, "reset"),
        "band_cost_zero_h": th.band_cost_rate(gamma, 100.0, 0.2, 0.0, 0.0005, 0.0, "edge"),
        "clock_cost": th.clock_cost_rate(gamma, 100.0, 0.2, 1 / 365, 0.0005, 1.0),
        "clock_var": th.clock_pnl_variance_rate(gamma, 100.0, 0.2, np.inf),
        "orders": th.band_order_rate(gamma, 100.0, 0.2, 0.0, "reset"),
    }
    for name, v in vals.items():
        assert not math.isnan(v), name
    for name in ("ww", "fee", "combined"):
        assert 0.0 <= vals[name] < 1e-2, name
    assert vals["clock_p"] > 1e3 and vals["clock_f"] > 1e3  # years: never hedge a position without gamma
    if gamma == 0.0:
        assert vals["clock_p"] == math.inf and vals["clock_f"] == math.inf
        assert vals["band_cost"] == 0.0 and vals["clock_var"] == 0.0 and vals["orders"] == 0.0


def test_gamma_array_with_zeros_and_signs():
    g = np.array([0.0, 27.82, -27.82])
    h = th.whalley_wilmott_halfwidth(g, 100.0, 0.0005, 0.01)
    assert h[0] == 0.0 and h[1] == h[2] > 0
    h = th.combined_band_halfwidth(g, 100.0, 0.0005, 1.0, 0.01)
    assert h[0] == 0.0 and h[1] == h[2] > 0
    dt = th.optimal_clock_interval_proportional(g, 100.0, 0.2, 0.0005, 0.01)
    assert dt[0] == math.inf and dt[1] == dt[2]


def test_zero_cost_means_no_band_and_continuous_clock():
    assert th.whalley_wilmott_halfwidth(27.82, 100.0, 0.0, 0.01) == 0.0
    assert th.optimal_clock_interval_proportional(27.82, 100.0, 0.2, 0.0, 0.01) == 0.0
    assert th.optimal_clock_interval_fee(27.82, 100.0, 0.2, 0.0, 0.01) == 0.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: th.whalley_wilmott_halfwidth(1.0, 100.0, 0.0005, 0.0), "risk_aversion"),
        (lambda: th.whalley_wilmott_halfwidth(1.0, 100.0, -0.1, 0.01), "cost_rate"),
        (lambda: th.whalley_wilmott_halfwidth(np.nan, 100.0, 0.0005, 0.01), "gamma"),
        (lambda: th.fee_band_halfwidth(1.0, -1.0, 0.01), "fee"),
        (lambda: th.combined_band_halfwidth(1.0, 0.0, 0.0005, 1.0, 0.01), "spot"),
        (lambda: th.clock_cost_rate(1.0, 100.0, 0.2, 0.0, 0.0005), "interval_years"),
        (lambda: th.derman_kamal_std(0.2, 11.0, 0), "n_hedges"),
        (lambda: th.band_mishedge_variance(1.0, "middle"), "mode"),
        (lambda: th.leland_vol(0.2, 0.0005, 1 / 365, writer=False, on_undefined="ignore"), "on_undefined"),
    ],
)
def test_invalid_parameters_raise_one_line_errors(call, match):
    with pytest.raises(ValueError, match=match) as exc:
        call()
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("value", [1.5, 0.0, -2.0, math.nan, math.inf, -math.inf, np.float64(3.0), np.array(0.0),
                                   np.array(-1.0), np.int64(4)])
@pytest.mark.parametrize("rule", [{}, {"positive": True}, {"nonnegative": True}])
def test_scalar_checks_decide_as_the_array_checks(value, rule):
    """``_check`` of a scalar accepts and refuses exactly what it does for the same value in an array, with its message."""
    def outcome(x):
        try:
            return ("ok", float(np.reshape(th._check("x", x, **rule), -1)[0]))
        except ValueError as e:
            return ("error", str(e).replace(repr(x), "X"))

    scalar, array = outcome(value), outcome(np.array([value], dtype=float))
    assert scalar[0] == array[0]
    if scalar[0] == "ok":
        assert scalar[1] == array[1] and np.ndim(th._check("x", value, **rule)) == 0
    else:
        assert scalar[1] == array[1]
