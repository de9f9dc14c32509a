"""Published snapshot: how long ``refresh_snapshot`` takes, whole and incremental, and how long a reader waits
while a writer holds the warehouse (docs/warehouse.md, "Readers").

    uv run python bench/bench_snapshot.py WAREHOUSE [WAREHOUSE ...]   # e.g. a copy of the `gex demo` warehouse

Works on a copy of each WAREHOUSE (the first one's folder gets a ``bench_snapshot/`` subfolder, removed at the end). Measures,
best of 3 each, in the same run: a whole rebuild (``full=True``, the baseline: every refresh before the
incremental one), an incremental refresh with nothing changed (the file copy and the plan), and an
incremental refresh after one new session (simulated: the latest session's pairs removed from the
snapshot's ``meta.snapshot_state``, so every view's rows of that session are replaced, as on a night). Then,
with another process holding the copy for writing, the worst of 20 reader opens (``open_published`` + one
query). Writes the ``snapshot`` section of docs/performance.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from gex_warehouse.connect import connect
from gex_warehouse.published import open_published, refresh_snapshot, snapshot_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, write_section  # noqa: E402


def _refreshes(source: Path, work: Path) -> tuple[str, float]:
    """One warehouse's table row (see the module docstring) and its whole-rebuild / one-night ratio."""
    path = work / "gex.duckdb"
    shutil.copyfile(source, path)
    con = connect(path)
    try:
        full = [refresh_snapshot(con, path, full=True) for _ in range(3)]
        same = [refresh_snapshot(con, path) for _ in range(3)]
        latest = con.execute("SELECT max(session) FROM mart.regime_daily").fetchall()[0][0]
        night = []
        for _ in range(3):
            snap = duckdb.connect(str(snapshot_path(path)))
            snap.execute("DELETE FROM meta.snapshot_state WHERE session = ?", [latest])  # as if it were new
            snap.close()
            night.append(refresh_snapshot(con, path))
        sessions, underlyings = con.execute(
            "SELECT count(DISTINCT session), count(DISTINCT underlying) FROM mart.regime_daily").fetchall()[0]
    finally:
        con.close()
    size = snapshot_path(path).stat().st_size / 1e6
    best = {name: min(r.seconds for r in runs) for name, runs in (("full", full), ("same", same), ("night", night))}
    cells = [f"`{source.name}`: {sessions} sessions x {underlyings} underlyings", f"{size:.1f} MB",
             f"{full[-1].rows:,}"]
    cells += [f"{best[n]:.2f} s ({', '.join(f'{r.seconds:.2f}' for r in runs)})"
              for n, runs in (("full", full), ("same", same), ("night", night))]
    cells.append(f"**{best['full'] / best['night']:.1f}x**")
    return "| " + " | ".join(cells) + " |", best["full"] / best["night"]


def _reader_wait(source: Path, work: Path) -> str:
    """Worst and median of 20 reader opens + one query while another process holds the warehouse."""
    path = work / "gex.duckdb"
    shutil.copyfile(source, path)
    con = connect(path)
    try:
        refresh_snapshot(con, path)
    finally:
        con.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gex_warehouse.connect import connect; c = connect(sys.argv[1]); "
         "print('ok', flush=True); time.sleep(600)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        waits = []
        for _ in range(20):
            t0 = time.perf_counter()
            reader = open_published(path)
            reader.execute("SELECT count(*) FROM regime_daily").fetchall()
            reader.close()
            waits.append(time.perf_counter() - t0)
    finally:
        holder.kill()
        holder.wait()
    return (f"Reader open + first query of `{source.name}`'s snapshot while another process holds the warehouse for "
            f"writing: worst {max(waits) * 1000:.0f} ms, median {sorted(waits)[len(waits) // 2] * 1000:.0f} ms (20 opens).")


def main(sources: list[Path]) -> None:
    work = sources[0].parent / "bench_snapshot"
    work.mkdir(exist_ok=True)
    try:
        lines = ["| warehouse | snapshot | rows | whole rebuild (`full=True`: every refresh before) | incremental, "
                 "nothing changed | incremental, one new session (a night) | night: whole / incremental |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for source in sources:
            row, _ = _refreshes(source, work)
            lines.append(row)
            print(row, flush=True)
        wait = _reader_wait(sources[0], work)
        print(wait)
        write_section("snapshot", "## Published snapshot refresh (`bench/bench_snapshot.py`)\n\nMachine: "
                                  f"{machine_line()}. Best of 3 (all 3 in brackets), each warehouse a copy.\n\n"
                                  + "\n".join(lines) + "\n\n" + wait)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]])
