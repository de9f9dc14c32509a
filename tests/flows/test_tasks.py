"""The tasks' functions without Prefect (``task.fn``): planning, reading, analysing, writing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gex.conventions import preset
from gex_warehouse import compute as c
from gex_warehouse.connect import connect

from pipelines import tasks as t

SESSIONS = [dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 6)]


def test_list_landing_lists_files_sorted_and_refuses_a_missing_folder(landing, tmp_path):
    files = t.list_landing.fn(str(landing))
    assert files == sorted(files) and len(files) == 8
    with pytest.raises(FileNotFoundError, match="does not exist"):
        t.list_landing.fn(str(tmp_path / "nowhere"))


def test_ingest_one_is_a_noop_for_known_content(warehouse, landing):
    first = t.list_landing.fn(str(landing))[0]
    assert t.ingest_one.fn(str(warehouse), first).status == "already loaded"


def keys(jobs):
    return [(j.underlying, j.session) for j in jobs]


def test_plan_and_latest_sessions(warehouse):
    w = str(warehouse)
    assert keys(t.plan_sessions.fn(w)) == [("SPX", s) for s in SESSIONS]
    assert keys(t.plan_sessions.fn(w, "SPX", start=SESSIONS[1], end=SESSIONS[2])) == [("SPX", s) for s in SESSIONS[1:]]
    assert keys(t.plan_sessions.fn(w, session=SESSIONS[0])) == [("SPX", SESSIONS[0])]
    assert keys(t.plan_sessions.fn(w, "SPX", session=dt.date(2024, 1, 2))) == []
    assert t.latest_sessions.fn(w) == [("SPX", SESSIONS[-1])]
    assert t.latest_sessions.fn(w, ["NDX"]) == []


def test_read_analyse_write_one_session(warehouse):
    w, key = str(warehouse), ("SPX", SESSIONS[0])
    chain = t.read_chain.fn(w, *key)
    frames = t.analyse_session.fn(chain, preset("native"))
    now = dt.datetime.now(dt.timezone.utc)
    run = c.RunRecord("test", *key, chain.snapshot.frame.height, frames.rows, "ok", now, now,
                      json.dumps({}), None, "flow-run-1")
    assert t.write_session.fn(w, frames, run) == frames.rows > 0
    assert keys(t.plan_sessions.fn(w)) == [("SPX", s) for s in SESSIONS[1:]]  # computed: no longer pending
    assert keys(t.plan_sessions.fn(w, force=True)) == [("SPX", s) for s in SESSIONS]
    assert keys(t.plan_sessions.fn(w, presets=["gflows"])) == [("SPX", s) for s in SESSIONS]  # another preset: pending
    [row] = t.regimes.fn(w, [key, ("SPX", SESSIONS[1])])  # the uncomputed key is left out
    assert row["session"] == "2025-01-02" and row["regime"] in ("positive", "negative")
    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("SELECT flow, status, flow_run_id FROM mart.runs").fetchall() == [("test", "ok", "flow-run-1")]
    finally:
        con.close()


def test_analyse_session_returns_the_marts_without_the_per_contract_frame(warehouse):
    """What a Dask worker sends back: the same mart rows and analysis scalars as the full result, the
    per-contract frame (most of the bytes) emptied with its schema kept."""
    import pickle

    chain = t.read_chain.fn(str(warehouse), "SPX", SESSIONS[0])
    full = c.compute_chain(chain, preset("native"))
    sent = t.analyse_session.fn(chain, preset("native"))
    assert full.analysis.contracts.height > 1000 and sent.analysis.contracts.height == 0
    assert sent.analysis.contracts.schema == full.analysis.contracts.schema
    assert all(sent.tables()[name].equals(frame) for name, frame in full.tables().items())
    assert (sent.analysis.total_gex, sent.analysis.gamma_flip, sent.analysis.regime, sent.analysis.warnings) == \
        (full.analysis.total_gex, full.analysis.gamma_flip, full.analysis.regime, full.analysis.warnings)
    assert len(pickle.dumps(sent, protocol=5)) < len(pickle.dumps(full, protocol=5)) / 3


def test_grouped_analysis_submits_groups_and_a_bad_chain_fails_alone(warehouse, monkeypatch):
    """The whole-market flow path's analysis: chains buffered into analyse_sessions tasks of ``size``; a
    partial group is submitted when one of its futures is waited on; a chain that cannot be analysed raises
    its own error, the others of its group give their marts (equal to analyse_session's)."""
    import dataclasses

    submitted: list[int] = []
    run_group = t.analyse_sessions.fn

    class Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    class Tasks:  # analyse_sessions.submit, run at once
        @staticmethod
        def submit(items):
            assert isinstance(items, t.Opaque)  # Prefect and Dask carry the chunk without walking its frames
            submitted.append(len(items.value))
            return Done(run_group(items))

    monkeypatch.setattr(t, "analyse_sessions", Tasks)
    chain = t.read_chain.fn(str(warehouse), "SPX", SESSIONS[0])
    bad = dataclasses.replace(chain, snapshot=dataclasses.replace(chain.snapshot, spot=-1.0))
    analyse = t.grouped_analysis(2)
    futures = [analyse(chain, preset("native")), analyse(bad, preset("native")), analyse(chain, preset("gflows"))]
    assert submitted == [2]  # the first two, full; the third waits in the buffer
    with pytest.raises(ValueError, match="spot must be a positive number"):
        futures[1].result()
    expected = t.analyse_session.fn(chain, preset("gflows"))
    got = futures[2].result()  # waiting on it submits its partial group
    assert submitted == [2, 1]
    assert all(got.tables()[name].equals(frame) for name, frame in expected.tables().items())
    assert futures[0].result().analysis.total_gex == t.analyse_session.fn(chain, preset("native")).analysis.total_gex


def test_opaque_arguments_are_carried_whole_and_never_walked():
    """A batch handed to a task as ``Opaque``: Prefect's argument walk stops at it, Dask names it by its own
    random token (two batches of equal content are two tasks), and it pickles whole (to a worker)."""
    import pickle

    from dask.base import tokenize
    from prefect.utilities.collections import visit_collection

    chunk = [("SPX", [1.0, 2.0]), ("QQQ", [3.0])]
    wrapped = t.Opaque(chunk)
    visited: list = []
    visit_collection({"items": wrapped}, visit_fn=lambda x: visited.append(x) or x, return_data=False)
    assert not any(x is chunk or isinstance(x, (tuple, float)) for x in visited) and any(x is wrapped for x in visited)
    twin = t.Opaque(list(chunk))
    assert tokenize(wrapped) == tokenize(wrapped) and tokenize(wrapped) != tokenize(twin)
    back = pickle.loads(pickle.dumps(wrapped, protocol=5))
    assert back.value == chunk and tokenize(back) == tokenize(wrapped)
    assert repr(wrapped) == "Opaque(list)"


def test_workers_are_local_only_for_a_runner_on_this_machine(monkeypatch):
    import socket

    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert t.workers_are_local() is False  # outside a flow: nothing to tell

    class Client:
        def __init__(self, workers):
            self.workers = workers

        def scheduler_info(self):
            return {"workers": {a: {} for a in self.workers}}

    def under(runner):
        monkeypatch.setattr(FlowRunContext, "get", classmethod(lambda cls: type("Ctx", (), {"task_runner": runner})()))
        return t.workers_are_local()

    assert under(ThreadPoolTaskRunner(max_workers=2)) is True

    def dask(*workers):
        runner = DaskTaskRunner(address="tcp://127.0.0.1:8786")
        runner._client = Client(workers)
        return runner

    assert under(dask("tcp://127.0.0.1:40575", "tcp://127.0.0.1:40576")) is True
    assert under(dask(f"tcp://{socket.gethostname()}:40575", "tcp://[::1]:40576")) is True
    assert under(dask("tcp://127.0.0.1:40575", "tcp://10.0.0.7:40576")) is False  # one worker elsewhere
    assert under(dask()) is False  # no worker yet: cannot tell
    assert under(object()) is False


def test_read_chain_of_a_missing_session_is_a_key_error(warehouse):
    with pytest.raises(KeyError, match="no chain"):
        t.read_chain.fn(str(warehouse), "SPX", dt.date(2024, 1, 5))


def test_only_io_trouble_is_retried():
    import duckdb
    from gex_warehouse.connect import WarehouseLockedError

    class State:
        def __init__(self, exc):
            self.exc = exc

        def result(self):
            raise self.exc

    assert t._transient(None, None, State(duckdb.IOException("disk")))
    assert t._transient(None, None, State(OSError("nfs")))
    assert not t._transient(None, None, State(WarehouseLockedError(Path("w.duckdb"), RuntimeError("held"), False)))
    assert not t._transient(None, None, State(KeyError("no chain")))


def test_libraries_and_the_cli_do_not_import_prefect():
    """The libraries never import Prefect; the CLI only inside the commands that run flows (lazily)."""
    import ast
    import subprocess
    import sys

    packages = Path(__file__).resolve().parents[2] / "packages"

    def prefect_imports(tree: ast.AST) -> list[ast.AST]:
        return [n for n in ast.walk(tree) if (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "prefect" for a in n.names))
                or (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "prefect")]

    offenders = []
    for path in packages.rglob("*.py"):
        if "gex-flows" in path.parts or ".venv" in path.parts:  # the flows are where Prefect belongs
            continue
        tree = ast.parse(path.read_text())
        if "gex-cli" in path.parts:  # the CLI may import Prefect inside a command's function body only
            tree = ast.Module(body=[n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))],
                              type_ignores=[])
        if prefect_imports(tree):
            offenders.append(path)
    assert not offenders
    code = "import sys, gex_cli.main, gex_warehouse.compute; sys.exit('prefect' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0  # `gex --help` stays fast
