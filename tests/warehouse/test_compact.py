"""``gex compact`` / :func:`gex_warehouse.compact.compact`: the file shrinks, every row survives, and every
refusal, failure or interrupt leaves the warehouse byte for byte as it was, with no copy left behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from gex_warehouse import compact as compact_module
from gex_warehouse.compact import CompactError, compact, leftovers
from gex_warehouse.config import ENV_TEST_SLEEP
from gex_warehouse.connect import WarehouseLockedError, connect
from gex_warehouse.digest import table_digests
from gex_warehouse.load import ingest_file

from tests.warehouse.helpers import chain_csv


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digests(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_digests(con)
    finally:
        con.close()


def _assert_refused(path: Path, match: str) -> None:
    """``compact(path)`` raises :class:`CompactError` matching ``match`` and leaves the file byte for byte as it was,
    with no copy behind."""
    sha = _sha(path)
    with pytest.raises(CompactError, match=match):
        compact(path)
    assert _sha(path) == sha
    assert not leftovers(path)


@pytest.fixture(scope="module")
def bloated_template(tmp_path_factory) -> Path:
    """A warehouse holding two loaded chains and a user setting, with most of its blocks free in the middle of the
    file (a big table created, then rows loaded after it, then the table dropped: what an upgrade that rebuilds
    tables leaves). Built once; each test gets a copy (:func:`bloated`)."""
    from tests.warehouse.helpers import fresh_warehouse

    folder = tmp_path_factory.mktemp("compact")
    path = fresh_warehouse(folder, tmp_path_factory.mktemp("compact-template"))
    con = connect(path)
    try:
        ingest_file(con, chain_csv(folder / "spx.csv"))
        con.execute("UPDATE core.settings SET value = '7.5' WHERE name = 'hedge_cost_bps'")
        con.execute("CREATE TABLE mart.bulk AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(2500000)")
        con.execute("CHECKPOINT")
        ingest_file(con, chain_csv(folder / "spx2.csv", seed=12))
        con.execute("CHECKPOINT")
        con.execute("DROP TABLE mart.bulk")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


@pytest.fixture
def bloated(bloated_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "gex.duckdb"
    shutil.copyfile(bloated_template, target)
    return target


def test_compact_shrinks_the_file_and_keeps_every_row(bloated: Path):
    before_rows = _digests(bloated)
    before_size = bloated.stat().st_size
    seen: list[tuple[str, int, int]] = []
    result = compact(bloated, on_table=lambda name, done, total: seen.append((name, done, total)))
    assert not result.skipped
    assert result.bytes_before == before_size and result.bytes_after == bloated.stat().st_size
    assert result.bytes_after < 0.6 * before_size, (before_size, result.bytes_after)
    assert result.free_share_before > 0.4
    assert _digests(bloated) == before_rows  # every table, the migration log and the user's settings included
    assert result.tables == len(before_rows) == len(seen) and seen[-1][1:] == (result.tables, result.tables)
    assert result.rows == sum(int(d.split(":")[0]) for d in before_rows.values())
    assert not leftovers(bloated)
    # still a working warehouse of this version: a writer opens it (no migration pending) and a second compaction
    # finds nothing worth reclaiming
    connect(bloated).close()
    again = compact(bloated)
    assert again.skipped and again.bytes_after == again.bytes_before == bloated.stat().st_size


def test_nothing_to_reclaim_is_skipped_unless_forced(warehouse_file: Path, tmp_path: Path):
    con = connect(warehouse_file)
    ingest_file(con, chain_csv(tmp_path / "spx.csv"))
    con.close()
    sha, rows = _sha(warehouse_file), _digests(warehouse_file)
    skipped = compact(warehouse_file)
    assert skipped.skipped and skipped.tables == 0
    assert _digests(warehouse_file) == rows
    forced = compact(warehouse_file, force=True)
    assert not forced.skipped and forced.tables == len(rows)
    assert _digests(warehouse_file) == rows
    assert sha  # the forced copy is a new file with the same rows (its bytes may differ)


@pytest.mark.parametrize("extra", ["table", "view", "column"])
def test_objects_that_are_not_gex_s_are_refused_not_dropped(bloated: Path, extra: str):
    con = duckdb.connect(str(bloated))
    statement = {
        "table": "CREATE TABLE core.my_notes (note VARCHAR)",
        "view": "CREATE VIEW main.my_view AS SELECT 1 AS one",
        "column": "ALTER TABLE core.settings ADD COLUMN my_flag BOOLEAN",
    }[extra]
    con.execute(statement)
    con.execute("CHECKPOINT")
    con.close()
    named = {"table": "core.my_notes", "view": "main.my_view", "column": "core.settings.my_flag"}[extra]
    _assert_refused(bloated, rf"the {extra} {named} is not part of gex's schema")


def test_a_stop_request_deletes_the_copy_and_changes_nothing(bloated: Path):
    sha = _sha(bloated)
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3  # after three tables

    with pytest.raises(InterruptedError):
        compact(bloated, should_stop=stop)
    assert _sha(bloated) == sha
    assert not leftovers(bloated)


def test_a_failed_copy_changes_nothing(bloated: Path, monkeypatch):
    def broken(con, *args, **kwargs):
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(compact_module, "_copy_tables", broken)
    _assert_refused(bloated, r"cannot compact .*No space left on device; the warehouse is unchanged")


def test_a_copy_that_does_not_check_out_is_refused(bloated: Path, monkeypatch):
    real = compact_module._fingerprint

    def off_by_one(con, database, schema, table):
        count, total = real(con, database, schema, table)
        return (count, total + 1) if database.startswith("gex_compact_") and table == "settings" else (count, total)

    monkeypatch.setattr(compact_module, "_fingerprint", off_by_one)
    _assert_refused(bloated, r"core.settings copied as .* rows that differ")


def test_not_enough_disk_space_is_refused_before_copying(bloated: Path, monkeypatch):
    real = shutil.disk_usage
    monkeypatch.setattr(compact_module.shutil, "disk_usage", lambda p: real(p)._replace(free=1024))
    _assert_refused(bloated, r"the copy needs ~\d[\d,]* MiB free in .*, which has 0 MiB")


def test_a_killed_run_s_copy_is_removed_and_a_held_warehouse_is_not_touched(bloated: Path):
    stale = bloated.parent / f".{bloated.name}.compact-0123456789ab.tmp"
    stale.write_bytes(b"half a copy")
    (bloated.parent / (stale.name + ".wal")).write_bytes(b"log")
    assert len(leftovers(bloated)) == 2
    # another process holds the warehouse (DuckDB lets one process open a file twice, so not this one)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(bloated)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError):
            compact(bloated)
        assert len(leftovers(bloated)) == 2  # not ours to delete while another process holds the warehouse
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    compact(bloated)
    assert not leftovers(bloated)


def test_cli_compacts_and_says_so(bloated: Path):
    from typer.testing import CliRunner

    from gex_cli.main import app

    rows = _digests(bloated)
    runner = CliRunner()
    done = runner.invoke(app, ["compact", "-w", str(bloated)])
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"compacted {bloated}: ") and "rows copied and checked" in done.output
    assert _digests(bloated) == rows
    skipped = runner.invoke(app, ["compact", "-w", str(bloated)])
    assert skipped.exit_code == 0 and "nothing worth reclaiming (--force copies anyway)" in skipped.output
    missing = runner.invoke(app, ["compact", "-w", str(bloated.parent / "none.duckdb")])
    assert missing.exit_code == 1 and "no warehouse at" in missing.output


def _start_compact(path: Path, sleep: float) -> subprocess.Popen:
    """``gex compact --force`` as a process that sleeps ``sleep`` s inside each table's copy (the load test hook)."""
    env = {**os.environ, ENV_TEST_SLEEP: str(sleep), "GEX_PROGRESS": "0"}
    return subprocess.Popen([sys.executable, "-m", "gex_cli", "compact", "--force", "-w", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_copy(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not leftovers(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the copy never appeared"
        time.sleep(0.05)
    time.sleep(1.5)  # a table or two into the copy


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_cli_within_seconds_and_changes_nothing(bloated: Path, signum):
    sha = _sha(bloated)
    proc = _start_compact(bloated, 0.5)
    try:
        _wait_for_copy(bloated, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == (130 if signum == signal.SIGINT else 143), (out, err)
    assert err.startswith("gex: interrupted: ") and "tables copied" in err and "compacted warehouse not written" in err
    assert "Traceback" not in err
    assert _sha(bloated) == sha
    assert not leftovers(bloated)


def test_sigkill_mid_copy_leaves_the_warehouse_whole_and_the_rerun_completes(bloated: Path):
    sha, rows = _sha(bloated), _digests(bloated)
    proc = _start_compact(bloated, 0.5)
    try:
        _wait_for_copy(bloated, proc)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert _sha(bloated) == sha and leftovers(bloated)  # the warehouse as it was, the half copy left behind
    done = compact(bloated)
    assert not done.skipped and _digests(bloated) == rows and not leftovers(bloated)
