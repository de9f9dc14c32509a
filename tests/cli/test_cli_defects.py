"""Issue 10 defects 2, 11 and 12 (CLI parts): a warehouse path that is not a DuckDB file, a folder, or under
a file; `report --out` / `sample --out` that cannot be written; `compute -u` of an unloaded underlying; the
writer wait announced; spots exact doubles from file to export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from gex_warehouse.connect import WarehouseError, WarehouseLockedError, check_warehouse_file, connect

from tests.gex_runner import Done, gex_in_process, gex_process


def gex(*args: str, cwd: Path | None = None) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); what only a process shows (the entry point's
    internal-error guard, the publish flow) goes through ``gex_process``."""
    return gex_in_process(*args, cwd=cwd)


def one_line(done: Done, code: int) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("gex: error: ") and "Traceback" not in message, message
    return message


def test_a_duckdb_file_has_the_magic_at_offset_8(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path, migrate=False).close()
    assert path.read_bytes()[8:12] == b"DUCK"
    check_warehouse_file(path)  # accepted


@pytest.mark.parametrize(
    ("name", "content", "looks"),
    [("chain.csv", "date,symbol,open_interest\n2025-01-02,SPXW250102C04800000,5962\n", "CSV"),
     ("chain.json", '{"data": {"options": []}}\n', "JSON"), ("notes.duckdb", "hello\n", "text"),
     ("x.parquet", "PAR1\x00\x00", "Parquet")],
)
def test_an_existing_file_that_is_not_duckdb_is_refused_and_left_alone(tmp_path, name, content, looks):
    path = tmp_path / name
    path.write_text(content)
    message = one_line(gex("ingest", str(path), "-w", str(path)), 1)
    assert f"{path} is not a DuckDB warehouse file (it looks like {looks}); give a .duckdb path" in message
    assert path.read_text() == content
    for read_only in (False, True):
        with pytest.raises(WarehouseError, match="not a DuckDB warehouse file"):
            connect(path, read_only=read_only)


def test_a_warehouse_named_like_a_schema_is_refused_in_one_line(tmp_path):
    """DuckDB names the database after its file: ``raw.duckdb`` made ``raw.chain_snapshots`` ambiguous and the
    first migration failed as an internal error. ``main`` and other names work."""
    path = tmp_path / "raw.duckdb"
    message = one_line(gex("ingest", str(tmp_path / "none.csv"), "-w", str(path)), 1)
    assert "'raw' is also the name of one of the warehouse's schemas" in message and "gex.duckdb" in message
    assert not path.exists()
    for name in ("core.duckdb", "MART.duckdb", "meta"):
        for read_only in (False, True):
            with pytest.raises(WarehouseError, match="give another name"):
                connect(tmp_path / name, read_only=read_only)
    connect(tmp_path / "main.duckdb").close()  # not a schema of ours: fine


def test_a_warehouse_upgraded_by_a_newer_version_is_one_line_not_an_internal_error(tmp_path):
    """A warehouse a newer gex migrated (another machine, a rolled-back install) was reported as "internal error:
    MigrationError ... (this is a bug)", exit 3. It is the user's situation to fix: one line, exit 1, the warehouse
    left as it was."""
    from gex_warehouse.migrate import MigrationError

    path = tmp_path / "gex.duckdb"
    connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO meta.schema_migrations VALUES (9999, 'migrations/9999_from_the_future.sql', 'abc', now())")
    con.close()
    before = path.read_bytes()
    for args in (["compute", "--all"], ["ingest", str(tmp_path / "none.csv")]):
        message = one_line(gex_process(*args, "-w", str(path)), 1)  # a process: the internal-error guard is real
        assert "cannot open the warehouse" in message and "has migration 9999" in message, message
        assert "use that version (or newer)" in message and "internal error" not in message
    with pytest.raises(MigrationError):  # still the MigrationError it was, for library callers
        connect(path)
    assert path.read_bytes() == before


def test_a_folder_or_a_path_under_a_file_is_refused(tmp_path):
    landing = tmp_path / "rates.csv"
    landing.write_text("date,tenor_days,rate\n2025-01-02,30,0.04\n")
    message = one_line(gex("ingest", str(landing), "-w", str(tmp_path)), 1)
    assert "is a folder; give a DuckDB file path" in message
    message = one_line(gex("ingest", str(landing), "-w", str(landing / "sub" / "gex.duckdb")), 1)
    assert f"{landing} is a file, not a folder" in message
    message = one_line(gex("sql", "SELECT 1", "-w", str(landing / "gex.duckdb")), 1)
    assert f"{landing} is a file, not a folder" in message


def test_the_wait_for_a_writer_is_announced_once(tmp_path):
    path = tmp_path / "gex.duckdb"
    connect(path).close()
    blocker = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gex_warehouse.connect import connect; c = connect(sys.argv[1]); "
         "print('ok', flush=True); time.sleep(120)", str(path)], stdout=subprocess.PIPE, text=True)
    told: list[WarehouseLockedError] = []
    try:
        assert blocker.stdout is not None and blocker.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseLockedError):
            connect(path, wait_seconds=1.2, on_wait=told.append)
    finally:
        blocker.kill()
        blocker.wait()
    assert len(told) == 1 and told[0].holder().startswith(f"process {blocker.pid}")
    connect(path, wait_seconds=5, on_wait=told.append).close()  # free: nobody is told anything
    assert len(told) == 1


def test_report_out_that_cannot_be_written_is_one_line(tmp_path, tmp_path_factory):
    from tests.warehouse.published_market import built_warehouse

    warehouse = built_warehouse(str(tmp_path_factory.getbasetemp() / "published"))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    message = one_line(gex("report", "-w", str(warehouse), "--out", str(blocker / "report.html")), 1)
    assert f"cannot write the report to {blocker / 'report.html'}" in message
    message = one_line(gex("report", "-w", str(warehouse), "--out", str(tmp_path)), 2)
    assert "is a folder; give the HTML file to write" in message
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "ro"
        locked.mkdir()
        locked.chmod(0o555)
        message = one_line(gex("report", "-w", str(warehouse), "--out", str(locked / "r.html")), 1)
        assert "Permission denied" in message


def test_sample_out_a_folder_is_a_usage_error(tmp_path):
    message = one_line(gex("sample", "--out", str(tmp_path), "--contracts", "50"), 2)
    assert "is a folder; give the CSV file to write" in message
    assert list(tmp_path.iterdir()) == []


def test_compute_of_an_unloaded_underlying_says_what_is_loaded(tmp_path):
    from gex_market import generate_market

    landing = tmp_path / "landing"
    generate_market(landing, sessions=1, contracts=300, seed=3)
    path = tmp_path / "gex.duckdb"
    assert gex("ingest", str(landing), "-w", str(path)).returncode == 0
    message = one_line(gex("compute", "--all", "-u", "XYZ", "-w", str(path)), 1)
    assert message == "gex: error: no chain of underlying XYZ is loaded (loaded: SPX)"


def test_a_spot_of_4697_24_stays_an_exact_double_from_file_to_export(tmp_path):
    """Defect 11: the pipeline keeps doubles end to end (raw, core, mart, published, Parquet export, snapshot).
    (Cboe's own quote tables print spots through single precision, e.g. ``Last: 4697.2402`` for 4697.24; the
    pipeline stores what the file says: see docs/warehouse.md.)"""
    from gex_market import generate_market

    landing = tmp_path / "landing"
    generate_market(landing, sessions=1, contracts=300, seed=3)
    (landing / "reference" / "closes.csv").unlink()  # the chain's own spot is the session close
    (chain,) = (landing / "chains").glob("*.csv")
    lines = chain.read_text().split("\n")
    old = lines[1].split("Last: ")[1].split(",")[0]
    chain.write_text("\n".join(line.replace(old, "4697.24") for line in lines))
    path = tmp_path / "gex.duckdb"
    assert gex("ingest", str(landing), "-w", str(path)).returncode == 0
    assert gex("compute", "--all", "-w", str(path)).returncode == 0
    done = gex_process("publish", "-w", str(path))  # a flow on its temporary Prefect API: a process of its own
    assert done.returncode == 0, done.stderr
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{path.with_name('gex.published.duckdb')}' AS s (READ_ONLY)")
        values = [r[0] for q in ("SELECT spot FROM w.raw.chain_snapshots", "SELECT spot FROM w.core.sessions",
                                 "SELECT spot FROM w.mart.regime_daily", "SELECT spot FROM w.main.regime_daily",
                                 "SELECT spot FROM s.main.regime_daily",
                                 f"SELECT spot FROM read_parquet('{tmp_path}/exports/regime_daily/**/*.parquet')")
                  for r in con.execute(q).fetchall()]
        types = {r[0] for r in con.execute(
            "SELECT data_type FROM duckdb_columns() WHERE column_name = 'spot' AND database_name IN ('w', 's')").fetchall()}
    finally:
        con.close()
    assert values == [4697.24] * 6
    assert types == {"DOUBLE"}
