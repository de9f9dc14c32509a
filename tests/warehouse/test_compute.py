"""The compute layer: loaded chains -> mart tables (gex_warehouse.compute, `gex compute`).

One small generated market (4 sessions of ~3,000 contracts, with OCC OI, rates and closes files) is
ingested once per test session into a template warehouse; each test works on its own copy. Seed 2 is
used because its sessions have a gamma flip inside the window (seed 1's have none), so the crossing
checks are not vacuous.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gex.conventions import preset, NATIVE
from gex_market import generate_market
from gex_sources import read_chain
from gex_warehouse import compute as c
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests

from tests.warehouse.helpers import ingest_template, rows
from tests.gex_runner import Done, gex_in_process, gex_process

MARTS = ("mart.gex_by_strike", "mart.gex_by_expiry", "mart.gex_by_dte", "mart.gex_profile", "mart.flip_crossings",
         "mart.regime_daily")


@pytest.fixture(scope="session")
def market(tmp_path_factory) -> tuple[Path, Path]:
    """(landing folder, ingested warehouse template)."""
    root = tmp_path_factory.mktemp("compute-market")
    generate_market(root / "landing", sessions=4, contracts=3000, seed=2)
    return root / "landing", ingest_template(root / "landing", root / "template.duckdb")


@pytest.fixture
def wh(market, tmp_path) -> Path:
    target = tmp_path / "gex.duckdb"
    shutil.copyfile(market[1], target)
    return target


@pytest.fixture
def con(wh):
    connection = connect(wh)
    yield connection
    connection.close()


def compute_all(con, sessions=None, conventions=NATIVE) -> dict[tuple[str, dt.date], c.MartFrames]:
    out = {}
    for u, s in sessions if sessions is not None else c.loaded_sessions(con):
        frames = c.compute_session(c.snapshot_from_warehouse(con, u, s), conventions, c.rate_for(con, s),
                                   load_id=c.chain_load_id(con, u, s))
        c.write_marts(con, frames)
        out[(u, s)] = frames
    return out


def test_marts_add_up_and_regime_follows_the_model_sign(con):
    computed = compute_all(con)
    assert len(computed) == 4
    daily = rows(con, "SELECT underlying, session, total_gex_usd_per_1pct, call_gex_usd_per_1pct, put_gex_usd_per_1pct, "
                      "gex_at_spot_model_usd_per_1pct, regime, contracts_used FROM mart.regime_daily ORDER BY session")
    assert len(daily) == 4
    for u, s, total, call, put, model, regime, used in daily:
        net, calls, puts, n = rows(con, "SELECT sum(net_gex_usd_per_1pct), sum(call_gex_usd_per_1pct), "
                                        "sum(put_gex_usd_per_1pct), sum(contracts) FROM mart.gex_by_strike "
                                        "WHERE underlying = ? AND session = ?", [u, s])[0]
        assert net == pytest.approx(total, rel=1e-9)
        assert (calls, puts) == (pytest.approx(call, rel=1e-9), pytest.approx(put, rel=1e-9))
        assert n == used
        for table in ("mart.gex_by_expiry", "mart.gex_by_dte"):
            assert rows(con, f"SELECT sum(net_gex_usd_per_1pct) FROM {table} WHERE underlying = ? AND session = ?",
                        [u, s])[0][0] == pytest.approx(total, rel=1e-9)
        assert regime == {1: "positive", -1: "negative", 0: "neutral"}[int(np.sign(model))]
        assert rows(con, "SELECT count(*) FROM mart.gex_by_dte WHERE underlying = ? AND session = ?", [u, s]) == [(4,)]
        assert rows(con, "SELECT count(*) FROM mart.gex_profile WHERE underlying = ? AND session = ?", [u, s]) == [
            (NATIVE.profile_levels,)
        ]
    assert c.pending_sessions(con) == []


def test_every_flip_crossing_is_a_sign_change_of_the_profile(con):
    computed = compute_all(con)
    crossings = rows(con, "SELECT underlying, session, crossing, is_flip FROM mart.flip_crossings ORDER BY ALL")
    assert crossings, "seed 2 has flips: the check must not be vacuous"
    for u, s, x, _ in crossings:
        profile = computed[(u, s)].analysis.gamma_profile
        lo, hi = profile.gex(x * (1 - 1e-4)), profile.gex(x * (1 + 1e-4))
        assert np.sign(lo) == -np.sign(hi), (u, s, x, lo, hi)
    for u, s, flip, distance, spot in rows(con, "SELECT underlying, session, gamma_flip, flip_distance_pct, spot "
                                               "FROM mart.regime_daily"):
        flips = [x for uu, ss, x, is_flip in crossings if (uu, ss) == (u, s) and is_flip]
        assert flips == ([] if flip is None else [flip])
        assert (distance is None) == (flip is None)
        if flip is not None:
            assert distance == pytest.approx(100 * (flip - spot) / spot)


@pytest.mark.parametrize("name", ["native", "perfiliev"])
def test_computing_twice_leaves_identical_content(con, name):
    compute_all(con, conventions=preset(name))
    first = table_digests(con)
    compute_all(con, conventions=preset(name))
    assert table_digests(con) == first
    assert all(first[t].split(":")[0] != "0" for t in MARTS)


def test_snapshot_round_trips_the_loaded_chain_with_the_feed_oi(con, market):
    landing, _ = market
    for file in sorted((landing / "chains").glob("*.csv")):
        original = read_chain(file)
        chain = c.read_chain(con, original.underlying, original.session)
        rebuilt = chain.snapshot
        assert chain.oi_source == c.OI_FEED
        assert (rebuilt.spot, rebuilt.session, rebuilt.valuation_ts, rebuilt.snapshot_ts, rebuilt.header_date) == (
            original.spot, original.session, original.valuation_ts, original.snapshot_ts, original.header_date
        )
        assert rebuilt.frame.schema == original.frame.schema
        key = ["symbol"]
        a, b = original.frame.sort(key), rebuilt.frame.sort(key)
        assert a.drop("open_interest", "oi_date").equals(b.drop("open_interest", "oi_date"))
        # documented OI rule: the OCC figure published that morning where the feed has the contract, else the chain's
        feed = pl.DataFrame(
            rows(con, "SELECT root, expiration, strike, \"right\", open_interest FROM raw.open_interest "
                      "WHERE underlying = ? AND publish_date = ?", [original.underlying, original.session]),
            schema={"root": pl.String, "expiration": pl.Date, "strike": pl.Float64, "right": pl.String, "feed": pl.Int64},
            orient="row",
        )
        expected = a.with_columns(pl.col("right").cast(pl.String)).join(
            feed, on=["root", "expiration", "strike", "right"], how="left"
        ).select("symbol", oi=pl.coalesce("feed", "open_interest"))
        assert expected.sort("symbol")["oi"].to_list() == b["open_interest"].to_list()
        assert feed.height > 0


def test_without_a_same_morning_publication_the_chain_oi_is_used(con, market):
    landing, _ = market
    file = sorted((landing / "chains").glob("*.csv"))[-1]
    original = read_chain(file)
    con.execute("DELETE FROM raw.open_interest WHERE publish_date = ?", [original.session])  # feed now stale
    chain = c.read_chain(con, original.underlying, original.session)
    rebuilt = chain.snapshot
    assert chain.oi_source == c.OI_CHAIN
    assert original.frame.sort("symbol").equals(rebuilt.frame.sort("symbol"))
    frames = c.compute_session(rebuilt, NATIVE, 0.0)
    assert frames.regime_daily["oi_source"].to_list() == [c.OI_CHAIN]


def test_rate_is_the_curve_at_30_days_else_the_fallback(con):
    session = c.loaded_sessions(con)[0][1]
    curve = dict(rows(con, "SELECT tenor_days, rate FROM core.rates WHERE session = ?", [session]))
    assert c.rate_for(con, session) == pytest.approx(curve[30])  # the generated curve has a 30-day point
    con.execute("DELETE FROM raw.rates WHERE tenor_days = 30")
    expected = curve[91]  # flat below the shortest tenor
    assert c.rate_for(con, session) == pytest.approx(expected)
    con.execute("DELETE FROM raw.rates")
    con.execute("UPDATE core.settings SET value = 0.045 WHERE name = 'fallback_rate'")
    assert c.rate_for(con, session) == pytest.approx(0.045)
    assert c.rate_for(con, dt.date(1999, 1, 4)) == pytest.approx(0.045)  # no chain: core.settings directly


def test_rates_of_several_sessions_in_one_query_equal_each_sessions_rate(con):
    """``rates_for`` (one query for a batch's sessions) gives what ``rate_for`` gives session by session: curves,
    a curve without its 30-day point, the fallback of a session with no recent curve, and a session not loaded."""
    sessions = [s for _, s in c.loaded_sessions(con)]
    assert len(set(sessions)) >= 2
    con.execute("DELETE FROM raw.rates WHERE date <= ? AND tenor_days = 30", [sessions[0]])  # the first without 30 days
    con.execute("DELETE FROM raw.rates WHERE date = (SELECT max(date) FROM raw.rates)")
    asked = [*sessions, dt.date(1999, 1, 4), sessions[0]]  # repeats and an unloaded session are fine
    got = c.rates_for(con, asked)
    assert set(got) == set(asked)
    assert got == {s: c.rate_for(con, s) for s in asked}  # bit for bit: the same arithmetic
    assert c.rates_for(con, []) == {}


def test_pending_sessions_follow_loads(con):
    loaded = c.loaded_sessions(con)
    assert c.pending_sessions(con) == loaded
    compute_all(con, loaded[:2])
    assert c.pending_sessions(con) == loaded[2:]
    assert c.pending_sessions(con, "NDX") == []
    u, s = loaded[0]
    con.execute("UPDATE mart.regime_daily SET load_id = 'older' WHERE underlying = ? AND session = ?", [u, s])
    assert c.pending_sessions(con) == [loaded[0], *loaded[2:]]  # computed from an older load of that session
    assert c.pending_sessions(con, preset="gflows") == loaded  # computed under another preset


def test_every_mart_column_has_a_comment(con):
    missing = rows(con, "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'mart' "
                        "AND (comment IS NULL OR comment = '')")
    assert missing == []
    assert rows(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mart' AND comment IS NULL") == [(0,)]


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); the first compute is a real process."""
    return gex_in_process(*args, env={"COLUMNS": "160"})


def test_gex_compute_all_then_nothing_pending(wh):
    done = gex_process("compute", "--all", "--warehouse", str(wh), env={"COLUMNS": "160"})
    assert done.returncode == 0, done.stderr
    assert "4 sessions computed (0 failed)" in done.stdout
    assert "2025-01-02" in done.stdout and "SPX" in done.stdout
    with connect(wh, read_only=True) as con:
        assert rows(con, "SELECT flow, status, rows_out > 0, count(*) FROM mart.runs GROUP BY ALL") == [
            ("compute", "ok", True, 4)
        ]
        before = {t: d for t, d in table_digests(con).items() if t != "mart.runs"}
    again = gex("compute", "--all", "--warehouse", str(wh))
    assert again.returncode == 0 and "nothing to compute" in again.stdout
    forced = gex("compute", "--session", "2025-01-03", "--underlying", "spx", "--force", "--warehouse", str(wh))
    assert forced.returncode == 0, forced.stderr
    with connect(wh, read_only=True) as con:
        assert {t: d for t, d in table_digests(con).items() if t != "mart.runs"} == before
        assert rows(con, "SELECT count(*) FROM mart.runs") == [(5,)]


def test_gex_compute_usage_and_missing_inputs(wh, tmp_path):
    assert gex("compute", "--warehouse", str(wh)).returncode == 2
    assert gex("compute", "--all", "--session", "2025-01-03", "--warehouse", str(wh)).returncode == 2
    assert gex("compute", "--session", "Jan 3", "--warehouse", str(wh)).returncode == 2
    assert gex("compute", "--all", "--preset", "nope", "--warehouse", str(wh)).returncode == 2
    missing = gex("compute", "--session", "2025-01-04", "--warehouse", str(wh))
    assert missing.returncode == 1 and "no chain" in missing.stderr
    absent = gex("compute", "--all", "--warehouse", str(tmp_path / "none.duckdb"))
    assert absent.returncode == 1 and "gex ingest" in absent.stderr


#: The as-of rule written the plain way (an ASOF join, slow on a year of feed): the reference for the
#: aggregate in core.contracts_as_of.
_ASOF_REFERENCE = """
SELECT q.symbol, q.open_interest AS chain_open_interest, q.oi_date AS chain_oi_date,
       f.open_interest AS feed_open_interest, f.oi_date AS feed_oi_date, f.publish_date AS feed_publish_date
FROM raw.chain_quotes AS q
ASOF LEFT JOIN raw.open_interest AS f
    ON f.underlying = q.underlying AND f.root = q.root AND f.expiration = q.expiration AND f.strike = q.strike
    AND f."right" = q."right" AND q.session >= f.publish_date
WHERE q.underlying = ? AND q.session = ?
ORDER BY q.source_line, q.symbol
"""


def test_fast_as_of_open_interest_equals_a_plain_asof_join(con):
    """core.contracts_as_of's aggregate gives the ASOF join's rows, also for contracts missing from the latest
    publication (they take an older one) and for a session whose morning publication is gone."""
    keys = [(u, s) for u, s, _ in c.loaded_snapshots(con)]  # one end-of-day snapshot per session here
    cols = ["symbol", "chain_open_interest", "chain_oi_date", "feed_open_interest", "feed_oi_date", "feed_publish_date"]
    u, s = keys[2]
    con.execute("DELETE FROM raw.open_interest WHERE underlying = ? AND publish_date = ? AND strike % 50 = 0", [u, s])
    con.execute("DELETE FROM raw.open_interest WHERE underlying = ? AND publish_date = ?", [u, keys[3][1]])
    for u, s, v in c.loaded_snapshots(con):
        fast = c._frame(con, c._CONTRACTS_AS_OF.format(columns="symbol, source_line"),
                        {"underlying": u, "session": s, "valuation_ts": v}).select(cols)
        view = c._frame(con, _ASOF_REFERENCE, [u, s])
        assert fast.equals(view), (u, s)
        assert fast["feed_open_interest"].is_not_null().any()
