"""Dividends implied by the parity forwards (gex.forwards.implied_dividends) and the early-exercise screen of a
whole chain (gex.early_exercise.screen_chain): a hand-built chain with a known dividend, an independent American
tree, and invariants on random chains (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.analysis import analyze
from gex.calendar import session_close
from gex.early_exercise import FLAGGED_SCHEMA, screen_chain
from gex.forwards import implied_dividends
from tests.core.test_early_exercise import crr
from tests.early_exercise_chain import (
    DIVIDEND, EX_DATE, EXPECTED_FLAGS, EXPIRIES, RATE, SESSION, SIGMA, SPOT, bs, dividend_pv, stock_chain, years,
)


@pytest.fixture(scope="module")
def analysis():
    return analyze(stock_chain(), rate=RATE)


def _expiries(a):
    return a.contracts.group_by("expiration", "settlement").agg(pl.col("tenor_years", "rate").first())


def test_implied_carry_recovers_the_known_dividend(analysis):
    d = implied_dividends(_expiries(analysis), analysis.forwards, analysis.spot)
    rows = {r["expiration"]: r for r in d.iter_rows(named=True)}
    first, second, third = (rows[e[0]] for e in EXPIRIES)
    # before the ex-date: parity shows no dividend
    assert first["dividend_source"] == "parity" and first["dividend_pv"] == 0.0 and first["last_dividend"] == 0.0
    assert first["last_ex_years"] == math.inf
    # after it: S - F e^{-rT} is the dividend's PV, within the quotes' cent rounding (F from one strike pair)
    assert second["dividend_source"] == "parity"
    assert second["dividend_pv"] == pytest.approx(dividend_pv(EXPIRIES[1][0]), abs=0.015)
    # placed at the first expiry (the earliest the ex-date can be): cash = PV e^{r t_first}
    t_first = first["tenor_years"]
    assert second["last_ex_years"] == pytest.approx(t_first, rel=1e-12)
    true_t_ex = years(session_close(SESSION), session_close(EX_DATE))
    assert second["last_dividend"] == pytest.approx(DIVIDEND * math.exp(-RATE * (true_t_ex - t_first)), abs=0.015)
    # calls only: no parity forward, no dividend assumed, and said so
    assert third["dividend_source"] == "none" and third["dividend_pv"] == 0.0 and third["last_ex_years"] == math.inf


def test_implied_carry_of_a_non_payer_is_zero():
    t = np.array([0.05, 0.3, 1.0])
    e = pl.DataFrame({"expiration": [dt.date(2025, 1, 24), dt.date(2025, 4, 17), dt.date(2026, 1, 2)],
                      "settlement": ["PM"] * 3, "tenor_years": t, "rate": [0.04] * 3})
    # forwards a cent or two off the no-dividend forward either way (quote rounding): read as noise
    f = e.select("expiration", "settlement", forward=pl.Series(100.0 * np.exp(0.04 * t) + np.array([0.01, -0.02, 0.03])))
    d = implied_dividends(e, f, 100.0)
    assert d["dividend_pv"].to_list() == [0.0, 0.0, 0.0]
    assert d["last_dividend"].to_list() == [0.0, 0.0, 0.0]
    assert d["dividend_source"].to_list() == ["parity"] * 3


def test_dividends_lumped_across_a_long_gap_count_as_one():
    """Between two LEAPS a year apart four quarterly dividends go ex: the call screen gets one (the first's size)."""
    t = np.array([0.1, 0.2, 1.2])
    r, s, cash = 0.04, 100.0, 1.0
    ex = [0.15, 0.4, 0.65, 0.9, 1.15]
    pv = np.array([sum(cash * math.exp(-r * x) for x in ex if x < tt) for tt in t])
    e = pl.DataFrame({"expiration": [dt.date(2025, 2, 7), dt.date(2025, 3, 14), dt.date(2026, 3, 20)],
                      "settlement": ["PM"] * 3, "tenor_years": t, "rate": [r] * 3})
    d = implied_dividends(e, e.select("expiration", "settlement", forward=pl.Series((s - pv) * np.exp(r * t))), s)
    assert d["dividend_pv"].to_list() == pytest.approx(pv.tolist(), rel=1e-12)
    first = cash * math.exp(-r * (0.15 - 0.1))  # the first dividend's PV carried to the earlier expiry
    assert d["last_dividend"].to_list() == pytest.approx([0.0, first, first], rel=1e-12)
    assert d["last_ex_years"].to_list() == pytest.approx([math.inf, 0.1, 0.2])


def test_screen_flags_exactly_the_deep_itm_put_and_the_call_before_the_dividend(analysis):
    screen = screen_chain(analysis.contracts, analysis.forwards, analysis.spot)
    assert screen.exercise_style == "american"
    assert screen.american_contracts == analysis.contracts.height == 15
    assert dict(zip(screen.flagged["symbol"], screen.flagged["reason"])) == EXPECTED_FLAGS
    assert screen.expiries_without_carry == 1  # the calls-only expiry
    assert screen.flagged.schema == pl.Schema(FLAGGED_SCHEMA)
    gross = analysis.contracts["gex_usd_per_1pct"].abs().sum()
    assert screen.gex_share == pytest.approx(screen.flagged["gex_usd_per_1pct"].abs().sum() / gross, rel=1e-12)


def test_the_flags_are_where_an_american_tree_finds_a_premium():
    """Independent check: CRR American minus European (escrowed dividend) per contract of the two parity expiries."""
    v = session_close(SESSION)
    from gex.calendar import settlement_instant

    premium = {}
    for expiration, strikes, rights in EXPIRIES[:2]:
        t = years(v, settlement_instant(expiration, "PM"))
        t_ex = years(v, session_close(EX_DATE))
        pv = dividend_pv(expiration)
        for k in strikes:
            for right in rights:
                call = right == "C"
                american = crr(SPOT, k, RATE, SIGMA, t, call, dividend=DIVIDEND if pv else 0.0, t_ex=t_ex, steps=600)
                euro = bs(SPOT - pv, k, RATE, 0.0, SIGMA, t, call)
                premium[f"ABC{expiration:%y%m%d}{right}{int(k * 1000):08d}"] = american - euro
    for symbol in EXPECTED_FLAGS:
        assert premium[symbol] > 0.1, symbol
    # ITM contracts left out: the first expiry's 60 call (no dividend, no premium) ...
    assert abs(premium["ABC250117C00060000"]) < 0.01
    # ... and the second expiry's 140 put: exercise pays only after the ex-date (the screen compares the whole-life
    # carry net of the dividend; docs/conventions.md states this limit), so its premium stays below the strike's
    # interest from the ex-date to expiry
    t2 = years(v, session_close(EXPIRIES[1][0]))
    t_ex = years(v, session_close(EX_DATE))
    assert premium["ABC250221P00140000"] < 140.0 * (1 - math.exp(-RATE * (t2 - t_ex))) + 0.02


def test_a_european_chain_is_not_screened():
    a = analyze(stock_chain("SPX", "SPXW"), rate=RATE)
    screen = screen_chain(a.contracts, a.forwards, a.spot)
    assert (screen.exercise_style, screen.american_contracts, screen.flagged.height, screen.gex_share,
            screen.expiries_without_carry) == ("european", 0, 0, 0.0, 0)


def test_an_empty_chain_screens_to_nothing(analysis):
    screen = screen_chain(analysis.contracts.clear(), analysis.forwards.clear(), SPOT)
    assert (screen.exercise_style, screen.american_contracts, screen.flagged.height, screen.gex_share) == \
        ("european", 0, 0, 0.0)


_contract = st.tuples(
    st.floats(0.3, 3.0),  # strike / spot
    st.sampled_from(["C", "P"]),
    st.integers(0, 3),  # expiry index
    st.floats(0.05, 1.5),  # sigma
    st.integers(0, 50_000),  # open interest
    st.sampled_from(["XYZ", "XYZ1", "SPXW", "OEX"]),
)


@settings(max_examples=60, deadline=None)
@given(
    spot=st.floats(5.0, 5000.0),
    rate=st.floats(-0.01, 0.12),
    tenors=st.lists(st.floats(1e-4, 3.0), min_size=4, max_size=4),
    forward_log=st.lists(st.one_of(st.none(), st.floats(-0.2, 0.2)), min_size=4, max_size=4),
    q=st.floats(0.0, 0.08),
    contracts=st.lists(_contract, min_size=0, max_size=40),
)
def test_share_in_unit_interval_and_flags_within_the_contracts(spot, rate, tenors, forward_log, q, contracts):
    expirations = [dt.date(2026, 1, 2) + dt.timedelta(days=7 * i) for i in range(4)]
    rows = [
        {"symbol": f"C{i}", "root": root, "expiration": expirations[e], "settlement": "PM", "strike": m * spot,
         "right": right, "tenor_years": tenors[e], "rate": rate, "sigma": sig, "dividend_yield": q, "open_interest": oi,
         # dealer GEX of either sign, growing with OI (magnitudes are what the share uses)
         "gex_usd_per_1pct": (1.0 if right == "C" else -1.0) * oi * spot * sig}
        for i, (m, right, e, sig, oi, root) in enumerate(contracts)
    ]
    schema = {"symbol": pl.String, "root": pl.String, "expiration": pl.Date, "settlement": pl.String,
              "strike": pl.Float64, "right": pl.String, "tenor_years": pl.Float64, "rate": pl.Float64,
              "sigma": pl.Float64, "dividend_yield": pl.Float64, "open_interest": pl.Int64,
              "gex_usd_per_1pct": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    forwards = pl.DataFrame(
        [{"expiration": expirations[i], "settlement": "PM", "forward": spot * math.exp(f)}
         for i, f in enumerate(forward_log) if f is not None],
        schema={"expiration": pl.Date, "settlement": pl.String, "forward": pl.Float64},
    )
    screen = screen_chain(frame, forwards, spot)
    assert_same_screen(screen, frame, forwards, spot)
    assert 0.0 <= screen.gex_share <= 1.0
    assert screen.flagged.height <= screen.american_contracts <= frame.height
    assert set(screen.flagged["symbol"]) <= set(frame["symbol"])
    assert not set(screen.flagged["root"]) & {"SPXW"}  # European contracts are never flagged
    assert set(screen.flagged["reason"]) <= {"deep_itm_put", "call_before_ex_dividend"}
    assert screen.expiries_without_carry <= 4
    if screen.flagged.height == 0:
        assert screen.gex_share == 0.0


def test_a_small_rise_after_a_dividend_is_drift_not_a_second_dividend():
    """As on SPY's real chain of 2023-09-14 (ex-date the next morning): the first expiry reads the dividend a little
    low (its calls are exercised before the ex-date), the next a few dimes higher; one dividend, not two."""
    t = np.array([0.003, 0.011, 0.014, 0.25])
    pv = np.array([1.425, 1.701, 1.717, 3.3])  # the last: the next quarter's dividend (a full-size rise)
    r, s = 0.053, 450.81
    e = pl.DataFrame({"expiration": [dt.date(2023, 9, 15), dt.date(2023, 9, 18), dt.date(2023, 9, 19),
                                     dt.date(2023, 12, 15)], "settlement": ["PM"] * 4, "tenor_years": t, "rate": [r] * 4})
    d = implied_dividends(e, e.select("expiration", "settlement", forward=pl.Series((s - pv) * np.exp(r * t))), s)
    assert d["dividend_pv"].to_list() == pytest.approx(pv.tolist(), rel=1e-9)
    assert d["last_dividend"].to_list() == pytest.approx([1.425, 1.425, 1.425, 1.425], rel=1e-3)
    assert d["last_ex_years"].to_list() == pytest.approx([0.0, 0.0, 0.0, 0.014])


# ---- screen_chain against screen_chain_reference (its frames built with polars), bit for bit ---------------------


def assert_same_screen(screen, contracts, forwards, spot):
    from gex.early_exercise import screen_chain_reference

    ref = screen_chain_reference(contracts, forwards, spot)
    assert (screen.exercise_style, screen.american_contracts, screen.gex_share, screen.expiries_without_carry) == (
        ref.exercise_style, ref.american_contracts, ref.gex_share, ref.expiries_without_carry)
    assert screen.flagged.schema == ref.flagged.schema and screen.flagged.equals(ref.flagged)


def test_screen_equals_the_reference_by_hand(analysis):
    a = analysis
    spx = analyze(stock_chain("SPX", "SPXW"), rate=RATE)
    mixed = pl.concat([a.contracts, spx.contracts.with_columns(root=pl.lit("SPXW"))], how="vertical_relaxed")
    for contracts, forwards in ((a.contracts, a.forwards), (a.contracts, a.forwards.clear()), (spx.contracts, spx.forwards),
                                (mixed, a.forwards), (a.contracts.clear(), a.forwards), (pl.concat([a.contracts] * 2), a.forwards)):
        assert_same_screen(screen_chain(contracts, forwards, a.spot), contracts, forwards, a.spot)


@pytest.mark.parametrize("name", ["native", "gflows"])
def test_screen_equals_the_reference_on_a_real_chain(name):
    from gex_sources import read_chain

    from gex.conventions import preset
    from tests.conftest import shared_file

    a = analyze(read_chain(shared_file("cboe_csv/SPY_2023-09-14_eod__carlosjimenezdiaz_GEX_Python.csv")), preset(name), rate=0.0451)
    screen = screen_chain(a.contracts, a.forwards, a.spot)
    assert screen.flagged.height > 0
    assert_same_screen(screen, a.contracts, a.forwards, a.spot)
