"""gex.expected_move: hand-built chains with known answers (Black-76 priced with scipy, not gex.greeks)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from gex.expected_move import MOVE_SCHEMA, interpolate_straddle, iv_implied_move, straddle_moves

VALUATION = dt.datetime(2024, 1, 5, 21, 0, tzinfo=dt.timezone.utc)


def black76(forward, strike, tenor, sigma, rate, is_call):
    """Undiscounted-forward Black price times e^{-rT} (scipy's normal CDF: independent of the project)."""
    s = sigma * math.sqrt(tenor)
    d1 = (math.log(forward / strike) + 0.5 * s * s) / s
    d2 = d1 - s
    df = math.exp(-rate * tenor)
    if is_call:
        return df * (forward * norm.cdf(d1) - strike * norm.cdf(d2))
    return df * (strike * norm.cdf(-d2) - forward * norm.cdf(-d1))


def chain(forward=4703.3, days=30, sigma=0.15, rate=0.05, step=5.0, spread=0.1, expiration=dt.date(2024, 2, 5)):
    tenor = days / 365.0
    rows = []
    for k in np.arange(4400.0, 5000.0 + step, step):
        for right in "CP":
            p = black76(forward, k, tenor, sigma, rate, right == "C")
            rows.append({"expiration": expiration, "settlement": "PM",
                         "settlement_ts": VALUATION + dt.timedelta(days=days), "strike": float(k), "right": right,
                         "bid": max(p - spread / 2, 0.0), "ask": p + spread / 2, "tenor_years": tenor, "rate": rate,
                         "dividend_yield": rate - math.log(forward / 4700.0) / tenor})
    return pl.DataFrame(rows)


def test_interpolation_by_hand():
    strikes = np.array([95.0, 100.0, 105.0])
    assert interpolate_straddle(strikes, np.array([12.0, 8.0, 11.0]), 101.0) == (pytest.approx(8.6), 100.0, 105.0)
    assert interpolate_straddle(strikes, np.array([12.0, 8.0, 11.0]), 100.0) == (8.0, 100.0, 100.0)
    assert math.isnan(interpolate_straddle(strikes, np.array([12.0, 8.0, 11.0]), 106.0)[0])


def test_black_scholes_straddle_at_the_forward():
    forward, days, sigma, rate = 4703.3, 30, 0.15, 0.05
    c = chain(forward, days, sigma, rate)
    fwd = pl.DataFrame({"expiration": [dt.date(2024, 2, 5)], "settlement": ["PM"], "forward": [forward]})
    out = straddle_moves(c, fwd, 4700.0, VALUATION)
    assert out.schema == pl.Schema(MOVE_SCHEMA) and out.height == 1
    row = out.row(0, named=True)
    tenor = days / 365.0
    exact = 2 * math.exp(-rate * tenor) * forward * (2 * norm.cdf(0.5 * sigma * math.sqrt(tenor)) - 1)
    assert row["straddle_points"] == pytest.approx(exact, rel=1e-4)  # linear in strike over a 5-point gap
    assert row["straddle_points"] == pytest.approx(0.8 * sigma * math.sqrt(tenor) * forward, rel=0.02)
    assert (row["strike_below"], row["strike_above"]) == (4700.0, 4705.0)
    assert row["forward_source"] == "parity" and row["days_to_settlement"] == pytest.approx(30.0)
    assert row["straddle_pct"] == pytest.approx(100 * row["straddle_points"] / 4700.0)


def test_carry_forward_when_no_parity_forward():
    forward = 4703.3
    out = straddle_moves(chain(forward), pl.DataFrame(schema={"expiration": pl.Date, "settlement": pl.String,
                                                              "forward": pl.Float64}), 4700.0, VALUATION)
    row = out.row(0, named=True)
    # the contracts' carry (rate - dividend_yield) was built to give back the forward exactly
    assert row["forward_source"] == "carry" and row["forward"] == pytest.approx(forward, rel=1e-12)


def test_expired_one_sided_and_uncovered_expiries_are_left_out():
    live = chain()
    expired = chain(days=30).with_columns(settlement_ts=pl.lit(VALUATION - dt.timedelta(hours=1)),
                                          expiration=pl.lit(dt.date(2024, 1, 5)))
    one_sided = chain(expiration=dt.date(2024, 3, 1)).with_columns(
        bid=pl.when(pl.col("right") == "P").then(0.0).otherwise(pl.col("bid")))
    far = chain(forward=6000.0, expiration=dt.date(2024, 4, 1))  # forward beyond every strike
    fwd = pl.DataFrame({"expiration": [dt.date(2024, 4, 1)], "settlement": ["PM"], "forward": [6000.0]})
    out = straddle_moves(pl.concat([live, expired, one_sided, far]), fwd, 4700.0, VALUATION)
    assert out["expiration"].to_list() == [dt.date(2024, 2, 5)]


def test_iv_implied_move():
    points, pct = iv_implied_move(0.16, 5000.0, 5)
    assert pct == pytest.approx(100 * 0.16 * math.sqrt(5 / 252)) and points == pytest.approx(50 * pct)
    assert iv_implied_move(None, 5000.0, 1) == (None, None)
    assert iv_implied_move(float("nan"), 5000.0, 1) == (None, None)


# ---------------------------------------------------------------------------------------------
# the mart's long table (gex.expected_move.expected_move_table)


def test_expected_move_table_by_hand_across_a_holiday():
    """2025-01-09 was an NYSE holiday (national day of mourning): 5 sessions after 2025-01-03 is 2025-01-13."""
    from gex.expected_move import TABLE_SCHEMA, expected_move_table

    session = dt.date(2025, 1, 3)
    valuation = dt.datetime(2025, 1, 3, 21, 0, tzinfo=dt.timezone.utc)
    moves = pl.DataFrame([
        {"expiration": dt.date(2025, 1, 10), "settlement": "PM", "days_to_settlement": 7.0, "forward": 5001.0,
         "forward_source": "parity", "strike_below": 5000.0, "strike_above": 5005.0, "straddle_points": 80.0,
         "straddle_pct": 1.6},
        {"expiration": dt.date(2025, 1, 6), "settlement": "PM", "days_to_settlement": 3.0, "forward": 5000.2,
         "forward_source": "carry", "strike_below": 5000.0, "strike_above": 5005.0, "straddle_points": 40.0,
         "straddle_pct": 0.8},
    ], schema=MOVE_SCHEMA)
    out = expected_move_table(moves, 0.16, 5000.0, session, valuation)
    assert out.schema == pl.Schema(TABLE_SCHEMA)
    assert out.select("method", "target_date", "settlement", "sessions_ahead").rows() == [
        ("straddle", dt.date(2025, 1, 6), "PM", 1), ("straddle", dt.date(2025, 1, 10), "PM", 4),
        ("atm_iv", dt.date(2025, 1, 6), "PM", 1), ("atm_iv", dt.date(2025, 1, 13), "PM", 5)]
    assert out["move_points"].to_list()[:2] == [40.0, 80.0]
    one, five = out.filter(pl.col("method") == "atm_iv").iter_rows(named=True)
    assert one["move_pct"] == pytest.approx(16.0 / math.sqrt(252), rel=1e-14)
    assert five["move_points"] == pytest.approx(5000 * 0.16 * math.sqrt(5 / 252), rel=1e-14)
    assert one["days_to_settlement"] == pytest.approx(3.0) and five["days_to_settlement"] == pytest.approx(10.0)
    assert one["atm_iv"] == 0.16 and one["forward"] is None
    # without a usable ATM vol only the straddle rows remain; with nothing at all the frame is empty
    assert expected_move_table(moves, None, 5000.0, session, valuation)["method"].to_list() == ["straddle"] * 2
    assert expected_move_table(moves.clear(), float("nan"), 5000.0, session, valuation).is_empty()


# ---------------------------------------------------------------------------------------------
# the numpy path against the polars statement (straddle_moves_reference), bit for bit

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def contract_frames(draw, min_size=0):
    """Contracts of a few expiries (AM/PM, some settled), strikes on a coarse grid, quotes in cents (zero bids,
    crossed quotes, repeated contracts), carry and vol varying by contract: what gex.analysis hands over."""
    n = draw(st.integers(min_size, 30))
    days = {e: draw(st.sampled_from([-1.0, 0.0, 0.5, 3.0, 17.0, 40.0, 400.0])) for e in range(3)}
    rows = []
    for _ in range(n):
        e = draw(st.integers(0, 2))
        mid = draw(st.integers(0, 3000)) / 100
        half = draw(st.sampled_from([0.0, 0.01, 0.05, -0.01]))
        rows.append({"expiration": dt.date(2024, 2, 5) + dt.timedelta(days=7 * e), "settlement": draw(st.sampled_from(["AM", "PM"])),
                     "settlement_ts": VALUATION + dt.timedelta(days=days[e]),
                     "strike": draw(st.sampled_from([4650.0, 4700.0, 4705.0, 4750.0, 4702.5])), "right": draw(st.sampled_from("CP")),
                     "bid": mid - half, "ask": mid + half, "tenor_years": days[e] / 365.0,
                     "rate": draw(st.sampled_from([0.05, 0.0, 0.043836])),
                     "dividend_yield": draw(st.sampled_from([0.0, 0.013, 0.1, -0.02])),
                     "sigma": draw(st.sampled_from([0.2, 0.31, 0.15, float("nan"), -1.0]))})
    schema = {"expiration": pl.Date, "settlement": pl.String, "settlement_ts": pl.Datetime("us", "UTC"),
              "strike": pl.Float64, "right": pl.String, "bid": pl.Float64, "ask": pl.Float64,
              "tenor_years": pl.Float64, "rate": pl.Float64, "dividend_yield": pl.Float64, "sigma": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if draw(st.booleans()):
        frame = frame.with_columns(pl.col("settlement").cast(pl.Enum(["AM", "PM"])), pl.col("right").cast(pl.Enum(["C", "P"])))
    return frame


def _assert_same_moves(contracts, forwards, spot):
    from gex.expected_move import straddle_moves_reference

    fast, ref = straddle_moves(contracts, forwards, spot, VALUATION), straddle_moves_reference(contracts, forwards, spot, VALUATION)
    assert fast.schema == ref.schema and fast.equals(ref), (fast, ref)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contract_frames(), st.sampled_from([4700.0, 4703.3]), st.lists(st.sampled_from([4690.0, 4710.5, 9000.0]), max_size=3))
def test_straddle_moves_equal_the_polars_statement(contracts, spot, parity):
    forwards = pl.DataFrame({"expiration": [dt.date(2024, 2, 5) + dt.timedelta(days=7 * i) for i in range(len(parity))],
                             "settlement": ["PM"] * len(parity), "forward": parity},
                            schema={"expiration": pl.Date, "settlement": pl.String, "forward": pl.Float64})
    _assert_same_moves(contracts, forwards, spot)


def test_straddle_moves_equal_the_polars_statement_by_hand():
    live, far = chain(), chain(forward=6000.0, expiration=dt.date(2024, 4, 1))
    fwd = pl.DataFrame({"expiration": [dt.date(2024, 4, 1)], "settlement": ["PM"], "forward": [6000.0]})
    for contracts in (live, pl.concat([live, far]), pl.concat([live, live.head(3)]), live.head(1), live.head(0),
                      live.with_columns(bid=pl.when(pl.col("strike") == 4700.0).then(None).otherwise("bid"))):
        for forwards in (fwd, fwd.head(0)):
            _assert_same_moves(contracts, forwards, 4700.0)


@pytest.mark.parametrize("name", ["native", "gflows"])
def test_straddle_moves_equal_the_polars_statement_on_a_real_chain(name):
    from gex_sources import read_chain

    from gex.analysis import analyze
    from gex.conventions import preset
    from gex.expected_move import straddle_moves_reference
    from tests.conftest import shared_file

    a = analyze(read_chain(shared_file("cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv")), preset(name), rate=0.0451)
    fast = straddle_moves(a.contracts, a.forwards, a.spot, a.valuation_ts)
    ref = straddle_moves_reference(a.contracts, a.forwards, a.spot, a.valuation_ts)
    assert fast.height > 5 and fast.schema == ref.schema and fast.equals(ref)


def test_expected_move_table_of_sorted_moves_skips_the_sort_and_equals_the_sorted_table():
    """straddle_moves returns its rows sorted: the table takes them as they are (no polars sort), and equals the
    table of the same rows in any order, bit for bit."""
    from gex.expected_move import _sorted_moves, expected_move_table

    session, valuation = dt.date(2024, 1, 5), VALUATION
    c = pl.concat([chain(expiration=dt.date(2024, 2, 5)), chain(expiration=dt.date(2024, 2, 16)),
                   chain(expiration=dt.date(2024, 2, 16)).with_columns(settlement=pl.lit("AM"))])
    moves = straddle_moves(c, pl.DataFrame(schema={"expiration": pl.Date, "settlement": pl.String, "forward": pl.Float64}),
                           4700.0, valuation)
    assert moves.height == 3 and _sorted_moves(moves) is moves
    shuffled = moves.reverse()
    assert _sorted_moves(shuffled) is not shuffled
    fast, plain = expected_move_table(moves, 0.16, 4700.0, session, valuation), expected_move_table(shuffled, 0.16, 4700.0, session, valuation)
    assert fast.schema == plain.schema and fast.equals(plain)
