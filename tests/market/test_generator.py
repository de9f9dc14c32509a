"""Synthetic chain generator (gex_market.generate_chain) and the Cboe quote-table writer."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.special import ndtr

from gex.calendar import NEW_YORK, is_session, session_close, sessions_between
from gex.chain import CHAIN_SCHEMA, conform
from gex.flip import GammaProfile, solve_flip
from gex_market import generate_chain, write_cboe_quote_table
from gex_market.chain import expiry_schedule, smile_vol, strike_grid

RATE, DIV = 0.045, 0.013
FRIDAY = dt.date(2024, 1, 5)  # a Friday, weekly expiry (0-DTE SPXW)
THIRD_FRIDAY = dt.date(2024, 1, 19)  # monthly expiration: AM SPX and PM SPXW expire today
SUMMER = dt.date(2023, 7, 3)  # EDT, day before a holiday


@pytest.fixture(scope="module")
def full():
    return generate_chain(THIRD_FRIDAY, 4839.81, seed=7)


def _tenor(frame: pl.DataFrame) -> pl.Expr:
    return (pl.col("settlement_ts") - pl.col("valuation_ts")).dt.total_seconds() / (365.0 * 86_400.0)


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path):
    paths = [
        write_cboe_quote_table(generate_chain(FRIDAY, 4697.24, seed=s, max_contracts=3000), tmp_path / f"{i}.csv")
        for i, s in enumerate((11, 11, 12))
    ]
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_schema_and_snapshot_fields(full):
    frame = full.frame
    assert frame.schema == pl.Schema(CHAIN_SCHEMA)
    assert conform(frame).equals(frame)
    assert 15_000 <= frame.height <= 25_000  # SPX-sized
    assert full.session == THIRD_FRIDAY and full.header_date == THIRD_FRIDAY
    assert full.valuation_ts == session_close(THIRD_FRIDAY)
    assert full.snapshot_ts.astimezone(NEW_YORK).time() == dt.time(20, 30)
    assert frame["oi_date"].unique().to_list() == [dt.date(2024, 1, 18)]
    assert frame["symbol"].n_unique() == frame.height
    assert frame.select(pl.col("underlying_price").unique()).item() == 4839.81
    # each quote line (source_line) holds one call and one put of the same (expiration, root, strike)
    lines = frame.group_by("source_line").agg(pl.len(), pl.col("right").n_unique(), pl.col("strike").n_unique())
    assert (lines["len"] == 2).all() and (lines["right"] == 2).all() and (lines["strike"] == 1).all()


def test_expiries_on_the_calendar(full):
    exp = full.frame.select("expiration", "root", "settlement").unique()
    assert all(is_session(d) for d in exp["expiration"])
    assert not exp["expiration"].dt.weekday().is_in([6, 7]).any()
    am = exp.filter(pl.col("root") == "SPX")
    assert (am["settlement"] == "AM").all() and (exp.filter(pl.col("root") == "SPXW")["settlement"] == "PM").all()
    # AM monthlies on third Fridays (day 15..21), or the Thursday before when Friday is a holiday
    assert am["expiration"].dt.day().is_between(14, 21).all()
    assert am["expiration"].dt.weekday().is_in([4, 5]).all()
    # expired today: the 0-DTE SPXW and the AM SPX settled at this morning's open, with zero greeks
    today = full.frame.filter(pl.col("expiration") == THIRD_FRIDAY)
    assert set(today["root"]) == {"SPX", "SPXW"}
    assert (today["vendor_iv"] == 0).all() and (today["vendor_gamma"] == 0).all()
    # dailies for ~2 weeks, LEAPS ~3 years out, month/quarter ends
    days = set(exp.filter(pl.col("root") == "SPXW")["expiration"])
    assert set(sessions_between(THIRD_FRIDAY, THIRD_FRIDAY + dt.timedelta(days=14))) <= days
    assert max(exp["expiration"]) >= dt.date(2026, 12, 1)
    assert dt.date(2024, 3, 28) in days  # last session of Q1 2024 (Good Friday Mar 29 closed)


def test_holiday_shifted_monthly():
    sched = expiry_schedule(dt.date(2025, 3, 21))  # April 2025 third Friday is Good Friday
    am = {e.expiration for e in sched if e.root == "SPX"}
    assert dt.date(2025, 4, 17) in am and dt.date(2025, 4, 18) not in am


def test_strikes_finer_near_the_money(full):
    spot = full.spot
    for (_, root), g in full.frame.filter(pl.col("right") == "C").group_by("expiration", "root"):
        k = np.sort(g["strike"].to_numpy())
        if len(k) < 60:
            continue
        steps = np.diff(k)
        mid = (k[1:] + k[:-1]) / 2
        near = steps[np.abs(mid / spot - 1) < 0.02]
        far = steps[np.abs(mid / spot - 1) > 0.30]
        assert near.max() <= 25 and far.min() >= 25 and near.mean() < far.mean()
    front = strike_grid(4800.0, 10 / 365)
    assert np.all(np.diff(front[np.abs(front / 4800 - 1) < 0.04]) == 5.0)
    assert np.diff(strike_grid(4800.0, 2.5)).min() >= 100  # LEAPS grid is coarse


def test_open_interest_shape(full):
    oi = full.frame.group_by("right").agg(pl.col("open_interest").sum()).sort("right")["open_interest"].to_list()
    calls, puts = oi
    assert puts > 1.3 * calls
    frame = full.frame
    assert (frame["open_interest"] == 0).sum() > 0.05 * frame.height  # zero-OI far strikes
    by_round = frame.group_by(pl.col("strike") % 100 == 0).agg(pl.col("open_interest").mean()).sort("strike")
    assert by_round["open_interest"][1] > 2 * by_round["open_interest"][0]  # round strikes heavier
    by_root = frame.group_by("root").agg(pl.col("open_interest").sum()).sort("root")["open_interest"].to_list()
    assert by_root[0] > by_root[1]  # AM monthlies hold more than all PM expiries together


def test_quotes_free_of_vertical_arbitrage(full):
    frame = full.frame
    assert (frame["bid"] >= 0).all() and (frame["bid"] <= frame["ask"]).all()
    cents = (frame["ask"] * 100).round(6)
    assert ((cents % 5).abs() < 1e-6).all()  # tick-rounded
    for (_, _, right), g in frame.group_by("expiration", "root", "right"):
        g = g.sort("strike")
        bid, ask = g["bid"].to_numpy(), g["ask"].to_numpy()
        mid = (bid + ask) / 2
        if right == "C":  # call value non-increasing in strike
            assert (bid[1:] <= ask[:-1] + 1e-9).all()
            assert (np.diff(mid) <= 0.05 + 1e-9).all()
        else:
            assert (bid[:-1] <= ask[1:] + 1e-9).all()
            assert (np.diff(mid) >= -0.05 - 1e-9).all()


def test_vendor_greeks_match_black_scholes(full):
    live = full.frame.with_columns(_tenor(full.frame).alias("t")).filter(pl.col("t") > 0)
    s, k, t, v = full.spot, live["strike"].to_numpy(), live["t"].to_numpy(), live["vendor_iv"].to_numpy()
    d1 = (np.log(s / k) + (RATE - DIV + v * v / 2) * t) / (v * np.sqrt(t))
    gamma = np.exp(-DIV * t - d1 * d1 / 2) / np.sqrt(2 * np.pi) / (s * v * np.sqrt(t))
    delta = np.exp(-DIV * t) * np.where(live["right"] == "C", ndtr(d1), ndtr(d1) - 1)
    np.testing.assert_allclose(live["vendor_gamma"].to_numpy(), gamma, atol=5.1e-5)  # Cboe rounds to 4 dp
    np.testing.assert_allclose(live["vendor_delta"].to_numpy(), delta, atol=5.1e-5)
    assert (live["vendor_iv"] > 0).all() and (live["vendor_iv"] <= 1.0).all()
    # puts skew: a 10% OTM put has a higher vol than the ATM and the 5% OTM call
    assert smile_vol(np.log([0.9]), 0.1)[0] > smile_vol(np.log([1.0]), 0.1)[0] > smile_vol(np.log([1.05]), 0.1)[0]


def test_max_contracts_subsamples():
    small = generate_chain(SUMMER, 4455.59, seed=1, max_contracts=4000)
    assert 3600 <= small.frame.height <= 4400
    near = small.frame.filter((pl.col("strike") / 4455.59 - 1).abs() < 0.005, pl.col("root") == "SPX")
    assert near.height > 0


def test_writer_format(tmp_path: Path):
    snap = generate_chain(SUMMER, 4455.59, seed=2, max_contracts=1500)
    text = write_cboe_quote_table(snap, tmp_path / "q.csv").read_text()
    lines = text.split("\n")
    assert lines[0] == "" and text.endswith("\n") and "\r" not in text
    assert lines[1] == "S&P 500 INDEX,Last: 4455.59,Change:  0"
    assert lines[2].startswith('"Date: July 3, 2023 at 8:30 PM EDT",Bid: ')
    assert lines[3].split(",")[:3] == ["Expiration Date", "Calls", "Last Sale"] and len(lines[3].split(",")) == 22
    row = re.compile(
        r"^(Mon|Tue|Wed|Thu|Fri) [A-Z][a-z]{2} \d{2} \d{4},SPXW?\d{6}C\d{8},([-\d.]+,){9}\d+\.\d{2},SPXW?\d{6}P\d{8}(,[-\d.]+){9}$"
    )
    body = [ln for ln in lines[4:] if ln]
    assert len(body) == snap.frame.height // 2 and all(row.match(ln) for ln in body)
    first = body[0].split(",")
    assert first[0] == "Mon Jul 03 2023" and first[1][-8:] == f"{round(float(first[11]) * 1000):08d}"


def test_round_trip_through_reader(tmp_path: Path):
    gex_sources = pytest.importorskip("gex_sources")
    if not hasattr(gex_sources, "read_chain"):
        pytest.skip("gex_sources.read_chain not available")
    snap = generate_chain(THIRD_FRIDAY, 4839.81, seed=5, max_contracts=2500)
    back = gex_sources.read_chain(write_cboe_quote_table(snap, tmp_path / "rt.csv"))
    assert back.rejects.height == 0
    assert (back.underlying, back.session, back.spot) == (snap.underlying, snap.session, snap.spot)
    assert (back.snapshot_ts, back.valuation_ts, back.header_date) == (snap.snapshot_ts, snap.valuation_ts, snap.header_date)
    cols = ["symbol", "root", "expiration", "settlement", "settlement_ts", "strike", "right", "bid", "ask", "last",
            "volume", "open_interest", "oi_date", "vendor_iv", "vendor_delta", "vendor_gamma", "source_line"]  # fmt: skip
    assert back.frame.select(cols).sort("symbol").equals(snap.frame.select(cols).sort("symbol"))


def _dealer_flip(snap):
    f = snap.frame.with_columns(_tenor(snap.frame).alias("t")).filter(pl.col("t") > 0, pl.col("open_interest") > 0)
    weight = np.where(f["right"] == "C", 1.0, -1.0) * f["open_interest"].to_numpy() * 100.0
    profile = GammaProfile.from_contracts(f["strike"].to_numpy(), f["vendor_iv"].to_numpy(), f["t"].to_numpy(), weight, RATE, DIV)
    return solve_flip(profile, snap.spot, 0.8 * snap.spot, 1.2 * snap.spot)


def test_dealer_gamma_sign_varies_and_flip_is_near_spot():
    results = [_dealer_flip(generate_chain(FRIDAY, 4697.24, seed=s)) for s in range(6)]
    signs = {np.sign(r.gex_at_spot) for r in results}
    assert signs == {-1.0, 1.0}
    assert all(r.flip is not None and abs(r.distance_pct) < 5.0 for r in results)
