"""`gex ingest` as a user runs it, the duckdb shell from PyPI on the result, and the write lock message."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gex_warehouse.config import DEFAULT_WAREHOUSE, ENV_WAREHOUSE, warehouse_path
from gex_warehouse.connect import WarehouseError, WarehouseLockedError, connect

from tests.warehouse.helpers import SESSION, chain_csv

DUCKDB_SHELL = Path(sys.executable).with_name("duckdb")


def gex(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gex_cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def shell(warehouse: Path, sql: str) -> list[dict[str, str]]:
    """Run ``sql`` in the duckdb CLI shell (read-only) and parse its CSV output."""
    done = subprocess.run(
        [str(DUCKDB_SHELL), "-readonly", "-csv", str(warehouse), "-c", sql], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """A folder with two chains and a broken file, ingested once by `gex ingest` (the CLI's first run)."""
    root = tmp_path_factory.mktemp("cli")
    folder = root / "in"
    (folder / "sub").mkdir(parents=True)
    chain_csv(folder / "spx_2024-01-05.csv", SESSION, seed=31)
    chain_csv(folder / "sub" / "spx_2024-01-08.csv", SESSION.replace(day=8), seed=32)
    (folder / "zz_broken.csv").write_bytes(b"")
    (folder / ".hidden.csv").write_bytes(b"ignored")
    warehouse = root / "w" / "gex.duckdb"
    first = gex("ingest", str(folder), "--warehouse", str(warehouse))
    return folder, warehouse, first


def test_folder_ingest_summary_and_exit_code(ingested):
    folder, warehouse, done = ingested
    assert done.returncode == 1, done.stderr  # one file failed
    out = done.stdout
    for text in ("spx_2024-01-05.csv", "spx_2024-01-08.csv", "zz_broken.csv", "cboe_csv", "SPX", "2024-01-05", "2024-01-08",
                 "expired excluded", "3 files: 2 loaded, 0 already loaded, 1 failed"):
        assert text in out, out
    assert ".hidden" not in out
    errors = done.stderr.strip().splitlines()
    assert errors == [f"gex: error: {folder / 'zz_broken.csv'}: empty file"]
    assert "Traceback" not in done.stderr


def test_second_run_says_already_loaded(ingested):
    folder, warehouse, _ = ingested
    done = gex("ingest", str(folder / "spx_2024-01-05.csv"), str(folder / "sub"), "-w", str(warehouse))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("already loaded as load") == 2
    assert "2 files: 0 loaded, 2 already loaded, 0 failed" in done.stdout


def test_duckdb_shell_from_pypi_reads_the_warehouse(ingested):
    _, warehouse, _ = ingested
    assert DUCKDB_SHELL.is_file(), "duckdb-cli (a dev dependency) is not installed"
    version = subprocess.run([str(DUCKDB_SHELL), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5"), version  # the shell PyPI ships, older than the library that wrote the file
    sessions = shell(warehouse, "SELECT underlying, session, partial_chain, has_expired_rows FROM core.sessions ORDER BY session")
    assert sessions == [
        {"underlying": "SPX", "session": "2024-01-05", "partial_chain": "false", "has_expired_rows": "true"},
        {"underlying": "SPX", "session": "2024-01-08", "partial_chain": "false", "has_expired_rows": "true"},
    ]
    counts = shell(
        warehouse,
        "SELECT (SELECT count(*) FROM raw.chain_quotes) AS quotes, (SELECT sum(rows_loaded) FROM raw.load_manifest) AS loaded, "
        "(SELECT count(*) FROM core.contracts WHERE excluded_reason = 'expired') AS expired, "
        "(SELECT count(*) FROM raw.load_manifest WHERE status = 'failed') AS failed, "
        "(SELECT count(*) FROM core.rates WHERE is_fallback) AS fallback_rates",
    )
    assert counts[0]["quotes"] == counts[0]["loaded"] != "0"
    assert int(counts[0]["expired"]) > 0 and counts[0]["failed"] == "1" and counts[0]["fallback_rates"] == "2"


def test_unknown_format_is_a_usage_error(ingested):
    folder, warehouse, _ = ingested
    done = gex("ingest", str(folder), "--format", "nope", "-w", str(warehouse))
    assert done.returncode == 2
    assert done.stderr.startswith("gex: error: unknown --format 'nope'; choose one of ")


def test_default_location_and_env_override(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_WAREHOUSE, raising=False)
    assert warehouse_path() == DEFAULT_WAREHOUSE == Path("warehouse/gex.duckdb")
    monkeypatch.setenv(ENV_WAREHOUSE, str(tmp_path / "env.duckdb"))
    assert warehouse_path() == tmp_path / "env.duckdb"
    assert warehouse_path(tmp_path / "opt.duckdb") == tmp_path / "opt.duckdb"  # --warehouse wins
    chain = chain_csv(tmp_path / "c.csv", SESSION, seed=33, max_contracts=100)
    done = gex("ingest", str(chain), cwd=tmp_path, env={ENV_WAREHOUSE: ""})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "warehouse" / "gex.duckdb").is_file()


def test_read_only_open_of_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse at .*gex ingest"):
        connect(tmp_path / "none.duckdb", read_only=True)


def test_a_held_write_lock_is_explained_in_plain_words(tmp_path, warehouse_file):
    chain = chain_csv(tmp_path / "c.csv", SESSION, seed=34, max_contracts=100)
    holder = connect(warehouse_file)  # this test process holds the warehouse open read-write
    try:
        done = gex("ingest", str(chain), "-w", str(warehouse_file))
        assert done.returncode == 1
        message = done.stderr.strip()
        assert "Traceback" not in message and len(message.splitlines()) == 1
        assert f"cannot write to the warehouse {warehouse_file}: it is in use by process {os.getpid()}" in message
        assert "Wait for that process to finish" in message
        probe = subprocess.run(
            [sys.executable, "-c", "import sys; from gex_warehouse.connect import connect; connect(sys.argv[1], read_only=True)",
             str(warehouse_file)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "WarehouseLockedError: cannot read the warehouse" in probe.stderr
    finally:
        holder.close()
    # and in-process, the other way round: another process writes, this one wants to read
    blocker = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gex_warehouse.connect import connect; c = connect(sys.argv[1]); "
         "print('ok', flush=True); time.sleep(60)", str(warehouse_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert blocker.stdout is not None and blocker.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseLockedError, match=f"cannot read the warehouse .* in use by process {blocker.pid}"):
            connect(warehouse_file, read_only=True)
    finally:
        blocker.kill()
        blocker.wait()
