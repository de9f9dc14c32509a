"""Published snapshot: how long ``refresh_snapshot`` takes, and how long a reader waits while a writer holds
the warehouse (docs/warehouse.md, "Readers").

    uv run python bench/bench_snapshot.py WAREHOUSE   # e.g. a copy of the `gex demo` warehouse

Works on a copy of WAREHOUSE (its folder gets a ``bench_snapshot/`` subfolder, removed at the end). Prints
best-of-3 refresh seconds, snapshot size and rows, then, with another process holding the copy for writing,
the worst of 20 reader opens (``open_published`` + one query) in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from gex_warehouse.connect import connect
from gex_warehouse.published import open_published, refresh_snapshot


def main(source: Path) -> None:
    work = source.parent / "bench_snapshot"
    work.mkdir(exist_ok=True)
    path = work / "gex.duckdb"
    shutil.copyfile(source, path)
    try:
        con = connect(path)
        try:
            runs = [refresh_snapshot(con, path) for _ in range(3)]
        finally:
            con.close()
        best = min(r.seconds for r in runs)
        print(f"warehouse {source.stat().st_size / 1e6:.1f} MB; snapshot {runs[-1].path.stat().st_size / 1e6:.1f} MB, "
              f"{len(runs[-1].tables)} tables, {runs[-1].rows:,} rows; refresh best of 3: {best:.2f} s "
              f"(all: {', '.join(f'{r.seconds:.2f}' for r in runs)})")
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
        print(f"reader open + first query while a writer holds the warehouse: worst {max(waits) * 1000:.0f} ms, "
              f"median {sorted(waits)[len(waits) // 2] * 1000:.0f} ms (20 opens)")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
