"""The whole-market universe generator (gex_market.universe): mix, DataShop round trip, dividends, API shapes."""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from gex.analysis import analyze
from gex_market.datashop_writer import DATASHOP_COLUMNS
from gex_market.universe import (
    CHAIN_MAX,
    CHAIN_MIN,
    ETFS,
    INDICES,
    ex_dates,
    expiry_ladder,
    generate_universe,
    universe_members,
)
from gex_sources import read_chain
from gex_sources.datashop import iter_datashop
from gex_sources.limits import is_identifier

N = 30
SESSIONS = 2
SEED = 4
INDEX_CONTRACTS = 2000  # thinned index chains keep the test fast; the listing logic is the market's own


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    out = tmp_path_factory.mktemp("universe")
    summary = generate_universe(out, N, sessions=SESSIONS, seed=SEED, api=True, index_contracts=INDEX_CONTRACTS)
    return summary


def test_members_mix_and_tickers():
    members = universe_members(2000, seed=0)
    assert len(members) == 2000 - len(INDICES)
    assert [m.symbol for m in members[: len(ETFS)]] == ["SPY", "QQQ", "IWM"]
    stocks = [m for m in members if m.kind == "stock"]
    symbols = [m.symbol for m in members]
    assert len(set(symbols)) == len(symbols)
    assert all(is_identifier(s) for s in symbols)
    assert not {s for s, _ in INDICES} & set(symbols)
    sizes = np.array([m.contracts for m in stocks])
    assert sizes.min() >= CHAIN_MIN and sizes.max() <= CHAIN_MAX
    # heavy tail: the median chain is small, the largest tenth holds a large share of the contracts
    assert np.median(sizes) < 150
    top = np.sort(sizes)[-len(sizes) // 10 :]
    assert top.sum() / sizes.sum() > 0.35
    assert (sizes == CHAIN_MAX).sum() > 0
    payers = np.mean([m.dividend_yield > 0 for m in stocks])
    assert 0.35 < payers < 0.55
    assert all(m.exercise_style == "american" for m in members)
    assert universe_members(2000, seed=0) == members  # seeded
    assert universe_members(2000, seed=1) != members


def test_members_rejects_too_small():
    with pytest.raises(ValueError, match="at least 3"):
        universe_members(2)


def test_expiry_ladders():
    day = dt.date(2025, 1, 2)
    small = expiry_ladder(day, "small")
    large = expiry_ladder(day, "large")
    etf = expiry_ladder(day, "etf")
    assert {k for _, k in small} <= {"monthly", "quarterly"}
    assert any(k == "weekly" for _, k in large) and any(k == "leaps" for _, k in large)
    assert any(k == "daily" for _, k in etf) and etf[0][0] == day  # 0-DTE listed on the day
    assert dt.date(2025, 1, 17) in {d for d, _ in small}  # the January monthly (third Friday)
    for ladder in (small, large, etf):
        dates = [d for d, _ in ladder]
        assert dates == sorted(set(dates)) and dates[0] >= day


def test_files_and_datashop_round_trip(universe):
    root = universe.out_dir
    assert [p.name for p in universe.files] == [f"UnderlyingOptionsEODCalcs_{d.isoformat()}.csv" for d in universe.sessions]
    header = universe.files[0].read_text().splitlines()[0].split(",")
    assert tuple(header) == DATASHOP_COLUMNS
    snaps = list(iter_datashop(universe.files[-1]))
    assert len(snaps) == N
    assert sum(s.frame.height for s in snaps) == universe.contracts[-1]
    assert all(s.rejects.is_empty() for s in snaps)
    ref = pl.read_csv(root / ".universe" / "underlyings.csv", schema_overrides={"ex_dates": pl.String})
    assert sorted(ref["underlying"]) == sorted(s.underlying for s in snaps)
    kinds = dict(zip(ref["underlying"], ref["kind"]))
    styles = dict(zip(ref["underlying"], ref["exercise_style"]))
    for s in snaps:
        assert s.session == universe.sessions[-1]
        if kinds[s.underlying] == "index":
            assert styles[s.underlying] == "european"
            assert set(s.frame["settlement"].unique()) == {"AM", "PM"}
        else:
            assert styles[s.underlying] == "american"
            assert set(s.frame["settlement"].unique()) == {"PM"}
            assert set(s.frame["root"].unique()) == {s.underlying}
        assert s.frame["open_interest"].sum() > 0
    counts = dict(zip(ref["underlying"], ref["contracts"]))
    assert all(counts[s.underlying] == s.frame.height for s in snaps)
    rates = pl.read_csv(root / "reference" / "rates.csv")
    assert rates.height == SESSIONS * 6


def test_byte_identical(universe, tmp_path):
    again = generate_universe(tmp_path, N, sessions=SESSIONS, seed=SEED, index_contracts=INDEX_CONTRACTS)
    for a, b in zip(universe.files, again.files):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert universe.underlyings_file.read_bytes() == again.underlyings_file.read_bytes()


def test_dividends_show_in_parity_forwards(universe):
    """A payer's parity forward is (S - PV(dividends before expiry)) e^{rT}: the carry, from the quotes alone."""
    members = {m.symbol: m for m in universe_members(N, SEED)}
    day = universe.sessions[-1]
    rates = pl.read_csv(universe.rates_file).filter(pl.col("date") == day.isoformat())
    checked = 0
    for snap in iter_datashop(universe.files[-1]):
        m = members.get(snap.underlying)
        if m is None or m.dividend_yield < 0.02 or snap.spot < 30:
            continue
        a = analyze(snap)
        amount = round(snap.spot * m.dividend_yield / 4.0, 2)
        for row in a.forwards.filter(pl.col("parity_pairs") >= 3).iter_rows(named=True):
            exp = row["expiration"]
            t = (exp - day).days / 365.0
            r = float(np.interp(t, [30 / 365, 91 / 365, 182 / 365, 1, 2, 10], rates["rate"].to_numpy()))
            pv = sum(amount * math.exp(-r * (d - day).days / 365.0) for d in ex_dates(m, day, exp))
            no_div = snap.spot * math.exp(r * t)
            expected = (snap.spot - pv) * math.exp(r * t)
            if pv > 0:
                # closer to the dividend-adjusted forward than to the plain one, within quote rounding
                assert abs(row["forward"] - expected) < abs(row["forward"] - no_div)
                assert abs(row["forward"] - expected) < 0.25 * pv + 0.02
                checked += 1
    assert checked >= 3


def test_api_responses_parse(universe):
    folder = universe.out_dir / "api" / "cboe" / universe.sessions[-1].isoformat()
    files = sorted(folder.glob("*.json"))
    assert len(files) == N and universe.api_files == N * SESSIONS
    assert {f.name for f in files} >= {"_SPX.json", "SPY.json"}
    spy = read_chain(folder / "SPY.json")
    from_file = next(s for s in iter_datashop(universe.files[-1]) if s.underlying == "SPY")
    assert spy.frame.height == from_file.frame.height
    assert spy.frame["open_interest"].sum() == from_file.frame["open_interest"].sum()


def test_cli_universe(tmp_path):
    from gex_cli.main import app

    runner = CliRunner()
    bad = runner.invoke(app, ["generate", "--universe", "2", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--universe" in bad.output
    assert not (tmp_path / "x").exists()
    lone = runner.invoke(app, ["generate", "--universe-api", "--out", str(tmp_path / "y")])
    assert lone.exit_code == 2 and "needs --universe" in lone.output
    mixed = runner.invoke(app, ["generate", "--universe", "10", "--contracts", "500", "--out", str(tmp_path / "z")])
    assert mixed.exit_code == 2 and "not to --universe" in mixed.output
    assert not (tmp_path / "z").exists()
