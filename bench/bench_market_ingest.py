"""Benchmark: whole-market DataShop ingest (`gex ingest` of one `gex generate --universe N` session file).

Run on demand: ``uv run python bench/bench_market_ingest.py`` (writes the ``market-ingest`` section of
docs/performance.md). Never run by pytest.

For each universe size N (default 300, 2000, 5000 underlyings) the session file is generated once with
the project's own generator (``gex_market.generate_universe``, seed 0, one session) and loaded into a
freshly migrated warehouse by ``ingest_file`` in a **child process**, whose wall time, CPU time (user +
system, all threads: ``os.wait4``) and peak resident memory (its own ``VmHWM``) are read from the OS. Two loaders:

- **batched** (the loader): a bucket of whole snapshots per batch (``gex_sources.iter_chain_batches``);
- **per snapshot** (the baseline, measured in the same run): the same file fed to the same loader one
  snapshot at a time (``ChainBatch.of`` each snapshot of ``iter_chains``), as every file was loaded
  before batching: a few statements and a polars pass per underlying.

Both write identical warehouse contents (``tests/warehouse/test_market_ingest.py``). Target (issue 13):
5,000 underlyings in <= ~30 s wall at < 4 GB peak on 2 cores.

Environment: ``GEX_BENCH_UNIVERSES`` (comma-separated sizes, default ``300,2000,5000``);
``GEX_BENCH_BASELINE_MAX`` (largest size the per-snapshot baseline runs at, default 2000: it takes
minutes above); ``GEX_BENCH_DIR`` keeps the generated files between runs (default a temporary folder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gex_market.universe import generate_universe
from gex_warehouse.connect import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, write_section  # noqa: E402

#: The child: load one file into one warehouse with the chosen loader, print the result as JSON.
CHILD = r"""
import json, sys, time
from pathlib import Path
from gex_warehouse import sources
from gex_warehouse.config import ingest_memory_limit
from gex_warehouse.connect import connect
from gex_warehouse.load import ingest_file
warehouse, path, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if mode == "per-snapshot":
    import gex_sources
    from gex_sources import ChainBatch
    sources.chain_batches = lambda p, f: (ChainBatch.of(s) for s in gex_sources.iter_chains(p, format=f))
con = connect(Path(warehouse), memory_limit=ingest_memory_limit())
t0 = time.perf_counter()
r = ingest_file(con, path)
seconds = time.perf_counter() - t0
con.close()
# this process's own peak resident memory (kB); wait4's ru_maxrss would start from the parent's at the fork
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": r.status, "chains": r.chains, "rows_in": r.rows_in, "rows_loaded": r.rows_loaded,
                  "seconds": seconds, "message": r.message, "peak_kb": peak_kb}))
"""


def universe_file(folder: Path, n: int) -> tuple[Path, float]:
    """The DataShop file of an N-underlying one-session universe (made unless kept), and seconds to make it."""
    out = folder / f"u{n}"
    files = sorted((out / "datashop").glob("*.csv")) if out.is_dir() else []
    if files:
        return files[0], 0.0
    t0 = time.perf_counter()
    summary = generate_universe(out, n, sessions=1, seed=0)
    return summary.files[0], time.perf_counter() - t0


def load_in_child(template: Path, folder: Path, path: Path, mode: str) -> dict[str, float | str | int]:
    """Ingest ``path`` into a fresh copy of ``template`` in a child process; its figures as a dict."""
    warehouse = folder / f"bench-{mode}.duckdb"
    for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(template, warehouse)
    errors = folder / f"bench-{mode}.stderr"
    t0 = time.perf_counter()
    with errors.open("wb") as err:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(warehouse), str(path), mode], stdout=subprocess.PIPE, stderr=err)
        assert child.stdout is not None
        stdout = child.stdout.read()  # until the child exits; wait4 then reaps it with its own resource usage
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if child.returncode != 0:
        raise SystemExit(f"{mode} load of {path} failed: {errors.read_text(errors='replace').strip().splitlines()[-1:]}")
    out = json.loads(stdout.decode().strip().splitlines()[-1])
    warehouse.unlink(missing_ok=True)
    return {**out, "process_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": out["peak_kb"] / 1024}


def main() -> None:
    sizes = [int(s) for s in os.environ.get("GEX_BENCH_UNIVERSES", "300,2000,5000").split(",") if s.strip()]
    baseline_max = int(os.environ.get("GEX_BENCH_BASELINE_MAX", "2000"))
    keep = os.environ.get("GEX_BENCH_DIR")
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="gex-bench-market-ingest-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        template = folder / "template.duckdb"
        template.unlink(missing_ok=True)
        connect(template).close()  # migrated once; every load starts from a copy
        rows = []
        for n in sizes:
            path, made = universe_file(folder, n)
            new = load_in_child(template, folder, path, "batched")
            old = load_in_child(template, folder, path, "per-snapshot") if n <= baseline_max else None
            rows.append((n, path, made, new, old))
            ratio = f"{old['seconds'] / new['seconds']:.1f}x" if old else "-"
            print(
                f"N={n}: {new['rows_in']:,} contracts, {path.stat().st_size / 1e6:.0f} MB; batched {new['seconds']:.1f} s "
                f"(process {new['process_s']:.1f} s, cpu {new['cpu_s']:.1f} s, peak {new['peak_mb']:,.0f} MB)"
                + (f"; per snapshot {old['seconds']:.1f} s (cpu {old['cpu_s']:.1f} s, peak {old['peak_mb']:,.0f} MB), {ratio}" if old else ""),
                flush=True,
            )
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    write_section("market-ingest", report(rows))


def report(rows: list) -> str:
    """The markdown section."""
    lines = [
        "## Whole-market ingest (`bench/bench_market_ingest.py`)",
        "",
        "`gex ingest` of one whole-market DataShop session file (`gex generate --universe N --sessions 1`, seed 0) into "
        "a fresh warehouse, in a child process: **load** = `ingest_file` (hash, read, validate, quarantine, replace, "
        "commit); **process** = the whole child (interpreter start and imports included); CPU = user + system of "
        "all its threads; peak = its peak resident memory. Batched = the loader (a bucket of whole snapshots per "
        "batch); per snapshot = the same loader fed one snapshot at a time (the way every file loaded before), "
        "measured in the same run. Target (issue 13): 5,000 underlyings in <= ~30 s wall, < 4 GB.",
        "",
        "| underlyings | contracts | file | batched: load | process | CPU | peak RSS | per snapshot: load | CPU | peak RSS | speed-up: load | CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, path, _made, new, old in rows:
        base = (
            f"{old['seconds']:.1f} s | {old['cpu_s']:.1f} s | {old['peak_mb']:,.0f} MB | "
            f"**{old['seconds'] / new['seconds']:.1f}x** | {old['cpu_s'] / new['cpu_s']:.1f}x"
            if old
            else "not run | | | |"
        )
        lines.append(
            f"| {n:,} | {new['rows_in']:,} | {path.stat().st_size / 1e6:.0f} MB | **{new['seconds']:.1f} s** | "
            f"{new['process_s']:.1f} s | {new['cpu_s']:.1f} s | {new['peak_mb']:,.0f} MB | {base} |"
        )
    load = os.getloadavg()
    lines += [
        "",
        f"Machine: {machine_line()}; load average at the end {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (the 2 cores "
        "are shared: other work running alongside stretches wall times, CPU seconds much less).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
