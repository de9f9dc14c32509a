"""Load semantics: no-op re-loads, session replacement, byte-identical re-runs, chain-derived closes, views."""

from __future__ import annotations

import datetime as dt

import pytest
from gex_warehouse.connect import connect
from gex_warehouse.digest import VOLATILE_COLUMNS, table_digests
from gex_warehouse.load import checkpoint, ingest_file

from tests.warehouse.helpers import SESSION, chain_csv, chain_json, fresh_warehouse, rows

NEXT = dt.date(2024, 1, 8)


@pytest.fixture
def files(tmp_path):
    """Two sessions, a second version of the first session, a file with rejects and a failing file."""
    folder = tmp_path / "in"
    folder.mkdir()
    a = chain_csv(folder / "a.csv", SESSION, seed=11)
    b = chain_csv(folder / "b.csv", NEXT, seed=12)
    a2 = chain_csv(folder / "a2.csv", SESSION, seed=13)
    rejects = folder / "c.csv"
    chain_csv(rejects, dt.date(2024, 1, 9), seed=14)
    text = rejects.read_text().split("\n")
    text[7] = text[7].replace("SPXW", "SPXQ")  # one line with an unknown root
    rejects.write_text("\n".join(text))
    broken = folder / "d.csv"
    broken.write_bytes(b"\x00\x01garbage" * 100)
    return {"a": a, "b": b, "a2": a2, "rejects": rejects, "broken": broken}


def _state(con):
    return table_digests(con)


def test_same_file_again_is_a_noop_that_says_so(con, files):
    first = ingest_file(con, files["a"])
    before = _state(con)
    again = ingest_file(con, files["a"])
    assert first.status == "loaded" and again.status == "already loaded"
    assert again.message == f"already loaded as load {first.load_id}"
    assert (again.rows_in, again.rows_loaded, again.rows_excluded) == (first.rows_in, first.rows_loaded, first.rows_excluded)
    assert _state(con) == before
    copy = files["a"].with_name("copy-of-a.csv")
    copy.write_bytes(files["a"].read_bytes())
    same_content = ingest_file(con, copy)
    assert same_content.status == "already loaded" and str(files["a"]) in (same_content.message or "")
    assert _state(con) == before


def test_rerunning_any_ingest_leaves_identical_table_contents(tmp_path, template_dir, files):
    order = [files[k] for k in ("a", "b", "rejects", "broken", "a2")]
    path = fresh_warehouse(tmp_path, template_dir)
    con = connect(path)
    try:
        statuses = [ingest_file(con, f).status for f in order]
        assert statuses == ["loaded", "loaded", "loaded", "failed", "loaded"]
        first = _state(con)
        assert {t for t in first if t.startswith("raw.")} >= {"raw.chain_quotes", "raw.quarantine", "raw.load_manifest"}
        statuses = [ingest_file(con, f).status for f in order]
        assert statuses == ["already loaded", "already loaded", "already loaded", "failed", "already loaded"]
        assert _state(con) == first
        checkpoint(con)
    finally:
        con.close()
    # A second warehouse built from the same files holds the same rows (load ids come from content).
    other = tmp_path / "other"
    other.mkdir()
    con2 = connect(fresh_warehouse(other, template_dir))
    try:
        for f in order:
            ingest_file(con2, f)
        assert _state(con2) == first
    finally:
        con2.close()


def test_digest_sees_changes_and_ignores_only_the_declared_volatile_columns(con, files):
    ingest_file(con, files["a"])
    before = _state(con)
    con.execute("UPDATE raw.load_manifest SET started_at = started_at - INTERVAL 1 DAY")
    assert _state(con) == before
    con.execute("UPDATE raw.chain_quotes SET bid = bid + 0.01 WHERE source_line = 9")
    assert _state(con)["raw.chain_quotes"] != before["raw.chain_quotes"]
    assert set(VOLATILE_COLUMNS) == {"raw.load_manifest", "meta.schema_migrations", "mart.runs"}


def test_reloading_a_session_replaces_it_in_one_transaction(con, files):
    a = ingest_file(con, files["a"])
    b = ingest_file(con, files["b"])
    a_rejects = rows(con, "SELECT count(*) FROM raw.quarantine WHERE load_id = ?", [a.load_id])
    a2 = ingest_file(con, files["a2"])
    assert a2.status == "loaded"
    assert a2.replaced == [f"SPX {SESSION} (was load {a.load_id}: {files['a']})"]
    by_load = dict(rows(con, "SELECT load_id, count(*) FROM raw.chain_quotes GROUP BY ALL"))
    assert by_load == {a2.load_id: a2.rows_loaded, b.load_id: b.rows_loaded}
    assert rows(con, "SELECT load_id FROM raw.chain_snapshots WHERE session = ?", [SESSION]) == [(a2.load_id,)]
    manifest = dict(rows(con, "SELECT load_id, status || ':' || coalesce(superseded_by, '') FROM raw.load_manifest"))
    assert manifest == {a.load_id: f"superseded:{a2.load_id}", b.load_id: "loaded:", a2.load_id: "loaded:"}
    # the superseded load keeps its own accounting and quarantine (history of what that file held)
    assert rows(con, "SELECT count(*) FROM raw.quarantine WHERE load_id = ?", [a.load_id]) == a_rejects
    # loading the superseded file again is a no-op that says why; --force makes it current again
    again = ingest_file(con, files["a"])
    assert again.status == "already loaded" and "since replaced by load" in (again.message or "")
    forced = ingest_file(con, files["a"], force=True)
    assert forced.status == "loaded" and forced.load_id == a.load_id
    assert rows(con, "SELECT load_id FROM raw.chain_snapshots WHERE session = ?", [SESSION]) == [(a.load_id,)]
    assert rows(con, "SELECT status FROM raw.load_manifest WHERE load_id = ?", [a2.load_id]) == [("superseded",)]


def test_accounting_holds_for_every_load(con, files):
    for f in files.values():
        ingest_file(con, f)
    bad = rows(
        con,
        "SELECT m.load_id FROM raw.load_manifest AS m LEFT JOIN (SELECT load_id, sum(records) AS n FROM raw.quarantine "
        "GROUP BY ALL) AS q USING (load_id) WHERE m.rows_in <> m.rows_loaded + m.rows_rejected "
        "OR coalesce(q.n, 0) <> m.rows_rejected",
    )
    assert bad == []
    current = rows(
        con,
        "SELECT s.load_id FROM raw.chain_snapshots AS s JOIN raw.load_manifest AS m USING (load_id) "
        "JOIN (SELECT load_id, count(*) AS n, count(*) FILTER (WHERE settlement_ts <= valuation_ts) AS x "
        "FROM raw.chain_quotes GROUP BY ALL) AS q USING (load_id) "
        "WHERE q.n <> m.rows_loaded OR q.x <> m.rows_excluded OR s.contracts <> q.n OR s.expired_contracts <> q.x",
    )
    assert current == []


def test_chain_closes_sessions_and_contracts_views(con, files, tmp_path):
    ingest_file(con, files["a"])
    ingest_file(con, files["b"])
    closes = rows(con, "SELECT underlying, session, \"close\", source FROM raw.underlying_closes ORDER BY session")
    assert closes == [("SPX", SESSION, 4700.0, "chain"), ("SPX", NEXT, 4700.0, "chain")]
    sessions = rows(
        con,
        "SELECT underlying, session, spot, intraday, partial_chain, has_expired_rows, model_contracts + expired_contracts "
        "= contracts FROM core.sessions ORDER BY session",
    )
    assert sessions == [("SPX", SESSION, 4700.0, False, False, True, True), ("SPX", NEXT, 4700.0, False, False, True, True)]
    expired = rows(
        con,
        "SELECT count(*) FILTER (WHERE expired), count(*) FILTER (WHERE excluded_reason = 'expired'), "
        "count(*) FILTER (WHERE expiration = session) FROM core.contracts",
    )[0]
    assert expired[0] == expired[1] == expired[2] > 0  # evening snapshots: every same-day contract has settled
    # rates: none loaded -> the flat fallback per session
    assert rows(con, "SELECT session, rate, is_fallback FROM core.rates ORDER BY session") == [
        (SESSION, 0.0, True),
        (NEXT, 0.0, True),
    ]


def test_json_chain_loads_and_intraday_snapshot_is_kept_beside_it_without_a_close(con, tmp_path):
    """An intraday snapshot of a session sits beside its end-of-day chain (every snapshot is kept); only the
    end-of-day one gives the session's close, and core.sessions keeps describing the end-of-day chain."""
    path = tmp_path / "spx.json"
    chain_json(path)
    r = ingest_file(con, path)
    assert (r.status, r.format, r.underlying, r.session) == ("loaded", "cboe_json", "SPX", SESSION)
    text = path.read_text().replace('"timestamp": "2024-01-06 01:30:00"', '"timestamp": "2024-01-05 17:00:00"')
    intraday = tmp_path / "spx-intraday.json"
    intraday.write_text(text)
    r2 = ingest_file(con, intraday)
    assert r2.status == "loaded" and r2.session == SESSION and r2.replaced == []
    assert rows(con, "SELECT intraday FROM core.snapshots ORDER BY valuation_ts") == [(True,), (False,)]
    assert rows(con, "SELECT intraday FROM core.sessions") == [(False,)]
    assert rows(con, "SELECT count(*) FROM raw.underlying_closes") == [(1,)]  # the end-of-day chain's
    con.execute("DELETE FROM raw.chain_quotes WHERE load_id = ?", [r.load_id])
    con.execute("DELETE FROM raw.chain_snapshots WHERE load_id = ?", [r.load_id])
    con.execute("DELETE FROM raw.underlying_closes")
    assert ingest_file(con, intraday, force=True).status == "loaded"
    assert rows(con, "SELECT intraday FROM core.sessions") == [(True,)]
    assert rows(con, "SELECT count(*) FROM raw.underlying_closes") == [(0,)]  # an intraday spot is no close
