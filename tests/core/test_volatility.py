"""gex.volatility: constant-maturity ATM implied vol and realized vol, against hand calculations,
closed forms, a simulated Brownian path and hypothesis properties."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.volatility import (
    atm_iv_constant_maturity,
    atm_vol_of_smile,
    close_to_close_vol,
    garman_klass_vol,
    interpolate_total_variance,
    log_returns,
    parkinson_vol,
)

vols = st.floats(0.02, 2.0)
tenors = st.lists(st.floats(1 / 365, 3.0), min_size=1, max_size=8, unique=True)


# ---------------------------------------------------------------------------------------------
# smile -> ATM


def test_atm_vol_is_linear_in_log_moneyness_between_the_strikes_around_the_forward():
    # by hand: k0 = ln(90/100) = -0.1053605, k1 = ln(110/100) = 0.0953102, weight of K=110: 0.1053605/0.2006707 = 0.5250419
    assert atm_vol_of_smile([90.0, 110.0], [0.20, 0.30], 100.0) == pytest.approx(0.2 + 0.1 * 0.5250419, abs=1e-7)
    # a strike on the forward is read exactly, whatever its neighbours
    assert atm_vol_of_smile([90.0, 100.0, 110.0], [0.3, 0.17, 0.4], 100.0) == pytest.approx(0.17)


def test_atm_vol_extrapolates_flat_averages_a_strikes_call_and_put_and_ignores_bad_vols():
    assert atm_vol_of_smile([120.0, 130.0], [0.25, 0.35], 100.0) == pytest.approx(0.25)
    assert atm_vol_of_smile([70.0, 80.0], [0.25, 0.35], 100.0) == pytest.approx(0.35)
    assert atm_vol_of_smile([100.0, 100.0], [0.2, 0.3], 100.0) == pytest.approx(0.25)
    assert atm_vol_of_smile([90.0, 100.0, 110.0], [np.nan, 0.2, -1.0], 100.0) == pytest.approx(0.2)
    assert math.isnan(atm_vol_of_smile([90.0], [np.nan], 100.0))
    assert math.isnan(atm_vol_of_smile([], [], 100.0))


@given(vol=vols, forward=st.floats(10, 10_000), strikes=st.lists(st.floats(1, 20_000), min_size=1, max_size=30))
def test_a_flat_smile_gives_its_vol_back(vol, forward, strikes):
    assert atm_vol_of_smile(strikes, [vol] * len(strikes), forward) == pytest.approx(vol, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# term structure: linear in total variance


def test_total_variance_interpolation_by_hand():
    # w1 = 0.2^2 * 0.05 = 0.002, w2 = 0.3^2 * 0.10 = 0.009, T* = 30/365 = 0.0821918
    # w* = 0.002 + 0.007 * (0.0821918 - 0.05) / 0.05 = 0.00650685; sigma = sqrt(w*/T*) = 0.2813657
    assert interpolate_total_variance([0.05, 0.10], [0.2, 0.3], 30 / 365) == pytest.approx(0.2813657, abs=1e-7)
    # order of the expiries does not matter; an exact hit is that expiry's vol
    assert interpolate_total_variance([0.10, 0.05], [0.3, 0.2], 30 / 365) == pytest.approx(0.2813657, abs=1e-7)
    assert interpolate_total_variance([0.05, 30 / 365, 0.10], [0.2, 0.25, 0.3], 30 / 365) == pytest.approx(0.25)


def test_flat_vol_outside_the_listed_expiries():
    assert interpolate_total_variance([0.2, 0.5], [0.22, 0.3], 30 / 365) == pytest.approx(0.22)
    assert interpolate_total_variance([0.01, 0.02], [0.22, 0.3], 30 / 365) == pytest.approx(0.3)
    assert math.isnan(interpolate_total_variance([0.1], [np.nan], 30 / 365))
    with pytest.raises(ValueError):
        interpolate_total_variance([0.1], [0.2], 0.0)


@given(vol=vols, ts=tenors, target=st.floats(1 / 365, 4.0))
def test_a_flat_term_structure_gives_its_vol_back(vol, ts, target):
    assert interpolate_total_variance(ts, [vol] * len(ts), target) == pytest.approx(vol, rel=1e-9)


@settings(max_examples=200)
@given(t0=st.floats(0.01, 1.0), gap=st.floats(0.01, 1.0), v0=vols, v1=vols, frac=st.floats(0.0, 1.0))
def test_total_variance_is_linear_between_two_expiries(t0, gap, v0, v1, frac):
    t1 = t0 + gap
    target = t0 + frac * gap
    sigma = interpolate_total_variance([t0, t1], [v0, v1], target)
    w0, w1 = v0 * v0 * t0, v1 * v1 * t1
    assert sigma * sigma * target == pytest.approx(w0 + frac * (w1 - w0), rel=1e-9, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# the whole chain


VALUATION = dt.datetime(2025, 1, 6, 21, 0, tzinfo=dt.timezone.utc)


def chain(expiry_days: list[int], smile, spot: float = 100.0, rate: float = 0.0, q: float = 0.0) -> pl.DataFrame:
    """Calls and puts on strikes 50..150 for settlements ``expiry_days`` calendar days after VALUATION;
    ``smile(strike, tenor_years, forward)`` gives each vol."""
    rows = []
    for days in expiry_days:
        tenor = days / 365.0
        forward = spot * math.exp((rate - q) * tenor)
        for strike in np.arange(50.0, 151.0, 5.0):
            for right in ("C", "P"):
                rows.append(
                    {
                        "expiration": (VALUATION + dt.timedelta(days=days)).date(),
                        "settlement": "PM",
                        "settlement_ts": VALUATION + dt.timedelta(days=days),
                        "strike": float(strike),
                        "right": right,
                        "sigma": smile(strike, tenor, forward),
                        "rate": rate,
                        "dividend_yield": q,
                    }
                )
    return pl.DataFrame(rows)


def test_a_flat_surface_gives_its_vol_back():
    frame = chain([3, 10, 24, 45, 80], lambda k, t, f: 0.23, rate=0.04, q=0.01)
    assert atm_iv_constant_maturity(frame, 100.0, VALUATION) == pytest.approx(0.23, rel=1e-12)


def test_atm_is_read_at_the_forward_and_interpolated_in_total_variance():
    # skewed smiles, linear in log-moneyness (so reading them at k = 0 is exact between strikes 100 and 105):
    # sigma(k) = a(T) - 0.5 k; the forward is 100 * exp(0.05 T), not the spot
    atm = {24: 0.18, 45: 0.26}
    frame = chain(list(atm), lambda k, t, f: atm[round(t * 365)] - 0.5 * math.log(k / f), rate=0.05)
    # expected by hand: the two ATM vols are exactly 0.18 and 0.26 (k = 0), then total variance
    t0, t1, target = 24 / 365, 45 / 365, 30 / 365
    w = 0.18**2 * t0 + (0.26**2 * t1 - 0.18**2 * t0) * (target - t0) / (t1 - t0)
    assert atm_iv_constant_maturity(frame, 100.0, VALUATION) == pytest.approx(math.sqrt(w / target), rel=1e-12)
    # reading the smile at the spot instead would give another number: the forward matters
    at_spot = {d: atm[d] - 0.5 * math.log(100.0 / (100.0 * math.exp(0.05 * d / 365))) for d in atm}
    w_spot = at_spot[24] ** 2 * t0 + (at_spot[45] ** 2 * t1 - at_spot[24] ** 2 * t0) * (target - t0) / (t1 - t0)
    assert abs(math.sqrt(w_spot / target) - math.sqrt(w / target)) > 1e-4


def test_expired_and_empty_chains():
    frame = chain([0, -1], lambda k, t, f: 0.2)  # nothing settles after the valuation instant
    assert atm_iv_constant_maturity(frame, 100.0, VALUATION) is None
    assert atm_iv_constant_maturity(frame.head(0), 100.0, VALUATION) is None
    # only short expiries: flat vol from the longest
    short = chain([2, 9], lambda k, t, f: 0.3 if t < 5 / 365 else 0.21)
    assert atm_iv_constant_maturity(short, 100.0, VALUATION) == pytest.approx(0.21)


# ---------------------------------------------------------------------------------------------
# realized


def test_close_to_close_by_hand():
    closes = [100.0, 101.0, 99.0, 102.0, 102.0]
    r = [math.log(101 / 100), math.log(99 / 101), math.log(102 / 99), 0.0]
    got = close_to_close_vol(closes, 3)
    assert np.isnan(got[:3]).all()
    assert got[3] == pytest.approx(math.sqrt(252 * (r[0] ** 2 + r[1] ** 2 + r[2] ** 2) / 3), rel=1e-12)
    assert got[4] == pytest.approx(math.sqrt(252 * (r[1] ** 2 + r[2] ** 2 + r[3] ** 2) / 3), rel=1e-12)
    adjusted = close_to_close_vol(closes, 3, mean_adjusted=True)
    assert adjusted[3] == pytest.approx(math.sqrt(252) * np.std(r[:3], ddof=1), rel=1e-12)
    assert np.isnan(adjusted[:3]).all()


def test_a_missing_close_blanks_every_window_through_it():
    got = close_to_close_vol([100.0, 101.0, np.nan, 102.0, 103.0, 104.0, 105.0], 2)
    # returns at 2 and 3 touch the missing close; windows ending at 2, 3 and 4 hold one of them
    assert np.isnan(got[:5]).all() and np.isfinite(got[5:]).all()
    assert np.isnan(log_returns([100.0, 0.0, 100.0])[1:]).all()


@given(r=st.floats(-0.1, 0.1), n=st.integers(2, 15), scale=st.floats(0.01, 1e4))
def test_constant_returns_zero_mean_vs_mean_adjusted(r, n, scale):
    closes = scale * np.exp(r * np.arange(n + 3))
    zero_mean = close_to_close_vol(closes, n)
    assert zero_mean[-1] == pytest.approx(abs(r) * math.sqrt(252), rel=1e-6, abs=1e-9)
    assert close_to_close_vol(closes, n, mean_adjusted=True)[-1] == pytest.approx(0.0, abs=1e-6)


def test_range_estimators_by_hand():
    h, lo = np.full(4, 102.0), np.full(4, 100.0)
    hl = math.log(1.02)
    park = parkinson_vol(h, lo, 3)
    assert np.isnan(park[:2]).all()
    assert park[2:] == pytest.approx([hl * math.sqrt(252 / (4 * math.log(2)))] * 2, rel=1e-12)
    o, c = np.full(4, 100.5), np.full(4, 101.5)
    gk = garman_klass_vol(o, h, lo, c, 3)
    expected = math.sqrt(252 * (0.5 * hl**2 - (2 * math.log(2) - 1) * math.log(101.5 / 100.5) ** 2))
    assert gk[2:] == pytest.approx([expected] * 2, rel=1e-12)
    assert np.isnan(parkinson_vol([102.0, np.nan, 102.0], [100.0, 100.0, 100.0], 2)[1:]).all()


def test_estimators_recover_the_vol_of_a_simulated_brownian_path():
    """Independent reference: a seeded geometric Brownian motion with known sigma, 390 steps a day
    (discrete monitoring makes range estimators read slightly low, hence the tolerances)."""
    rng = np.random.default_rng(7)
    sigma, days, steps = 0.25, 2000, 390
    increments = rng.normal(-0.5 * sigma**2 / (252 * steps), sigma / math.sqrt(252 * steps), (days, steps))
    paths = 100.0 * np.exp(np.cumsum(increments.ravel())).reshape(days, steps)
    opens = np.concatenate([[100.0], paths[:-1, -1]])
    highs = np.maximum(paths.max(axis=1), opens)
    lows = np.minimum(paths.min(axis=1), opens)
    closes = paths[:, -1]
    assert close_to_close_vol(closes, days - 1)[-1] == pytest.approx(sigma, rel=0.05)
    assert parkinson_vol(highs, lows, days)[-1] == pytest.approx(sigma, rel=0.08)
    assert garman_klass_vol(opens, highs, lows, closes, days)[-1] == pytest.approx(sigma, rel=0.08)


def test_windows_must_make_sense():
    with pytest.raises(ValueError):
        close_to_close_vol([100.0, 101.0], 0)
    with pytest.raises(ValueError):
        close_to_close_vol([100.0, 101.0], 1, mean_adjusted=True)
    assert np.isnan(close_to_close_vol([100.0, 101.0], 5)).all()  # a window longer than the data: no value


# ---------------------------------------------------------------------------------------------
# the numpy grouping against the polars statement (atm_iv_constant_maturity_reference), bit for bit

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.core.test_expected_move import VALUATION as MOVE_VALUATION  # noqa: E402
from tests.core.test_expected_move import contract_frames  # noqa: E402


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contract_frames(min_size=1), st.sampled_from([4700.0, 4703.3]), st.sampled_from([1, 30, 365]))
def test_atm_iv_equals_the_polars_statement(contracts, spot, days):
    from gex.volatility import atm_iv_constant_maturity_reference

    fast = atm_iv_constant_maturity(contracts, spot, MOVE_VALUATION, days)
    ref = atm_iv_constant_maturity_reference(contracts, spot, MOVE_VALUATION, days)
    assert fast == ref or (fast is not None and ref is not None and math.isnan(fast) and math.isnan(ref)), (fast, ref)


def test_atm_iv_equals_the_polars_statement_by_hand():
    from gex.volatility import atm_iv_constant_maturity_reference

    atm = {24: 0.18, 45: 0.26}
    frame = chain(list(atm), lambda k, t, f: atm[round(t * 365)] - 0.5 * math.log(k / f), rate=0.05)
    for f in (frame, frame.head(1), frame.reverse(), frame.with_columns(rate=pl.when(pl.col("strike") == 100.0).then(None).otherwise("rate"))):
        assert atm_iv_constant_maturity(f, 100.0, VALUATION) == atm_iv_constant_maturity_reference(f, 100.0, VALUATION)


@pytest.mark.parametrize("name", ["native", "gflows"])
def test_atm_iv_equals_the_polars_statement_on_a_real_chain(name):
    from gex_sources import read_chain

    from gex.analysis import analyze
    from gex.conventions import preset
    from gex.volatility import atm_iv_constant_maturity_reference
    from tests.conftest import shared_file

    a = analyze(read_chain(shared_file("cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json")), preset(name), rate=0.0451)
    fast = atm_iv_constant_maturity(a.contracts, a.spot, a.valuation_ts)
    assert fast is not None and fast == atm_iv_constant_maturity_reference(a.contracts, a.spot, a.valuation_ts)
