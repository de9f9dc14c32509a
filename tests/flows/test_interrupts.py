"""Ctrl-C, SIGTERM and SIGKILL on the long commands (issue 10, defect 9).

Each test runs ``gex`` as a subprocess (``python -m gex_cli``), slowed down inside its transactions by the
test hook ``GEX_WAREHOUSE_TEST_SLEEP_IN_TRANSACTION``, signals it mid-run and checks: the exit code (130
for SIGINT, 143 for SIGTERM) within 10 s of the signal; one line saying what finished and that a rerun
resumes; no traceback and no "nanobind: leaked" noise; no process of the run left (the temporary Prefect
API included); and that the rerun leaves the warehouse (and exports) equal to an uninterrupted run's.

The runs that must start their own temporary Prefect API get no ``PREFECT_API_URL`` and a private
``PREFECT_HOME`` (shared by this worker's runs, which follow each other); the others use the session's
Prefect test API (fixture ``prefect_api``). Slow (each test ~0.5-1.5 min on 2 cores), so few.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from gex_warehouse.config import ENV_TEST_SLEEP
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests

from tests.flows.test_flow_safety import _state

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

#: The acceptance bound: from the signal to the process's exit, seconds.
EXIT_WITHIN_SECONDS = 10.0
#: Generous bound for everything else (a loaded 2-core machine; a cold temporary API takes ~20 s).
PATIENCE_SECONDS = 300.0
RESUME = "; nothing half-written; run the same command again to resume"
SUMMARY = re.compile(r"^gex: interrupted: (?P<what>.+)" + re.escape(RESUME) + "$", re.MULTILINE)


class Run:
    """A ``gex`` subprocess whose stdout and stderr are collected line by line while it runs."""

    def __init__(self, args: list[str], env: dict[str, str], *, own_session: bool = False) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "gex_cli", *args], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=own_session)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, lines), daemon=True)
                         for s, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for r in self._readers:
            r.start()

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)

    def wait_for(self, pattern: str, timeout: float = PATIENCE_SECONDS) -> None:
        """Wait until a stderr line matches ``pattern`` (the run must still be going)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while not any(regex.search(line) for line in list(self.err)):
            assert self.proc.poll() is None, f"gex ended (code {self.proc.returncode}) before {pattern!r}:\n{self.stderr}"
            assert time.monotonic() < deadline, f"timed out waiting for {pattern!r}:\n{self.stderr}"
            time.sleep(0.05)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def signal_and_wait(self, signum: int, *, group: bool = False) -> tuple[int, float]:
        """Send ``signum`` (to the process group, as a terminal's Ctrl-C does, with ``group``); return the
        exit code and the seconds from the signal to the exit."""
        assert self.proc.poll() is None, f"gex finished before it could be signalled:\n{self.stderr}"
        t0 = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        return self.finish(), time.monotonic() - t0

    def finish(self, timeout: float = PATIENCE_SECONDS) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for r in self._readers:
            r.join(10)
        return code

    def kill(self) -> None:
        """Clean up after a failed test: kill the run and whatever it started."""
        try:
            family = [*self.descendants(), psutil.Process(self.proc.pid)]
        except psutil.NoSuchProcess:
            family = []
        for p in family:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(30)


@pytest.fixture(scope="module")
def own_api_env(tmp_path_factory) -> dict[str, str]:
    """Environment of a run that starts its own temporary Prefect API (private Prefect home)."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")), "GEX_PROGRESS": "0"}
    for name in ("PREFECT_API_URL", ENV_TEST_SLEEP, "PREFECT_LOGGING_LEVEL"):
        env.pop(name, None)
    return env


def _harness_env(**extra: str) -> dict[str, str]:
    """Environment of a run on the session's Prefect test API."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "GEX_PROGRESS": "0"}
    env.pop(ENV_TEST_SLEEP, None)
    env.pop("PREFECT_LOGGING_LEVEL", None)
    return {**env, **extra}


def _gex_ok(args: list[str], env: dict[str, str]) -> None:
    run = Run(args, env)
    assert run.finish() == 0, run.stderr


def _digests(path: Path) -> dict[str, str]:
    con = connect(path, read_only=True)
    try:
        return {t: d for t, d in table_digests(con).items() if t != "mart.runs"}
    finally:
        con.close()


def _counts(what: str, kind: str) -> tuple[int, int]:
    match = re.search(rf"(\d+) of (\d+) {kind}", what)
    assert match, f"{kind!r} not in {what!r}"
    return int(match[1]), int(match[2])


def _assert_clean_interrupt(run: Run, code: int, seconds: float, expected: int, before: list[psutil.Process]) -> str:
    """The common checks; returns what the summary line says finished."""
    assert code == expected, run.stderr
    assert seconds < EXIT_WITHIN_SECONDS, f"exited {seconds:.1f} s after the signal"
    assert "Traceback" not in run.stderr and "nanobind" not in run.stderr, run.stderr
    match = SUMMARY.search(run.stderr)
    assert match, run.stderr
    assert len(SUMMARY.findall(run.stderr)) == 1
    gone, alive = psutil.wait_procs(before, timeout=5)
    assert not alive, f"left running: {[(p.pid, p.cmdline()) for p in alive]}"
    return match["what"]


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    return dst


def test_ctrl_c_on_nightly_stops_its_temporary_api_and_the_rerun_resumes(tmp_path, landing, own_api_env, nightly_reference):
    path = tmp_path / "gex.duckdb"
    # ~4 pauses of 1 s inside each file's transaction: 8 files take half a minute
    run = Run(["nightly", "--landing", str(landing), "-w", str(path)], {**own_api_env, ENV_TEST_SLEEP: "1"},
              own_session=True)
    try:
        run.wait_for(r"Task run 'ingest_one-\w+' - Finished in state Completed")  # a file is in
        before = run.descendants()
        assert before, "no temporary Prefect API child"
        code, seconds = run.signal_and_wait(signal.SIGINT, group=True)  # what Ctrl-C in a terminal does
    finally:
        if run.proc.poll() is None:
            run.kill()
    what = _assert_clean_interrupt(run, code, seconds, 130, before)
    done, total = _counts(what, "files ingested")
    assert 1 <= done < total == 8, what

    _gex_ok(["nightly", "--landing", str(landing), "-w", str(path)], _harness_env())
    assert _state(path, path.parent / "exports") == nightly_reference[1]


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["sigint", "sigterm"])
def test_signal_on_backfill_stops_between_sessions_and_the_rerun_resumes(tmp_path, loaded, backfill_reference,
                                                                          signum, expected):
    path = _copy(loaded, tmp_path / "gex.duckdb")
    args = ["backfill", "--start", "2025-01-02", "--end", "2025-01-06", "-w", str(path)]
    run = Run(args, _harness_env(**{ENV_TEST_SLEEP: "3"}))  # each session's write pauses 3 s, inside its transaction
    try:
        run.wait_for(r"Task run 'write_session-\w+' - Finished in state Completed")  # one session is in
        code, seconds = run.signal_and_wait(signum)  # lands in the next session's write, or between
    finally:
        if run.proc.poll() is None:
            run.kill()
    what = _assert_clean_interrupt(run, code, seconds, expected, [])
    done, total = _counts(what, "sessions computed")
    assert 1 <= done < total == 3, what

    _gex_ok(args, _harness_env())
    assert _state(path, path.parent / "exports") == backfill_reference


def test_ctrl_c_on_ingest_rolls_back_the_file_in_progress_and_the_rerun_resumes(tmp_path, landing):
    reference = tmp_path / "ref" / "gex.duckdb"
    _gex_ok(["ingest", str(landing), "-w", str(reference)], _harness_env())
    path = tmp_path / "gex.duckdb"
    run = Run(["ingest", str(landing), "-w", str(path)], _harness_env(**{ENV_TEST_SLEEP: "1"}))
    wal = path.with_name(path.name + ".wal")
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not wal.exists():  # the first load's transaction is writing
            assert run.proc.poll() is None and time.monotonic() < deadline, run.stderr
            time.sleep(0.05)
        time.sleep(6.0)  # on into the first or second file
        code, seconds = run.signal_and_wait(signal.SIGINT)
    finally:
        if run.proc.poll() is None:
            run.kill()
    what = _assert_clean_interrupt(run, code, seconds, 130, [])
    done, total = _counts(what, "files ingested")
    assert done < total == 8, what

    _gex_ok(["ingest", str(landing), "-w", str(path)], _harness_env())
    assert _digests(path) == _digests(reference)


def test_second_ctrl_c_on_compute_exits_at_once_and_nothing_is_half_written(tmp_path, loaded):
    reference = _copy(loaded, tmp_path / "ref" / "gex.duckdb")
    _gex_ok(["compute", "--all", "-w", str(reference)], _harness_env())
    first_only = _copy(loaded, tmp_path / "first" / "gex.duckdb")
    _gex_ok(["compute", "--session", "2025-01-02", "-w", str(first_only)], _harness_env())
    path = _copy(loaded, tmp_path / "gex.duckdb")
    # each session's write pauses 10 s inside its transaction, after deleting the session's old rows
    run = Run(["compute", "--all", "-w", str(path)], _harness_env(**{ENV_TEST_SLEEP: "10"}))
    wal = path.with_name(path.name + ".wal")
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not wal.exists():  # DuckDB starts its write-ahead log at the first commit: session 1 is in
            assert run.proc.poll() is None and time.monotonic() < deadline, run.stderr
            time.sleep(0.05)
        time.sleep(1.0)  # session 2's transaction is open, in its pause
        run.proc.send_signal(signal.SIGINT)  # asks to stop after the current session: several seconds away
        time.sleep(1.0)
        code, seconds = run.signal_and_wait(signal.SIGINT)  # leaves now, the transaction uncommitted
    finally:
        if run.proc.poll() is None:
            run.kill()
    assert code == 130, run.stderr
    assert seconds < EXIT_WITHIN_SECONDS
    assert "gex: interrupted again (SIGINT): exiting now" + RESUME in run.stderr
    assert "Traceback" not in run.stderr and "nanobind" not in run.stderr, run.stderr
    assert _digests(path) == _digests(first_only)  # session 1 whole, not one row of session 2

    _gex_ok(["compute", "--all", "-w", str(path)], _harness_env())
    assert _digests(path) == _digests(reference)


def test_sigkill_of_gex_leaves_no_temporary_api_behind(tmp_path, landing, own_api_env):
    path = tmp_path / "gex.duckdb"
    run = Run(["nightly", "--landing", str(landing), "-w", str(path)], {**own_api_env, ENV_TEST_SLEEP: "1"},
              own_session=True)
    try:
        run.wait_for(r"Beginning flow run")  # the temporary API answers and the flow runs
        before = run.descendants()
        assert before, "no temporary Prefect API child"
        run.proc.send_signal(signal.SIGKILL)
        assert run.finish() == -signal.SIGKILL
        # the kernel's death signal (PR_SET_PDEATHSIG) stops the server; it gets a few seconds to finish
        gone, alive = psutil.wait_procs(before, timeout=30)
        assert not alive, f"left running after SIGKILL: {[(p.pid, p.cmdline()) for p in alive]}"
    finally:
        if run.proc.poll() is None:
            run.kill()
    connect(path, read_only=True).close()  # and the warehouse opens
