"""Early-exercise flags (gex.early_exercise) against an independent American binomial (CRR) reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gex import greeks
from gex.early_exercise import CALL_BEFORE_EX_DIVIDEND, DEEP_ITM_PUT, REASONS, early_exercise_flags


def crr(spot, strike, rate, sigma, t, call, *, dividend=0.0, t_ex=math.inf, steps=800, american=True):
    """Cox-Ross-Rubinstein tree on the escrowed-dividend spot ``S - PV(D)``; exercise value adds back the PV of
    a dividend not yet paid. Plain Python/numpy, written independently of the module under test."""
    dt = t / steps
    u = math.exp(sigma * math.sqrt(dt))
    d = 1 / u
    p = (math.exp(rate * dt) - d) / (u - d)
    disc = math.exp(-rate * dt)
    pv = dividend * math.exp(-rate * t_ex) if t_ex < t else 0.0
    j = np.arange(steps + 1)
    s_star = (spot - pv) * u ** (steps - 2 * j)
    value = np.maximum(s_star - strike, 0.0) if call else np.maximum(strike - s_star, 0.0)
    for i in range(steps - 1, -1, -1):
        value = disc * (p * value[:-1] + (1 - p) * value[1:])
        if american:
            now = i * dt
            unpaid = dividend * math.exp(-rate * (t_ex - now)) if now < t_ex < t else 0.0
            s = (spot - pv) * u ** (i - 2 * np.arange(i + 1)) + unpaid
            value = np.maximum(value, s - strike if call else strike - s)
    return float(value[0])


def test_doctest_case_and_reasons():
    r = early_exercise_flags([50.0, 100.0], 100.0, 0.05, 1.0, False, [50.5, 5.57])
    assert r.flag.tolist() == [True, False]
    assert [REASONS[c] for c in r.reason] == ["deep_itm_put", None]
    assert r.carry[0] == pytest.approx(100 * (1 - math.exp(-0.05)))


def test_puts_against_american_tree():
    spots = np.arange(50.0, 141.0, 5.0)
    k, rate, sigma, t = 100.0, 0.05, 0.25, 1.0
    euro = greeks.bs_price(spots, k, rate, sigma, t, False)
    premium = np.array([crr(s, k, rate, sigma, t, False) for s in spots]) - euro
    r = early_exercise_flags(spots, k, rate, t, False, euro)
    assert r.flag.any() and not r.flag.all()
    assert set(r.reason[r.flag]) == {DEEP_ITM_PUT}
    # every flagged put carries a real early-exercise premium, every large premium is flagged
    assert (premium[r.flag] > 0.2).all()
    assert r.flag[premium > 1.0].all()
    # out-of-the-money puts are never flagged, and their premium is small
    assert not r.flag[spots >= k].any()
    # no interest, no reason to exercise a put early (without dividends): nothing flagged
    euro0 = greeks.bs_price(spots, k, 0.0, sigma, t, False)
    assert not early_exercise_flags(spots, k, 0.0, t, False, euro0).flag.any()


def test_calls_before_ex_dividend_against_american_tree():
    strikes = np.arange(60.0, 121.0, 5.0)
    s, rate, sigma, t, d, t_ex = 100.0, 0.05, 0.25, 0.5, 3.0, 0.25
    pv = d * math.exp(-rate * t_ex)
    euro = greeks.bs_price(s - pv, strikes, rate, sigma, t, True)  # escrowed-dividend European value
    american = np.array([crr(s, kk, rate, sigma, t, True, dividend=d, t_ex=t_ex) for kk in strikes])
    premium = american - euro
    r = early_exercise_flags(s, strikes, rate, t, True, euro, dividend=d, ex_dividend_years=t_ex)
    assert r.flag.any() and set(r.reason[r.flag]) == {CALL_BEFORE_EX_DIVIDEND}
    assert (premium[r.flag] > 0.05).all()
    # a screen, not a price: near-the-money calls whose whole-life time value exceeds the dividend are left
    # out although their premium is not zero (0.38 at K=95 here); every premium above 0.5% of spot is caught
    assert r.flag[premium > 0.5].all()
    # the same calls with the ex-date after expiry, or no dividend: American = European, nothing flagged
    late = early_exercise_flags(s, strikes, rate, t, True, euro, dividend=d, ex_dividend_years=t + 0.1)
    assert not late.flag.any()
    plain = greeks.bs_price(s, strikes, rate, sigma, t, True)
    assert not early_exercise_flags(s, strikes, rate, t, True, plain).flag.any()
    assert crr(s, 90.0, rate, sigma, t, True) == pytest.approx(float(greeks.bs_price(s, 90.0, rate, sigma, t, True)), abs=0.02)


def test_small_dividend_below_strike_carry_is_not_flagged():
    # Merton: a dividend smaller than the interest on the strike after the ex-date never justifies exercise
    r = early_exercise_flags(100.0, 80.0, 0.05, 1.0, True, 20.5, dividend=0.5, ex_dividend_years=0.1)
    assert not r.flag[()] if r.flag.ndim == 0 else not r.flag.any()


def test_expired_contracts_never_flagged():
    r = early_exercise_flags([50.0, 150.0], 100.0, 0.05, [0.0, -0.1], [False, True], [50.0, 50.0], dividend=5.0, ex_dividend_years=0.0)
    assert not r.flag.any()
