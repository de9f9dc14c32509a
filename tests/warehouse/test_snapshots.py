"""Every snapshot of a session is kept (issue 12): keys, the daily row, idempotence, the strike-by-time view."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from gex_service import compute as svc
from gex_warehouse.load import ingest_file

from tests.warehouse.helpers import SESSION, chain_json, rows

UTC = dt.timezone.utc
#: 2024-01-05 is a Friday in winter: New York = UTC-5. Intraday snapshots at 10:00, 12:00 and 14:00 ET.
INTRADAY = [dt.datetime(2024, 1, 5, h, 0, tzinfo=UTC) for h in (15, 17, 19)]
EOD_STAMP = "2024-01-06 01:30:00"  # the evening after the close: the end-of-day snapshot


def _snapshot_file(folder: Path, name: str, stamp: str, spot_factor: float = 1.0) -> Path:
    """A copy of the generated Cboe JSON chain taken at ``stamp`` (UTC) with its spot scaled."""
    base = folder / "base.json"
    if not base.exists():
        chain_json(base)
    doc = json.loads(base.read_text())
    doc["timestamp"] = stamp
    for option in doc["data"]["options"]:  # the end-of-day chain prints no IV for expiring contracts: give them one
        if "240105" in option["option"] and not option["iv"]:
            option["iv"] = 0.14
    doc["data"]["current_price"] = round(doc["data"]["current_price"] * spot_factor, 2)
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _intraday_files(folder: Path) -> list[Path]:
    return [
        _snapshot_file(folder, f"spx-{t:%H%M}.json", t.strftime("%Y-%m-%d %H:%M:%S"), 1 + 0.004 * i)
        for i, t in enumerate(INTRADAY)
    ]


def _compute(con) -> list[svc.SessionOutcome]:
    outcomes = svc.compute(con, svc.plan(con))
    assert all(o.status == "ok" for o in outcomes), [o.message for o in outcomes]
    return outcomes


def test_three_snapshots_are_three_rows_and_the_daily_row_is_the_latest_then_the_end_of_day(con, tmp_path):
    spots = []
    for path in _intraday_files(tmp_path):
        r = ingest_file(con, path)
        assert r.status == "loaded" and r.replaced == [], r
        spots.append(json.loads(path.read_text())["data"]["current_price"])
    outcomes = _compute(con)
    assert [o.valuation_ts for o in outcomes] == INTRADAY  # one job per snapshot, in time order

    snaps = rows(con, "SELECT snapshot_ts, valuation_ts, intraday, spot, oi_date IS NOT NULL, oi_note "
                      "FROM main.regime_snapshots ORDER BY valuation_ts")
    assert [r[1] for r in snaps] == INTRADAY and [r[0] for r in snaps] == INTRADAY
    assert [r[2] for r in snaps] == [True] * 3 and [r[3] for r in snaps] == spots
    assert all(r[4] and r[5].startswith("start of day") for r in snaps)
    # before the end-of-day chain: the daily views show the latest intraday snapshot, flagged
    assert rows(con, "SELECT valuation_ts, intraday, spot FROM main.regime_daily") == [(INTRADAY[-1], True, spots[-1])]
    assert rows(con, "SELECT DISTINCT valuation_ts FROM mart.gex_by_strike SEMI JOIN main.gex_by_strike "
                     "USING (underlying, session, strike)") != []
    assert rows(con, "SELECT count(*) FROM main.gex_by_strike") == \
        rows(con, "SELECT count(*) FROM main.gex_strike_snapshots WHERE valuation_ts = ?", [INTRADAY[-1]])

    eod = _snapshot_file(tmp_path, "spx-eod.json", EOD_STAMP)
    assert ingest_file(con, eod).replaced == []
    assert [(j.valuation_ts, j.preset) for j in svc.plan(con)] == \
        [(dt.datetime(2024, 1, 5, 21, 0, tzinfo=UTC), "native")]  # only the new snapshot is pending
    _compute(con)
    daily = rows(con, "SELECT valuation_ts, intraday, spot FROM main.regime_daily")
    assert daily == [(dt.datetime(2024, 1, 5, 21, 0, tzinfo=UTC), False, json.loads(eod.read_text())["data"]["current_price"])]
    assert rows(con, "SELECT count(*), count(*) FILTER (WHERE intraday) FROM main.regime_snapshots") == [(4, 3)]
    assert rows(con, "SELECT count(DISTINCT valuation_ts) FROM main.gex_strike_snapshots") == [(4,)]
    assert rows(con, "SELECT count(*) FROM main.gex_by_strike") == \
        rows(con, "SELECT count(*) FROM main.gex_strike_snapshots WHERE NOT EXISTS (SELECT 1 FROM main.regime_snapshots "
                  "AS r WHERE r.valuation_ts = gex_strike_snapshots.valuation_ts AND r.intraday)")
    # the session's close comes from the end-of-day chain only
    assert rows(con, "SELECT count(*) FROM raw.underlying_closes") == [(1,)]
    assert rows(con, "SELECT count(*) FROM mart.runs WHERE valuation_ts IS NULL") == [(0,)]


def test_loading_the_same_snapshot_twice_is_a_no_op(con, tmp_path):
    first = _intraday_files(tmp_path)[0]
    ingest_file(con, first)
    _compute(con)
    views = {"regime_snapshots": "load_id", "regime_daily": "load_id", "gex_strike_snapshots": "", "gex_profile": ""}
    before = {t: rows(con, f"SELECT * {f'EXCLUDE ({x})' if x else ''} FROM main.{t} ORDER BY ALL") for t, x in views.items()}
    assert ingest_file(con, first).status == "already loaded"
    copy = tmp_path / "copy-of-the-same-snapshot.json"
    shutil.copyfile(first, copy)
    assert ingest_file(con, copy).status == "already loaded"  # same bytes under another name
    assert svc.plan(con) == []
    after = {t: rows(con, f"SELECT * {f'EXCLUDE ({x})' if x else ''} FROM main.{t} ORDER BY ALL") for t, x in views.items()}
    assert after == before
    # a corrected file of the same instant replaces that snapshot (still one row), as an end-of-day file does
    doc = json.loads(first.read_text())
    doc["data"]["options"] = doc["data"]["options"][:-2]
    corrected = tmp_path / "corrected.json"
    corrected.write_text(json.dumps(doc), encoding="utf-8")
    again = ingest_file(con, corrected)
    assert again.status == "loaded" and len(again.replaced) == 1
    _compute(con)
    assert rows(con, "SELECT count(*) FROM main.regime_snapshots") == [(1,)]
    after = {t: rows(con, f"SELECT * {f'EXCLUDE ({x})' if x else ''} FROM main.{t} ORDER BY ALL") for t, x in views.items()}
    assert after != before
    assert rows(con, "SELECT count(*) FROM raw.chain_snapshots") == [(1,)]


def test_the_strike_by_time_view_sums_to_each_snapshots_total(con, tmp_path):
    for path in _intraday_files(tmp_path):
        ingest_file(con, path)
    _compute(con)
    sums = rows(con, """
        SELECT r.valuation_ts, r.total_gex_usd_per_1pct, sum(s.net_gex_usd_per_1pct),
               sum(s.call_gex_usd_per_1pct), r.call_gex_usd_per_1pct
        FROM main.regime_snapshots AS r JOIN main.gex_strike_snapshots AS s USING (underlying, session, valuation_ts, preset)
        GROUP BY ALL ORDER BY 1""")
    assert len(sums) == 3
    for _, total, by_strike, calls_by_strike, calls in sums:
        assert by_strike == pytest.approx(total, rel=1e-9, abs=1.0)
        assert calls_by_strike == pytest.approx(calls, rel=1e-9, abs=1.0)


def test_zero_dte_gex_is_the_gex_of_the_contracts_settling_by_the_close(con, tmp_path):
    """Intraday on an expiration day, 0-DTE = the PM contracts expiring that day (the AM ones settled at the
    open): the by-expiry mart's rows of them sum to the snapshot's zero_dte_gex_usd_per_1pct."""
    for path in _intraday_files(tmp_path):
        ingest_file(con, path)
    _compute(con)
    got = rows(con, """
        SELECT r.valuation_ts, r.zero_dte_gex_usd_per_1pct, r.zero_dte_gamma_share,
               (SELECT coalesce(sum(e.net_gex_usd_per_1pct), 0) FROM mart.gex_by_expiry AS e
                WHERE e.underlying = r.underlying AND e.session = r.session AND e.valuation_ts = r.valuation_ts
                  AND e.preset = r.preset AND e.expiration = r.session AND e.settlement = 'PM')
        FROM mart.regime_daily AS r ORDER BY 1""")
    assert len(got) == 3
    assert any(share > 0 for _, _, share, _ in got)  # the generated chain lists same-day PM expiries
    for _, zero_dte, _, from_expiries in got:
        assert zero_dte == pytest.approx(from_expiries, rel=1e-9, abs=1.0)
    assert SESSION == dt.date(2024, 1, 5)
