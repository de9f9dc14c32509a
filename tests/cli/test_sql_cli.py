"""`gex sql` on a generated warehouse: exit codes, stdout and stderr as a user sees them. The command runs in this
process (:mod:`tests.gex_runner`); the table output and a refusal also go through a real ``gex`` process."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.gex_runner import Done, gex_process
from tests.gex_runner import gex_in_process as gex
from tests.warehouse.published_market import QUERIES_DIR, built_warehouse, copy_of


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return built_warehouse(str(tmp_path_factory.getbasetemp() / "published"))


def expected(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def one_line_error(done: Done, code: int) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert message.startswith("gex: error: ")
    return message


@pytest.mark.parametrize("run", [gex, gex_process], ids=["in-process", "process"])
def test_table_output(warehouse, run):
    done = run("sql", "SELECT underlying, count(*) AS sessions FROM regime_daily GROUP BY 1 ORDER BY 1", "-w", str(warehouse))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("underlying" in line and "sessions" in line for line in lines)
    assert any("NDX" in line and "25" in line for line in lines) and any("SPX" in line and "30" in line for line in lines)
    assert lines[-1] == "2 rows"


def test_table_output_stops_at_max_rows(warehouse):
    done = gex("sql", "SELECT range AS n FROM range(5)", "-w", str(warehouse), "--max-rows", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("5 rows; 3 more not shown")


def test_csv_output_round_trips_the_values(warehouse):
    sql = ("SELECT session, spot, gamma_flip, flip_crossings, valuation_ts, regime_changed FROM regime_daily "
           "WHERE underlying = 'SPX' ORDER BY session")
    done = gex("sql", sql, "-w", str(warehouse), "--format", "csv")
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table[0] == ["session", "spot", "gamma_flip", "flip_crossings", "valuation_ts", "regime_changed"]
    truth = expected(warehouse, sql.replace("valuation_ts", "strftime(valuation_ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S')"))
    assert len(table) == 1 + len(truth) == 31
    for row, (session, spot, flip, crossings, stamp, changed) in zip(table[1:], truth):
        assert row[0] == session.isoformat()
        assert float(row[1]) == spot  # exact: shortest round-tripping text
        assert row[2] == ("" if flip is None else repr(flip))
        assert json.loads(row[3]) == crossings
        assert row[4] == stamp + "+00:00"  # instants in UTC whatever the machine's zone
        assert row[5] == str(changed)


def test_json_output_with_bound_parameters(warehouse):
    sql = "SELECT session, underlying, gamma_flip, flip_crossings, rv_21d FROM regime_daily WHERE underlying = $u AND session >= $d ORDER BY session"
    done = gex("sql", sql, "-w", str(warehouse), "-f", "json", "--param", "u=NDX", "--param", "d=2025-02-01")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    truth = expected(warehouse, sql.replace("$u", "?").replace("$d", "?"), ["NDX", "2025-02-01"])
    assert len(got) == len(truth) > 0
    for obj, (session, underlying, flip, crossings, rv) in zip(got, truth):
        assert obj == {"session": session.isoformat(), "underlying": underlying, "gamma_flip": flip,
                       "flip_crossings": crossings, "rv_21d": rv}


def test_values_without_a_json_type_are_written_as_text(warehouse):
    sql = ("SELECT INTERVAL 3 DAY AS i, INTERVAL '1 month 2 hours 3.5 seconds' AS j, 1.50::DECIMAL(5, 2) AS d, "
           "'nan'::DOUBLE AS nan, NULL AS nothing")
    done = gex("sql", sql, "-w", str(warehouse), "-f", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"i": "3 days", "j": "1 month 02:00:03.500000", "d": "1.50", "nan": None,
                                        "nothing": None}]
    done = gex("sql", sql, "-w", str(warehouse), "-f", "csv")
    assert done.stdout.splitlines() == ["i,j,d,nan,nothing", "3 days,1 month 02:00:03.500000,1.50,nan,"]


def test_a_parameter_is_a_value_never_sql(warehouse):
    done = gex("sql", "SELECT count(*) AS n FROM regime_daily WHERE underlying = $u", "-w", str(warehouse), "-f", "json",
               "-p", "u=SPX' OR '1'='1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"n": 0}]


def test_warehouse_from_the_environment_and_a_query_file(warehouse):
    done = gex("sql", str(QUERIES_DIR / "regime_changes.sql"), "-f", "csv", env={"GEX_WAREHOUSE": str(warehouse)})
    assert done.returncode == 0, done.stderr
    header, *rows = list(csv.reader(io.StringIO(done.stdout)))
    assert header[:4] == ["underlying", "session", "previous_regime", "regime"]
    assert len(rows) == expected(warehouse, "SELECT count(*) FROM regime_history WHERE regime_changed")[0][0] > 0


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM mart.runs", "CREATE TABLE main.scratch AS SELECT 1 AS x", "DROP VIEW regime_daily",
     "UPDATE mart.regime_daily SET regime = 'negative'"],
)
def test_writes_are_refused_and_change_nothing(warehouse, statement):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    message = one_line_error(gex("sql", statement, "-w", str(warehouse)), 1)
    assert "read-only" in message
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


def test_a_refusal_from_a_real_process_is_one_line_exit_1(warehouse):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    message = one_line_error(gex_process("sql", "DELETE FROM mart.runs", "-w", str(warehouse)), 1)
    assert "read-only" in message
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [("SELEC 1", "Parser Error"), ("SELECT * FROM no_such_view", "no_such_view does not exist"),
     ("SELECT no_such_column FROM regime_daily", "no_such_column")],
)
def test_a_bad_query_is_one_line_exit_1(warehouse, sql, fragment):
    assert fragment in one_line_error(gex("sql", sql, "-w", str(warehouse)), 1)


def test_a_warehouse_older_than_the_views_says_how_to_upgrade(tmp_path):
    from gex_warehouse.connect import connect
    from gex_warehouse.migrate import discover, migrate

    old = tmp_path / "old.duckdb"
    con = connect(old, migrate=False)
    try:
        migrate(con, [m for m in discover() if m.version == 1], models=[])  # the tables, no view yet
    finally:
        con.close()
    message = one_line_error(gex("sql", "SELECT * FROM regime_daily", "-w", str(old)), 1)
    assert "does not exist" in message and "predates the current views" in message and "gex compute --all" in message


def test_a_missing_warehouse_is_explained(tmp_path):
    message = one_line_error(gex("sql", "SELECT 1", "-w", str(tmp_path / "none.duckdb")), 1)
    assert "no warehouse at" in message
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["SELECT 1", "-f", "xml"], "unknown --format"), (["SELECT 1", "-p", "novalue"], "NAME=VALUE"),
     (["   "], "empty query"), (["missing_file.sql"], "not found"),
     (["SELECT 1; SELECT 2"], "give one SQL statement (got 2)")],
)
def test_usage_errors_exit_2(warehouse, args, fragment):
    assert fragment in one_line_error(gex("sql", *args, "-w", str(warehouse)), 2)


def test_help():
    done = gex("sql", "--help")
    assert done.returncode == 0 and "read-only" in done.stdout


def test_a_writer_holding_the_lock_is_explained_in_plain_words(warehouse, tmp_path):
    path = copy_of(warehouse, tmp_path / "gex.duckdb")
    blocker = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gex_warehouse.connect import connect; c = connect(sys.argv[1]); "
         "print('ok', flush=True); time.sleep(120)", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert blocker.stdout is not None and blocker.stdout.readline().strip() == "ok"
        message = one_line_error(gex("sql", "SELECT count(*) FROM regime_daily", "-w", str(path)), 1)
    finally:
        blocker.kill()
        blocker.wait()
    assert f"in use by process {blocker.pid}" in message  # what holds it
    assert "DuckDB lets one process write a warehouse and no other process open it" in message
    assert "Wait for that process to finish" in message
    assert f"Parquet exports of the published views in {tmp_path / 'exports'}/" in message
    # once the writer is gone the same command works
    done = gex("sql", "SELECT count(*) AS n FROM regime_daily", "-w", str(path), "-f", "json")
    assert done.returncode == 0 and json.loads(done.stdout) == [{"n": 55}]
