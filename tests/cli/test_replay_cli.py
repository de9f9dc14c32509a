"""``gex replay`` as a user runs it (subprocess: real exit codes and stderr) on a published snapshot holding a
session of three intraday snapshots (tests/report/intraday_fixture.py), and in a pseudo-terminal for Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.report.intraday_fixture import SESSION, snapshot_rows, write_published
from tests.gex_runner import Done, gex_in_process, gex_process


@pytest.fixture
def warehouse(tmp_path):
    regime, strikes = snapshot_rows(SESSION, [5, 10, 15])
    write_published(tmp_path / "gex.published.duckdb", regime, strikes)
    return tmp_path / "gex.duckdb", regime, strikes


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); the JSON replay is also a real process, and
    Ctrl-C below a real process in a pseudo-terminal."""
    return gex_in_process(*args)


def one_line_error(done: Done) -> str:
    message = done.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert message.startswith("gex: error: ")
    return message


def test_json_is_one_object_per_snapshot_with_the_strikes_nearest_spot(warehouse):
    path, regime, strikes = warehouse
    done = gex_process("replay", "spx", str(SESSION), "-w", str(path), "--json", "--strikes", "5")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["valuation_ts"] for r in records] == [r[3].isoformat() for r in regime]
    assert [r["time_new_york"] for r in records] == ["09:35:00", "09:40:00", "09:45:00"]
    for record, row in zip(records, regime, strict=True):
        assert record["spot"] == row[5] and record["gamma_flip"] == row[9] and record["regime"] == row[11]
        assert record["total_gex_usd_per_1pct"] == pytest.approx(row[6])
        assert record["zero_dte_gamma_share"] == row[16] and record["call_wall"] == row[12]
        # the 5 strikes nearest spot, highest first, with the published numbers
        ladder = sorted((s for s in strikes if s[3] == row[3]), key=lambda s: abs(s[4] - row[5]))[:5]
        expected = sorted(((s[4], s[7]) for s in ladder), reverse=True)
        assert [(b["strike"], b["net_gex_usd_per_1pct"]) for b in record["strikes"]] == expected
    assert done.stderr == ""


def test_frames_print_at_once_when_not_a_terminal(warehouse):
    path, regime, _ = warehouse
    started = time.monotonic()
    done = gex("replay", "SPX", str(SESSION), "-w", str(path), "--speed", "30")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 90  # --speed is ignored off a terminal (3 frames x 30 s would be 90 s)
    for i, clock in enumerate(("09:35:00", "09:40:00", "09:45:00")):
        assert f"{clock} ET  intraday snapshot {i + 1}/3" in done.stdout
    assert "< spot" in done.stdout and "call wall" in done.stdout and "start of day: OI as of the close" in done.stdout
    assert f"{regime[2][5]:,.2f}" in done.stdout  # the last frame's spot


def test_a_session_without_intraday_snapshots_says_so_and_shows_the_daily_row(tmp_path):
    regime, strikes = snapshot_rows(SESSION, [], eod=True)
    write_published(tmp_path / "gex.published.duckdb", regime, strikes)
    done = gex("replay", "SPX", str(SESSION), "-w", str(tmp_path / "gex.duckdb"), "--speed", "0")
    assert done.returncode == 0
    assert done.stderr.strip() == f"gex: note: SPX {SESSION} has no intraday snapshot (preset native); showing its daily row"
    assert "16:00:00 ET  end of day snapshot 1/1" in done.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (("SPX", "2025-03-17"), 1, "session 2025-03-17 of SPX is not loaded"),
    (("QQQ", str(SESSION)), 1, "the warehouse has SPX"),
    (("SPX", str(SESSION), "--preset", "gflows"), 1, "no computed snapshot"),
    (("SPX", "14/03/2025"), 2, "is not a date"),
    (("SPX", str(SESSION), "--preset", "x"), 2, "unknown --preset"),
    (("SPX", str(SESSION), "--speed", "-1"), 2, "--speed"),
    (("SPX", str(SESSION), "--strikes", "0"), 2, "--strikes"),
])
def test_mistakes_are_one_line_errors(warehouse, args, code, words):
    path, _, _ = warehouse
    done = gex("replay", *args, "-w", str(path))
    assert done.returncode == code
    assert words in one_line_error(done)


def test_no_warehouse_is_a_one_line_error(tmp_path):
    done = gex("replay", "SPX", str(SESSION), "-w", str(tmp_path / "none.duckdb"))
    assert done.returncode == 1 and "no warehouse" in one_line_error(done)


def _signal_masks(pid: int) -> dict[str, str]:
    """The kernel's ignored / caught / blocked signal masks of a process (hex, /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as status:
        return {k: v.strip() for k, v in (line.split(":", 1) for line in status) if k in ("SigIgn", "SigCgt", "SigBlk")}


def test_ctrl_c_in_a_terminal_exits_130_quietly(warehouse):
    """On a terminal the frames come one per --speed seconds; Ctrl-C during the wait ends the replay quietly."""
    path, _, _ = warehouse
    parent, child = pty.openpty()
    # a terminal's shell starts a foreground job with Ctrl-C at its default disposition; a process inherits an
    # ignored SIGINT (and Python then never turns it into KeyboardInterrupt), so the child is given the default
    # whatever this test process has (CI twice saw the replay sleep on through the signal; this process's own
    # disposition at the time is in the failure message below)
    disposition = signal.getsignal(signal.SIGINT)
    process = subprocess.Popen([sys.executable, "-m", "gex_cli", "replay", "SPX", str(SESSION), "-w", str(path),
                                "--speed", "60"], stdin=child, stdout=child, stderr=child, close_fds=True,
                               env={**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "60"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(child)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"snapshot 1/3" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([parent], [], [], 1.0)
            if ready:
                seen += os.read(parent, 65536)
        assert b"snapshot 1/3" in seen, seen[-2000:]
        masks = _signal_masks(process.pid)
        process.send_signal(signal.SIGINT)
        # keep reading while it exits, as a terminal does: the frame being drawn and the live display's last
        # refresh are still written after the signal, and a pseudo-terminal nobody reads blocks the writer once
        # its few kB of buffer are full
        stop_by = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < stop_by:
            ready, _, _ = select.select([parent], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(parent, 65536)
                except OSError:  # EIO: the replay closed the terminal on its way out
                    break
        try:
            process.wait(timeout=max(0.1, stop_by - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        assert process.poll() is not None, (
            f"no exit 60 s after SIGINT; this process's SIGINT handler at the start: {disposition!r}; the replay's "
            f"signal masks before the signal: {masks}; its output: {seen[-1500:]!r}")
        while True:
            ready, _, _ = select.select([parent], [], [], 0.5)
            if not ready:
                break
            try:
                chunk = os.read(parent, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
        os.close(parent)
    assert process.returncode == 130
    assert b"Traceback" not in seen and b"snapshot 2/3" not in seen
