"""mart.expiry_views and mart.gex_profile_by_expiries: written by the compute, published, documented, idempotent."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from gex.conventions import NATIVE
from gex.expiry_views import EXPIRY_FILTERS
from gex_service import compute as svc
from gex_warehouse import compute as c
from gex_warehouse.load import ingest_file
from gex_warehouse.migrate import undocumented

from tests.warehouse.helpers import chain_csv


def _computed(con: duckdb.DuckDBPyConnection, tmp_path) -> None:
    ingest_file(con, chain_csv(tmp_path / "spx.csv", max_contracts=600))
    svc.compute(con, svc.plan(con))


def test_every_filter_is_a_row_and_the_all_row_is_the_daily_row(con, tmp_path):
    _computed(con, tmp_path)
    views = pl.from_arrow(con.sql("SELECT * FROM main.expiry_views ORDER BY expiries").to_arrow_table())
    assert sorted(views["expiries"]) == sorted(EXPIRY_FILTERS)
    daily = con.execute("SELECT total_gex_usd_per_1pct, gamma_flip, zero_dte_gamma_share, contracts_used, valuation_ts "
                        "FROM main.regime_daily").fetchall()[0]
    rows = {r["expiries"]: r for r in views.iter_rows(named=True)}
    assert rows["all"]["total_gex_usd_per_1pct"] == daily[0] and rows["all"]["gamma_flip"] == daily[1]
    assert rows["0dte"]["gross_gex_share"] == daily[2] and rows["all"]["contracts"] == daily[3]
    assert rows["0dte"]["total_gex_usd_per_1pct"] + rows["ex-0dte"]["total_gex_usd_per_1pct"] == pytest.approx(daily[0], rel=1e-9)
    assert rows["all"]["valuation_ts"] == daily[4]


def test_profiles_cover_every_non_empty_filter_but_all_on_the_daily_grid(con, tmp_path):
    _computed(con, tmp_path)
    got = dict(con.execute("SELECT expiries, count(*) FROM main.gex_profile_by_expiries GROUP BY ALL").fetchall())
    grid = con.execute("SELECT count(*) FROM main.gex_profile").fetchall()[0][0]
    non_empty = {e for e, n in con.execute("SELECT expiries, contracts FROM main.expiry_views").fetchall() if n and e != "all"}
    assert set(got) == non_empty and set(got.values()) == {grid}
    same_grid = con.execute("SELECT count(*) FROM main.gex_profile_by_expiries b JOIN main.gex_profile p "
                            "USING (session, underlying, spot_level) WHERE b.expiries = '0dte'").fetchall()[0][0]
    assert same_grid == grid


def test_recomputing_is_byte_identical_and_documented(con, tmp_path):
    _computed(con, tmp_path)
    before = con.execute("SELECT * FROM mart.expiry_views ORDER BY ALL").fetchall()
    prof = con.execute("SELECT * FROM mart.gex_profile_by_expiries ORDER BY ALL").fetchall()
    (u, s), = c.loaded_sessions(con)
    c.write_marts(con, c.compute_chain(c.read_chain(con, u, s), NATIVE))
    assert con.execute("SELECT * FROM mart.expiry_views ORDER BY ALL").fetchall() == before
    assert con.execute("SELECT * FROM mart.gex_profile_by_expiries ORDER BY ALL").fetchall() == prof
    assert undocumented(con) == []



def test_every_snapshot_is_kept_and_the_published_view_shows_the_daily_one(con):
    import dataclasses
    import datetime as dt

    from gex.calendar import NEW_YORK, session_close

    from tests.warehouse.helpers import SESSION, snapshot

    eod = snapshot(max_contracts=400)
    noon = dt.datetime.combine(SESSION, dt.time(12, 0), NEW_YORK).astimezone(dt.timezone.utc)
    intraday = dataclasses.replace(eod, valuation_ts=noon, snapshot_ts=noon)
    c.write_marts(con, c.compute_session(intraday, NATIVE, 0.0))
    published = con.execute("SELECT DISTINCT valuation_ts FROM main.expiry_views").fetchall()
    assert [r[0] for r in published] == [noon]  # before the close: the latest intraday snapshot
    c.write_marts(con, c.compute_session(eod, NATIVE, 0.0))
    assert con.execute("SELECT count(*), count(DISTINCT valuation_ts) FROM mart.expiry_views").fetchall() == [(12, 2)]
    published = con.execute("SELECT DISTINCT valuation_ts FROM main.expiry_views").fetchall()
    assert [r[0] for r in published] == [session_close(SESSION)]
    assert con.execute("SELECT count(DISTINCT valuation_ts) FROM main.gex_profile_by_expiries").fetchall() == [(1,)]
    # each snapshot's rows are its own: the 0dte share is that snapshot's regime row's
    pairs = con.execute("SELECT e.gross_gex_share, r.zero_dte_gamma_share FROM mart.expiry_views AS e JOIN mart.regime_daily "
                        "AS r USING (underlying, session, valuation_ts, preset) WHERE e.expiries = '0dte'").fetchall()
    assert len(pairs) == 2 and all(a == b for a, b in pairs)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_profile_rows_built_from_arrays_equal_the_concat_and_select(seed):
    """expiry_mart_frames builds the mart.gex_profile_by_expiries rows from numpy arrays and repeated keys; the
    reference is the concat and select it replaced: same schema, same values (the arrays are the views' own)."""
    from gex.analysis import analyze
    from gex_warehouse.expiry_marts import _profile_rows_reference, expiry_mart_frames

    from tests.warehouse.helpers import snapshot

    a = analyze(snapshot(seed=seed, max_contracts=400), NATIVE, rate=0.04)
    _, fast = expiry_mart_frames(a)
    reference = _profile_rows_reference(a)
    assert fast.height > 0 and fast.schema == reference.schema
    assert fast.equals(reference)
