"""`gex report` as a user runs it: exit codes and stderr (the command in this process, :mod:`tests.gex_runner`; the
defaults also from a real ``gex`` process)."""

from __future__ import annotations

import os
from pathlib import Path

from gex_warehouse.connect import connect

from tests.report.conftest import SESSIONS
from tests.gex_runner import Done, gex_in_process, gex_process


def gex(*args: str, cwd: Path | None = None) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); the first test runs a real process."""
    return gex_in_process(*args, cwd=cwd)


def one_line_error(done: Done) -> str:
    message = done.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert message.startswith("gex: error: ")
    return message


def test_defaults_write_the_latest_session_under_warehouse(report_warehouse, tmp_path):
    done = gex_process("report", "--warehouse", str(report_warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = list((tmp_path / "warehouse").glob("report_SPX_*.html"))
    assert len(written) == 1
    con = connect(report_warehouse, read_only=True)
    try:
        latest = con.execute("SELECT max(session) FROM main.regime_daily").fetchall()[0][0]
    finally:
        con.close()
    assert written[0].name == f"report_SPX_{latest}.html"
    assert f"wrote the SPX {latest} report" in done.stdout and "self-contained" in done.stdout
    assert f"session {latest}" in written[0].read_text(encoding="utf-8")


def test_session_underlying_and_out_are_honoured(report_warehouse, tmp_path):
    con = connect(report_warehouse, read_only=True)
    try:
        first = con.execute("SELECT min(session) FROM main.regime_daily").fetchall()[0][0]
    finally:
        con.close()
    out = tmp_path / "deep" / "r.html"
    done = gex("report", "-w", str(report_warehouse), "--session", str(first), "-u", "spx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"SPX &middot; session {first}" in out.read_text(encoding="utf-8")


def test_bad_input_gives_one_line_errors(report_warehouse, tmp_path):
    done = gex("report", "-w", str(report_warehouse), "--session", "2025-13-01")
    assert done.returncode == 2 and "is not a date like" in one_line_error(done)
    done = gex("report", "-w", str(report_warehouse), "--session", "1999-01-04")
    assert done.returncode == 1
    assert f"no computed session 1999-01-04 of SPX; it has {SESSIONS} sessions from" in one_line_error(done)
    done = gex("report", "-w", str(report_warehouse), "--underlying", "RUT")
    assert done.returncode == 1 and "the warehouse has SPX" in one_line_error(done)
    done = gex("report", "-w", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 1 and "no warehouse at" in one_line_error(done)
    empty = tmp_path / "empty.duckdb"
    connect(empty).close()
    done = gex("report", "-w", str(empty))
    assert done.returncode == 1 and "no computed session: run `gex ingest`" in one_line_error(done)


def test_a_writer_holding_the_warehouse_is_explained(warehouse_copy, tmp_path):
    holder = connect(warehouse_copy)  # this test process writes: nobody else may open the file
    try:
        # another process: DuckDB shares the file between this process's own connections
        done = gex_process("report", "-w", str(warehouse_copy), "--out", str(tmp_path / "r.html"))
    finally:
        holder.close()
    assert done.returncode == 1
    message = one_line_error(done)
    assert f"cannot read the warehouse {warehouse_copy}: it is in use by process {os.getpid()}" in message
    assert "Wait for that process to finish" in message
    assert not (tmp_path / "r.html").exists()


def test_help_describes_the_options():
    done = gex("report", "--help")
    assert done.returncode == 0
    for option in ("--session", "--underlying", "--out", "--warehouse", "offline"):
        assert option in done.stdout
