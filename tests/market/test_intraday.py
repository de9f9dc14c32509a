"""Intraday days of the generated market (gex_market.intraday) and `gex generate --intraday-every`.

References are independent of the code under test: the session hours come from exchange_calendars' XNYS
calendar directly, the header instants from the project's reader (gex_sources), the 0-DTE gamma from
Black-Scholes in gex.greeks, the bridge's variance from its closed form ``sd**2 u (1 - u)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gex.calendar import NEW_YORK, UTC, session_close
from gex_market.chain import _rng
from gex_market.intraday import (
    IntradayDay,
    _Requoter,
    brownian_bridge,
    fit_to_bar,
    intraday_day,
    intraday_instants,
    intraday_path,
    spot_path,
    write_intraday_day,
)
from gex_market.market import iter_market
from gex_sources import read_chain

SEED = 7
CONTRACTS = 1500
REGULAR, EARLY = dt.date(2026, 11, 25), dt.date(2026, 11, 27)  # 2026-11-26 is Thanksgiving, the 27th closes 13:00


@pytest.fixture(scope="module")
def sessions():
    """Two consecutive published sessions: a regular day and an early close."""
    return {ms.session: ms for ms in iter_market(sessions=2, start=REGULAR, contracts=CONTRACTS, seed=SEED)}


@pytest.fixture(scope="module")
def days(sessions) -> dict[dt.date, IntradayDay]:
    return {d: intraday_day(ms, seed=SEED) for d, ms in sessions.items()}


def _xnys():
    import warnings

    import exchange_calendars as xc

    with warnings.catch_warnings():  # exchange_calendars 4.x trips a pandas deprecation internally
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xc.get_calendar("XNYS", start="2026-01-01", end="2026-12-31")


def _hhmm(instants) -> list[str]:
    return [t.astimezone(NEW_YORK).strftime("%H:%M") for t in instants]


# -------------------------------------------------------------------------------------------- schedule


def test_instants_regular_day_and_early_close_match_exchange_calendars():
    cal = _xnys()
    for day, n, last in ((REGULAR, 78, "16:00"), (EARLY, 42, "13:00")):
        instants = intraday_instants(day, 5)
        close = cal.session_close(day.isoformat()).to_pydatetime()
        opening = cal.session_open(day.isoformat()).to_pydatetime()
        assert len(instants) == n and instants[-1] == close
        assert _hhmm(instants)[0] == "09:35" and _hhmm(instants)[-1] == last
        assert instants[0] - opening == dt.timedelta(minutes=5)
        assert all(b - a == dt.timedelta(minutes=5) for a, b in zip(instants, instants[1:]))
    assert _hhmm(intraday_instants(REGULAR, 7))[-2:] == ["15:55", "16:00"]  # 390 = 55 x 7 + 5: a short last step
    assert _hhmm(intraday_instants(dt.date(2026, 3, 9), 390)) == ["16:00"]  # first session after the DST change
    assert intraday_instants(dt.date(2026, 3, 9), 5)[0] == dt.datetime(2026, 3, 9, 13, 35, tzinfo=UTC)  # EDT


@pytest.mark.parametrize("every", [0, 391, -5, 2.5, True])
def test_bad_interval_is_a_value_error(every):
    with pytest.raises(ValueError, match="every_minutes"):
        intraday_instants(REGULAR, every)


def test_holiday_is_not_a_session():
    with pytest.raises(ValueError, match="not an NYSE session"):
        intraday_instants(dt.date(2026, 11, 26), 5)


# ------------------------------------------------------------------------------------------------ path


def test_bridge_variance_matches_its_closed_form():
    u = np.arange(1, 79) / 78
    rng = np.random.default_rng(0)
    draws = np.array([brownian_bridge(u, 0.01, rng) for _ in range(8000)])
    assert np.all(draws[:, -1] == 0.0)
    theory = 0.01**2 * u * (1 - u)
    # 8000 draws: the sample variance's relative s.e. is sqrt(2 / 8000) = 1.6%; 6% is ~4 s.e.
    np.testing.assert_allclose(draws[:, :-1].var(axis=0), theory[:-1], rtol=0.06)


def test_fit_to_bar_is_monotone_keeps_the_range_and_hits_the_extremes():
    price = np.array([100.5, 101.0, 103.0, 99.0, 97.0, 100.0, 101.0])
    fitted = fit_to_bar(price, open_=100.0, close=101.0, high=102.0, low=96.0)
    assert fitted.max() == 102.0 and fitted.min() == 96.0
    assert np.array_equal(np.argsort(fitted, kind="stable"), np.argsort(price, kind="stable"))
    inside = (price >= 100.0) & (price <= 101.0)
    assert np.array_equal(fitted[inside], price[inside])


def test_path_ends_at_the_close_inside_the_bar(sessions, days):
    for day, ms in sessions.items():
        spots = days[day].spots
        assert spots[-1] == ms.close and np.array_equal(spots, np.round(spots, 2))
        assert spots.max() == ms.high and spots.min() == ms.low  # these seeds leave the open/close range both ways
    u = np.arange(1, 79) / 78
    for seed in range(50):
        s = spot_path(u, open_=5000.0, close=5020.0, high=5060.0, low=4980.0, vol=0.2, rng=np.random.default_rng(seed))
        assert s[-1] == 5020.0 and s.max() <= 5060.0 and s.min() >= 4980.0


# ------------------------------------------------------------------------------------------ snapshots


def test_every_snapshot_is_the_same_contracts_with_fixed_oi_and_cumulative_volume(sessions, days):
    for day, ms in sessions.items():
        snaps = days[day].snapshots
        daily = ms.snapshot.frame
        assert [s.snapshot_ts for s in snaps] == list(intraday_instants(day, 5))
        for s in snaps:
            assert s.frame["symbol"].equals(daily["symbol"])
            assert s.frame["open_interest"].equals(daily["open_interest"])
        volume = np.array([s.frame["volume"].to_numpy() for s in snaps])
        assert np.all(np.diff(volume, axis=0) >= 0)
        assert np.array_equal(volume[-1], daily["volume"].to_numpy())
        assert 0 < volume[0].sum() < volume[-1].sum()


def test_intraday_valuation_is_the_snapshot_and_the_close_is_end_of_day(sessions, days):
    for day, ms in sessions.items():
        snaps = days[day].snapshots
        for s in snaps[:-1]:
            assert s.valuation_ts == s.snapshot_ts < session_close(day)
            assert s.frame["valuation_ts"].unique().to_list() == [s.snapshot_ts]
            assert s.frame["underlying_price"].unique().to_list() == [s.spot]
        last = snaps[-1]
        assert last.valuation_ts == last.snapshot_ts == session_close(day) == ms.snapshot.valuation_ts
        numbers = ["bid", "ask", "last", "volume", "open_interest", "vendor_iv", "vendor_delta", "vendor_gamma"]
        assert last.frame.select(numbers).equals(ms.snapshot.frame.select(numbers))


def test_requote_at_the_close_reproduces_the_daily_chain(sessions):
    """The intraday surface is the daily one: with the daily quote stream, re-quoting at the close gives the
    daily file's quotes and greeks exactly, so the day runs continuously into its end-of-day chain."""
    for day, ms in sessions.items():
        q = _Requoter(ms).quotes(session_close(day), ms.close, _rng(SEED, day, "quotes"))
        f = ms.snapshot.frame
        for column in ("bid", "ask", "vendor_iv", "vendor_delta", "vendor_gamma"):
            assert np.array_equal(q[column], f[column].to_numpy()), column
        traded = (f["volume"].to_numpy() > 0) | (f["open_interest"].to_numpy() > 0)
        assert np.array_equal(np.where(traded, q["last"], 0.0), f["last"].to_numpy())


def test_zero_dte_contracts_are_priced_at_their_shrinking_tenor(sessions, days):
    """The same-day PM expiry is re-priced at each snapshot's time to settlement: its vendor gamma is
    Black-Scholes (gex.greeks) at that tenor, spot and IV all day, and at the close it has expired (IV and
    gamma 0, as Cboe writes settled contracts)."""
    from gex import greeks

    day = REGULAR
    rate = sessions[day].rates["1M"]  # the generator's curve is flat below 1M (rates.rate_at)
    tenors = []
    for s in days[day].snapshots[:-1]:
        f = s.frame.filter((pl.col("expiration") == day) & (pl.col("settlement") == "PM"))
        t = (f["settlement_ts"][0] - s.valuation_ts).total_seconds() / (365 * 86400)
        tenors.append(t)
        iv, strikes = f["vendor_iv"].to_numpy(), f["strike"].to_numpy()
        assert f.height >= 2 and np.all(iv > 0)
        g = greeks.bs_gamma(s.spot, strikes, rate, iv, t, 0.013)
        np.testing.assert_allclose(f["vendor_gamma"].to_numpy(), np.round(g, 4), atol=1e-12)
    assert np.all(np.diff(tenors) < 0) and tenors[-1] == pytest.approx(5 / (365 * 1440))
    close = days[day].snapshots[-1].frame.filter((pl.col("expiration") == day) & (pl.col("settlement") == "PM"))
    assert close["vendor_iv"].unique().to_list() == [0.0] and close["vendor_gamma"].unique().to_list() == [0.0]


def test_quotes_follow_spot(days):
    """Deltas of a long-dated call rise with spot across the day's snapshots (requoted, not copied)."""
    snaps = days[REGULAR].snapshots
    spots = np.array([s.spot for s in snaps])
    calls = snaps[0].frame.with_row_index().filter(
        (pl.col("right") == "C") & (pl.col("expiration") > REGULAR + dt.timedelta(days=60))
    )
    pick = calls["index"][int(np.argmin(np.abs(calls["strike"].to_numpy() - spots[-1])))]  # at the money
    delta = np.array([s.frame["vendor_delta"][pick] for s in snaps])
    assert np.corrcoef(spots, delta)[0, 1] > 0.9


# -------------------------------------------------------------------------------------------- files


def test_files_are_what_the_reader_parses(tmp_path, sessions, days):
    day = days[EARLY]
    paths = write_intraday_day(day, tmp_path)
    assert [p.name for p in paths][:2] == ["SPX_2026-11-27_0935_quotedata.csv", "SPX_2026-11-27_0940_quotedata.csv"]
    assert paths[-1].name == "SPX_2026-11-27_1300_quotedata.csv" and len(paths) == 42
    assert paths[0] == intraday_path(tmp_path, "SPX", day.snapshots[0].snapshot_ts)
    for path, snap in zip(paths, day.snapshots):
        back = read_chain(path)
        assert back.rejects.height == 0 and back.warnings == ()
        assert (back.session, back.snapshot_ts, back.valuation_ts, back.spot) == (
            snap.session, snap.snapshot_ts, snap.valuation_ts, snap.spot
        )  # fmt: skip
        for column in ("bid", "ask", "volume", "open_interest", "vendor_iv", "vendor_gamma"):
            assert back.frame[column].to_list() == snap.frame[column].to_list(), column
    assert "at 1:00 PM EST" in paths[-1].read_text().splitlines()[2]


def test_close_file_has_the_daily_files_numbers(tmp_path, sessions, days):
    from gex_market.cboe_writer import write_cboe_quote_table

    ms = sessions[REGULAR]
    daily = write_cboe_quote_table(ms.snapshot, tmp_path / "daily.csv", change=ms.change).read_text().splitlines()
    close = write_intraday_day(days[REGULAR], tmp_path)[-1].read_text().splitlines()
    assert close[3:] == daily[3:] and close[1] == daily[1]
    assert close[2].startswith('"Date: November 25, 2026 at 4:00 PM EST"') and "8:30 PM" in daily[2]


def test_byte_identical_per_seed(tmp_path, sessions):
    ms = sessions[EARLY]

    def digest(seed: int, folder: Path) -> str:
        paths = write_intraday_day(intraday_day(ms, seed=seed, every_minutes=30), folder)
        return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in paths)).hexdigest()

    assert digest(SEED, tmp_path / "a") == digest(SEED, tmp_path / "b")
    assert digest(SEED + 1, tmp_path / "c") != digest(SEED, tmp_path / "a")


def test_api_shapes_render_intraday_snapshots(tmp_path, days):
    """Every vendor shape carries an intraday instant through the fetch-bundle parsers."""
    from gex_market.api_shapes import render_responses
    from gex_sources import detect_format

    from tests.api_helpers import make_bundle, write

    snap = days[REGULAR].snapshots[24]  # 11:35 New York
    keys = ["root", "expiration", "strike", "right"]
    for source in ("cboe", "tradier", "polygon", "schwab"):
        responses = render_responses(snap, source, base_url="http://127.0.0.1:9", page_size=500)
        path = write(tmp_path, make_bundle(source, "SPX", responses, snap.snapshot_ts, session=snap.session))
        assert detect_format(path) == f"{source}_bundle"
        back = read_chain(path)
        assert (back.session, back.snapshot_ts, back.valuation_ts, back.spot) == (
            snap.session, snap.snapshot_ts, snap.snapshot_ts, snap.spot
        ), source  # fmt: skip
        a, b = snap.frame.sort(keys), back.frame.sort(keys)
        for column in ("bid", "ask", "volume", "open_interest"):
            assert a[column].to_list() == b[column].to_list(), (source, column)


# ------------------------------------------------------------------------------------------------ ETFs


@pytest.mark.parametrize("underlying, spot", [("SPY", 500.0), ("QQQ", 450.0)])
def test_etf_day_reads_back_as_the_etf(tmp_path, underlying, spot):
    (ms,) = iter_market(sessions=1, start=REGULAR, contracts=800, seed=SEED, underlying=underlying, spot0=spot)
    f = ms.snapshot.frame
    assert f["root"].unique().to_list() == [underlying] and f["settlement"].unique().to_list() == ["PM"]
    day = intraday_day(ms, seed=SEED, every_minutes=30)
    paths = write_intraday_day(day, tmp_path)
    assert len(paths) == 13 and paths[-1].name == f"{underlying}_2026-11-25_1600_quotedata.csv"
    back = read_chain(paths[3])
    assert back.underlying == underlying and back.rejects.height == 0 and back.warnings == ()
    assert back.frame["settlement"].unique().to_list() == ["PM"] and back.valuation_ts == day.snapshots[3].snapshot_ts


# ------------------------------------------------------------------------------------------- warehouse


def _snapshot_key(con) -> list[str]:
    return con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = 'raw' AND table_name = 'chain_snapshots' AND constraint_type = 'PRIMARY KEY'"
    ).fetchone()[0]


def test_ingest_flags_intraday_snapshots(tmp_path, template_dir, days):
    from gex_warehouse.connect import connect
    from gex_warehouse.load import ingest_file

    from tests.warehouse.helpers import fresh_warehouse

    day = days[EARLY]
    paths = write_intraday_day(day, tmp_path / "landing")
    con = connect(fresh_warehouse(tmp_path, template_dir))
    try:
        for path, snap in zip(paths, day.snapshots):
            result = ingest_file(con, path)
            assert result.status == "loaded", result.message
            row = con.execute(
                "SELECT intraday, snapshot_ts, spot FROM raw.chain_snapshots "
                "WHERE underlying = 'SPX' AND session = ? AND valuation_ts = ?",
                [EARLY, snap.valuation_ts],
            ).fetchall()
            assert row == [(snap is not day.snapshots[-1], snap.snapshot_ts, snap.spot)], path.name
        rows = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE intraday) FROM raw.chain_snapshots WHERE session = ?", [EARLY]
        ).fetchone()
        if "valuation_ts" in _snapshot_key(con):  # the snapshot key of issue 12: every snapshot kept
            assert rows == (42, 41)
        else:  # the key before it: a session keeps its latest snapshot, the close
            assert rows == (1, 0)
    finally:
        con.close()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("warehouse-template")


# --------------------------------------------------------------------------------------------- command line


def test_cli_generate_intraday(tmp_path):
    from typer.testing import CliRunner

    from gex_cli.main import app

    out = tmp_path / "landing"
    args = ["generate", "-n", "2", "-c", "600", "-s", "3", "-o", str(out), "--start", "2026-11-25", "--intraday-every", "60",
            "--intraday-sessions", "2"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "intraday").iterdir())
    assert names == sorted(
        [f"SPX_2026-11-25_{h}_quotedata.csv" for h in ("1030", "1130", "1230", "1330", "1430", "1530", "1600")]
        + [f"SPX_2026-11-27_{h}_quotedata.csv" for h in ("1030", "1130", "1230", "1300")]
    )
    lines = result.stdout.strip().splitlines()
    assert lines[1].startswith("intraday 2026-11-25: 7 snapshots (6 intraday + the close)")
    assert lines[2].startswith("intraday 2026-11-27: 4 snapshots (3 intraday + the close)")
    assert sorted(p.name for p in (out / "chains").iterdir()) == ["SPX_2026-11-25_quotedata.csv", "SPX_2026-11-27_quotedata.csv"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--intraday-every", "0"], "--intraday-every"),
        (["--intraday-every", "400"], "--intraday-every"),
        (["--intraday-sessions", "2"], "--intraday-sessions"),
        (["--intraday-every", "5", "--intraday-sessions", "3", "--sessions", "2"], "--intraday-sessions"),
    ],
)
def test_cli_intraday_usage_errors_exit_2(tmp_path, args, message):
    from typer.testing import CliRunner

    from gex_cli.main import app

    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gex: error: ") and message in result.stderr
    assert not (tmp_path / "x").exists()
