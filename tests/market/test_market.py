"""The multi-session market generator (gex_market.market) and its landing folder."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import gex_sources
from gex.analysis import analyze
from gex.calendar import NEW_YORK, next_session, previous_session
from gex.chain import CHAIN_SCHEMA, ChainSnapshot
from gex_market import generate_chain
from gex_market.cboe_writer import (
    TABLE_HEADER,
    _num,
    expiration_text,
    header_timestamp_text,
    quote_table_text,
)
from gex_market.market import DEFAULT_START, MarketSummary, generate_market, iter_market
from gex_market.rates import TENORS, rate_at
from gex_sources import read_chain

SESSIONS = 25  # 2025-01-02 .. 2025-02-06: the January AM monthly (Jan 17) settles inside the window
CONTRACTS = 3000
SEED = 5

#: Seed verified to show both dealer-gamma regimes within 60 sessions at ~4000 contracts (gex.analysis).
REGIME_SEED = 3


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[MarketSummary, list]:
    out = tmp_path_factory.mktemp("landing")
    sessions: list = []
    summary = generate_market(out, sessions=SESSIONS, contracts=CONTRACTS, seed=SEED, progress=sessions.append)
    return summary, sessions


def _digest(folder: Path) -> dict[str, str]:
    files = sorted(folder.rglob("*.csv"))
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _oi(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, schema={"date": pl.Date, "symbol": pl.String, "open_interest": pl.Int64})


# --------------------------------------------------------------------------------------------------
# layout, determinism


def test_landing_layout(market):
    summary, sessions = market
    root = summary.out_dir
    days = [ms.session for ms in sessions]
    assert days[0] == DEFAULT_START and len(days) == SESSIONS and days == sorted(days)
    assert all(next_session(a) == b for a, b in zip(days, days[1:]))  # consecutive NYSE sessions
    assert [p.name for p in summary.chain_files] == [f"SPX_{d}_quotedata.csv" for d in days]
    assert [p.name for p in summary.oi_files] == [f"occ_oi_{d}.csv" for d in days]
    assert {p.parent for p in summary.chain_files} == {root / "chains"}
    assert {p.parent for p in summary.oi_files} == {root / "oi"}
    assert summary.closes_file == root / "reference" / "closes.csv"
    assert summary.rates_file == root / "reference" / "rates.csv"
    assert summary.closes_file.read_text().splitlines()[0] == "date,underlying,open,high,low,close"
    assert summary.rates_file.read_text().splitlines()[0] == "date,tenor,rate"
    # the contract budget is approximate: new listings are thinned, listed strikes stay until expiry
    assert 0.75 * CONTRACTS <= np.mean(summary.contracts) <= 1.25 * CONTRACTS
    assert str(SESSIONS) in summary.describe()


def test_same_seed_same_bytes_and_prefix_stable(tmp_path):
    kwargs = dict(contracts=1500, seed=11, start=dt.date(2024, 3, 13))
    generate_market(tmp_path / "a", sessions=4, **kwargs)
    generate_market(tmp_path / "b", sessions=4, **kwargs)
    generate_market(tmp_path / "c", sessions=6, **kwargs)
    generate_market(tmp_path / "d", sessions=4, **{**kwargs, "seed": 12})
    a, b, c, d = (_digest(tmp_path / x) for x in "abcd")
    assert len(a) == 4 + 4 + 2 and a == b
    # a shorter market is a prefix of a longer one (reference files aside, which cover every session)
    assert all(c[k] == v for k, v in a.items() if not k.startswith("reference"))
    assert a != d and a["reference/closes.csv"] != d["reference/closes.csv"]


# --------------------------------------------------------------------------------------------------
# files parse, and say what the generator meant


def test_chain_files_parse_back_to_the_snapshots(market):
    summary, sessions = market
    for path, ms in list(zip(summary.chain_files, sessions))[::6]:
        snap = read_chain(path)
        assert snap.rejects.height == 0
        assert snap.session == ms.session and snap.spot == ms.close
        assert snap.snapshot_ts == ms.snapshot.snapshot_ts
        assert snap.snapshot_ts.astimezone(NEW_YORK).time() == dt.time(20, 30)
        cols = ["symbol", "root", "expiration", "strike", "right", "bid", "ask", "volume", "open_interest", "vendor_iv"]
        assert snap.frame.select(cols).sort("symbol").equals(ms.snapshot.frame.select(cols).sort("symbol"))
    frame = sessions[0].snapshot.frame
    assert frame.schema == pl.Schema(CHAIN_SCHEMA)
    assert frame["symbol"].n_unique() == frame.height
    assert (frame["oi_date"] == previous_session(sessions[0].session)).all()


def test_vectorised_writer_matches_the_line_by_line_reference(market):
    _, sessions = market
    for snap in (sessions[3].snapshot, generate_chain(dt.date(2024, 1, 19), 4839.81, seed=7, max_contracts=3000)):
        assert quote_table_text(snap, change=-12.5) == _reference_quote_table(snap, change=-12.5)


def _reference_quote_table(snapshot: ChainSnapshot, *, change: float) -> str:
    """The writer's format spelled out line by line in Python (the original implementation)."""
    side_cols = ("symbol", "last", "bid", "ask", "volume", "vendor_iv", "vendor_delta", "vendor_gamma", "open_interest")
    keys = ["expiration", "root", "strike"]
    frame = snapshot.frame.select(*keys, "right", *side_cols)
    calls = frame.filter(pl.col("right") == "C").drop("right")
    puts = frame.filter(pl.col("right") == "P").drop("right").rename({c: f"p_{c}" for c in side_cols})
    lines = calls.join(puts, on=keys, how="full", coalesce=True).sort(["expiration", "strike", "root"])

    def side(v: dict, p: str) -> list[str]:
        return [str(v[f"{p}symbol"]), _num(v[f"{p}last"], 2), "0", _num(v[f"{p}bid"], 2), _num(v[f"{p}ask"], 2),
                str(v[f"{p}volume"] or 0), _num(v[f"{p}vendor_iv"], 4), _num(v[f"{p}vendor_delta"], 4),
                _num(v[f"{p}vendor_gamma"], 4), str(v[f"{p}open_interest"] or 0)]  # fmt: skip

    spot, sign = _num(snapshot.spot, 4), " " if change >= 0 else ""
    out = ["", f"{snapshot.underlying_name},Last: {spot},Change: {sign}{_num(change, 4)}",
           f'"Date: {header_timestamp_text(snapshot)}",Bid: {spot},Ask: {spot},Size: 1*1,Volume: 0', TABLE_HEADER]  # fmt: skip
    for row in lines.iter_rows(named=True):
        strike = f"{row['strike']:.2f}"
        out.append(",".join([expiration_text(row["expiration"]), *side(row, ""), strike, *side(row, "p_")]))
    return "\n".join(out) + "\n"


def test_reference_files_parse_with_the_project_readers(market):
    summary, sessions = market
    if not hasattr(gex_sources, "read_reference"):
        pytest.skip("gex_sources.read_reference is not available")
    closes = gex_sources.read_reference(summary.closes_file)
    rates = gex_sources.read_reference(summary.rates_file)
    oi = gex_sources.read_reference(summary.oi_files[1])
    assert closes.frame.height == SESSIONS and rates.frame.height == SESSIONS * len(TENORS)
    assert oi.frame.height == sessions[1].open_interest.height
    assert closes.rejects.height == rates.rejects.height == oi.rejects.height == 0
    assert (oi.frame["oi_date"] == sessions[0].session).all()
    assert closes.frame["close"].to_list() == [ms.close for ms in sessions]


# --------------------------------------------------------------------------------------------------
# underlying, rates


def test_closes_agree_with_the_chain_headers(market):
    summary, sessions = market
    closes = pl.read_csv(summary.closes_file, try_parse_dates=True)
    assert closes["date"].to_list() == [ms.session for ms in sessions]
    assert (closes["underlying"] == "SPX").all()
    for path, row in zip(summary.chain_files, closes.iter_rows(named=True)):
        name_line = path.read_text().splitlines()[1]
        assert name_line.startswith(f"S&P 500 INDEX,Last: {_num(row['close'], 4)},Change: ")
    assert (closes["high"] >= closes[["open", "close"]].max_horizontal()).all()
    assert (closes["low"] <= closes[["open", "close"]].min_horizontal()).all()
    change = closes["close"].diff().drop_nulls().round(2).to_list()
    assert change == [ms.change for ms in sessions[1:]]


def test_rates_are_a_plausible_curve_used_for_pricing(market):
    summary, sessions = market
    rates = pl.read_csv(summary.rates_file, try_parse_dates=True)
    assert rates.group_by("date").len()["len"].unique().to_list() == [len(TENORS)]
    assert set(rates["tenor"]) == set(TENORS)
    assert rates["rate"].is_between(0.0, 0.10).all()
    day = rates.filter(pl.col("date") == sessions[0].session)
    assert dict(zip(day["tenor"], day["rate"])) == sessions[0].rates
    curve = np.array(list(sessions[0].rates.values()))
    assert abs(rate_at(curve, np.array([0.5]))[0] - sessions[0].rates["6M"]) < 1e-4
    # daily moves of a few basis points at most
    wide = rates.pivot(on="tenor", index="date", values="rate").drop("date").to_numpy()
    assert np.abs(np.diff(wide, axis=0)).max() < 0.002


# --------------------------------------------------------------------------------------------------
# open interest: consistent, builds up, rolls off


def test_chain_open_interest_is_the_occ_publication_of_that_morning(market):
    summary, sessions = market
    for chain_path, oi_path, ms in zip(summary.chain_files, summary.oi_files, sessions):
        occ = _oi(oi_path)
        assert (occ["date"] == ms.session).all()
        chain = ms.snapshot.frame.select("symbol", "open_interest")
        joined = chain.join(occ, on="symbol", how="full", coalesce=True, suffix="_occ")
        assert joined["open_interest"].null_count() == 0  # every OCC contract is in the chain
        listed_today = joined.filter(pl.col("open_interest_occ").is_null())
        assert (listed_today["open_interest"] == 0).all()  # newly listed: no positions yet
        both = joined.filter(pl.col("open_interest_occ").is_not_null())
        assert (both["open_interest"] == both["open_interest_occ"]).all()
    # and the chain *file* says the same as the snapshot (checked for one session, the rest via the frames)
    snap = read_chain(summary.chain_files[-1])
    occ = _oi(summary.oi_files[-1])
    both = snap.frame.join(occ, on="symbol", suffix="_occ")
    assert both.height == occ.height and (both["open_interest"] == both["open_interest_occ"]).all()


def test_expired_contracts_roll_off(market):
    _, sessions = market
    by_day = {ms.session: ms for ms in sessions}
    monthly = dt.date(2025, 1, 17)  # AM SPX settles at the open, PM SPXW at the close
    on_day = by_day[monthly].snapshot.frame.filter(pl.col("expiration") == monthly)
    assert set(on_day["root"]) == {"SPX", "SPXW"}
    assert (on_day["vendor_iv"] == 0).all()  # settled/expiring rows carry no greeks at the evening snapshot
    assert on_day["open_interest"].sum() > 0  # positions held into settlement
    after = next_session(monthly)
    assert by_day[after].snapshot.frame.filter(pl.col("expiration") <= monthly).is_empty()
    assert by_day[after].open_interest.join(on_day.select("symbol"), on="symbol").is_empty()
    for ms in sessions:  # nothing expired before the session is ever published
        assert ms.snapshot.frame["expiration"].min() >= ms.session
        published = ms.open_interest.join(ms.snapshot.frame.select("symbol", "expiration"), on="symbol")
        assert published["expiration"].min() >= ms.session


def test_open_interest_builds_up_towards_expiry(market):
    _, sessions = market
    # a front monthly: total OI grows as expiry approaches
    february = dt.date(2025, 2, 21)
    monthly = (pl.col("expiration") == february) & (pl.col("root") == "SPX")
    totals = [ms.snapshot.frame.filter(monthly)["open_interest"].sum() for ms in sessions]
    assert totals[-1] > 1.2 * totals[0]  # target ~1.3x from 50 to 15 days (chain.expiry_open_interest)
    assert np.mean(np.diff(totals) > 0) > 0.6
    # a daily first listed inside the window starts at zero and builds up to its expiry
    first = {}
    for ms in sessions:
        per_expiry = ms.snapshot.frame.group_by("expiration", "root").agg(pl.col("open_interest").sum())
        for day, root, oi in per_expiry.iter_rows():
            first.setdefault((day, root), (ms.session, oi))
    fresh = [(k, v) for k, v in first.items() if v[0] > sessions[0].session and k[0] <= sessions[-1].session]
    assert fresh and all(v[1] == 0 for _, v in fresh)
    (expiration, root), _ = fresh[0]
    path = [ms.snapshot.frame.filter(pl.col("expiration") == expiration, pl.col("root") == root)["open_interest"].sum()
            for ms in sessions if ms.session <= expiration]  # fmt: skip
    path = [x for x in path if x is not None]
    assert path[-1] > 0 and path[-1] == max(path[-3:])


def test_open_interest_shape(market):
    _, sessions = market
    frame = sessions[-1].snapshot.frame
    by_right = dict(frame.group_by("right").agg(pl.col("open_interest").sum()).iter_rows())
    assert by_right["P"] > 1.2 * by_right["C"]  # put-heavy
    by_round = frame.group_by(pl.col("strike") % 100 == 0).agg(pl.col("open_interest").mean()).sort("strike")
    assert by_round["open_interest"][1] > 2 * by_round["open_interest"][0]  # round strikes heavier


# --------------------------------------------------------------------------------------------------
# volatility and quotes


def test_implied_vol_follows_the_regime(market):
    _, sessions = market
    rows = []
    for ms in sessions:
        f = ms.snapshot.frame.filter(pl.col("vendor_iv") > 0)
        dte = (f["expiration"] - f["session"]).dt.total_days()
        month = f.filter((dte - 30).abs() == (dte - 30).abs().min())
        atm = month.filter((pl.col("strike") - ms.close).abs() == (pl.col("strike") - ms.close).abs().min())
        rows.append((ms.turbulent, ms.realised_vol, float(atm["vendor_iv"].mean())))
    turbulent, realised, implied = map(np.array, zip(*rows))
    assert (implied > 0.06).all() and (implied < 0.9).all()
    assert np.mean(implied / realised) > 0.9  # a variance premium, roughly, not a different world
    if turbulent.any() and (~turbulent).any():
        assert implied[turbulent].mean() > implied[~turbulent].mean()


def test_quotes_stay_free_of_vertical_arbitrage_when_the_skew_steepens(market):
    _, sessions = market
    ms = max(sessions, key=lambda s: s.implied_vol)
    frame = ms.snapshot.frame
    assert (frame["bid"] <= frame["ask"]).all()
    for (_, _, right), g in frame.group_by("expiration", "root", "right"):
        g = g.sort("strike")
        bid, ask = g["bid"].to_numpy(), g["ask"].to_numpy()
        if right == "C":
            assert (bid[1:] <= ask[:-1] + 1e-9).all()
        else:
            assert (bid[:-1] <= ask[1:] + 1e-9).all()


# --------------------------------------------------------------------------------------------------
# regimes


def test_both_gamma_regimes_appear():
    signs, proxies = [], []
    for ms in iter_market(sessions=60, contracts=4000, seed=REGIME_SEED):
        result = analyze(ms.snapshot)
        signs.append(result.regime)
        proxies.append(np.sign(ms.classic_gex))
    signs = np.array(signs)
    assert np.mean(signs == "positive") >= 0.15 and np.mean(signs == "negative") >= 0.15
    assert np.sum(signs[1:] != signs[:-1]) >= 2
    # the generator's own cheap estimate has the sign the analysis finds
    assert np.mean(np.where(signs == "positive", 1, -1) == np.array(proxies)) > 0.95


def test_bad_arguments_raise_at_the_call(tmp_path):
    with pytest.raises(ValueError, match="sessions"):
        iter_market(sessions=0)
    with pytest.raises(ValueError, match="contracts"):
        iter_market(sessions=1, contracts=10)
    with pytest.raises(ValueError, match="underlying"):
        iter_market(sessions=1, underlying="XYZ")
    with pytest.raises(ValueError, match="spot0"):
        generate_market(tmp_path / "never", sessions=1, spot0=-1.0)
    assert not (tmp_path / "never").exists()


# --------------------------------------------------------------------------------------------------
# command line


def test_cli_generate_writes_the_landing_folder(tmp_path):
    from typer.testing import CliRunner

    from gex_cli.main import app

    out = tmp_path / "landing"
    args = ["generate", "--sessions", "3", "--contracts", "800", "--seed", "4", "--out", str(out), "--start", "2024-07-03"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("3 sessions 2024-07-03..2024-07-08")
    assert sorted(p.name for p in (out / "chains").iterdir()) == [
        "SPX_2024-07-03_quotedata.csv", "SPX_2024-07-05_quotedata.csv", "SPX_2024-07-08_quotedata.csv"
    ]  # fmt: skip
    assert len(list((out / "oi").iterdir())) == 3 and (out / "reference" / "rates.csv").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sessions", "0"], "--sessions"),
        (["--contracts", "5"], "--contracts"),
        (["--start", "2025-13-01"], "--start"),
        (["--start", "1970-01-02"], "--start"),
        (["--underlying", "XYZ"], "--underlying"),
    ],
)
def test_cli_generate_usage_errors_exit_2(tmp_path, args, message):
    from typer.testing import CliRunner

    from gex_cli.main import app

    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gex: error: ") and message in result.stderr
    assert not (tmp_path / "x").exists()
