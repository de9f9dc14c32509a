"""Benchmark: a year of SPX-size sessions through the compute layer and the flows.

Run on demand: ``uv run python bench/bench_flows.py`` (writes the ``flows`` section of
docs/performance.md; ~10 minutes on 2 cores). Never run by pytest. Environment: ``GEX_BENCH_SESSIONS``
(default 252), ``GEX_BENCH_CONTRACTS`` (default 20000), ``GEX_BENCH_DIR`` (a folder to keep the generated
market and its ingested warehouse between runs; default a temporary one).

Measured, on one generated market (>= 20,000 contracts per session), all in the same run:

1. **serial library loop** (the baseline): for each session read the chain from the warehouse, analyse it,
   write its marts, one at a time, one thread, no Prefect;
2. **library, 2 threads**: the same with the analysis of the next sessions running in a 2-thread pool while
   the main thread reads and writes (what the backfill flow does, without Prefect);
3. **backfill flow** (Prefect, thread pool) over the same sessions: the difference to (2) is the flow
   overhead (task runs, state tracking), reported separately from Prefect's start-up;
4. scaling: (2) over the first 21, 63, 126 and 252 sessions (seconds per session should stay flat);
5. **backfill on Dask**: the flow with prefect-dask on a temporary local cluster of 2 worker processes,
   against a temporary Prefect API that the workers reach through ``PREFECT_API_URL``.

The exports (publish) are timed on their own. Target (issue 4): the whole-year compute under 2 minutes.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"), ("PREFECT_LOGGING_LEVEL", "WARNING"),
                      ("GEX_PROGRESS", "0")):
    os.environ.setdefault(_name, _value)

import datetime as dt  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from gex.conventions import NATIVE  # noqa: E402
from gex_market.market import generate_market  # noqa: E402
from gex_warehouse import compute as c  # noqa: E402
from gex_warehouse import export as ex  # noqa: E402
from gex_warehouse.connect import connect  # noqa: E402
from gex_warehouse.load import checkpoint, expand_paths, ingest_file  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, write_section  # noqa: E402

SESSIONS = int(os.environ.get("GEX_BENCH_SESSIONS", "252"))
CONTRACTS = int(os.environ.get("GEX_BENCH_CONTRACTS", "20000"))
SCALING = tuple(n for n in (21, 63, 126, 252) if n <= SESSIONS)


def prepare(root: Path) -> tuple[Path, float, float]:
    """Generate and ingest the market once (kept in ``root``); returns (ingested warehouse, generate s, ingest s)."""
    landing, template = root / "landing", root / "ingested.duckdb"
    gen = ing = float("nan")
    if not template.exists():
        t0 = time.perf_counter()
        generate_market(landing, sessions=SESSIONS, contracts=CONTRACTS, seed=0)
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        con = connect(template)
        for file in expand_paths([landing]):
            assert ingest_file(con, file).ok, file
        checkpoint(con)
        con.close()
        ing = time.perf_counter() - t0
    return template, gen, ing


def fresh(template: Path, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    target = where / "gex.duckdb"
    shutil.copyfile(template, target)
    return target


def library(template: Path, where: Path, n: int, threads: int) -> tuple[float, int]:
    """Compute the first ``n`` sessions with the library (no Prefect); returns (seconds, contracts)."""
    path = fresh(template, where)
    con = connect(path)
    keys = c.loaded_sessions(con)[:n]
    contracts = 0
    t0 = time.perf_counter()

    def read(key):
        u, s = key
        return c.snapshot_from_warehouse(con, u, s), c.rate_for(con, s), c.chain_load_id(con, u, s)

    if threads <= 1:
        for key in keys:
            snap, rate, load = read(key)
            contracts += snap.frame.height
            c.write_marts(con, c.compute_session(snap, NATIVE, rate, load_id=load))
    else:
        with ThreadPoolExecutor(threads) as pool:
            batch = 2 * threads
            for i in range(0, len(keys), batch):
                futures = []
                for key in keys[i:i + batch]:
                    snap, rate, load = read(key)
                    contracts += snap.frame.height
                    futures.append(pool.submit(c.compute_session, snap, NATIVE, rate, load_id=load))
                for f in futures:
                    c.write_marts(con, f.result())
    seconds = time.perf_counter() - t0
    con.close()
    return seconds, contracts


def flow_backfill(template: Path, where: Path, n: int, dask: str | None = None) -> tuple[float, float, float]:
    """(seconds of the backfill flow's compute part, of its publish part, of the whole call) over ``n`` sessions."""
    from pipelines.backfill import backfill, with_dask

    path = fresh(template, where)
    con = connect(path, read_only=True)
    keys = c.loaded_sessions(con)[:n]
    con.close()
    run = with_dask(backfill, dask) if dask else backfill
    t0 = time.perf_counter()
    outcomes = run(str(path), keys[0][1], keys[-1][1])
    total = time.perf_counter() - t0
    assert len(outcomes) == n and all(o.status == "ok" for o in outcomes)
    con = connect(path)
    t1 = time.perf_counter()
    con.execute("DELETE FROM mart.export_state")
    ex.export(con, where / "exports-again")  # the publish step alone, timed outside the flow
    publish = time.perf_counter() - t1
    con.close()
    return total - publish, publish, total


def main() -> None:
    keep = os.environ.get("GEX_BENCH_DIR")
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="gex-bench-flows-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        template, gen, ing = prepare(root)
        print(f"market ready in {root} (generate {gen:.1f} s, ingest {ing:.1f} s)", flush=True)
        serial, contracts = library(template, root / "serial", SESSIONS, 1)
        print(f"serial library loop: {serial:.1f} s for {SESSIONS} sessions ({contracts / SESSIONS:,.0f} contracts each)", flush=True)
        scaling = {}
        for n in SCALING:
            scaling[n] = library(template, root / f"threads{n}", n, 2)[0]
            print(f"library, 2 threads, {n} sessions: {scaling[n]:.1f} s", flush=True)
        threaded = scaling.get(SESSIONS) or library(template, root / "threads", SESSIONS, 2)[0]

        from prefect.testing.utilities import prefect_test_harness

        t0 = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=120):
            start = time.perf_counter() - t0
            from prefect.settings import PREFECT_API_URL

            os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())  # for the Dask workers
            flow_compute, publish, flow_total = flow_backfill(template, root / "flow", SESSIONS)
            print(f"backfill flow: {flow_compute:.1f} s compute + {publish:.1f} s publish", flush=True)
            dask_compute, _, _ = flow_backfill(template, root / "dask", SESSIONS, dask="local:2")
            print(f"backfill flow on Dask (local, 2 workers): {dask_compute:.1f} s", flush=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)

    per = {n: s / n for n, s in scaling.items()}
    lines = [
        f"{machine_line()}; {SESSIONS} generated SPX sessions of {contracts / SESSIONS:,.0f} contracts on average "
        f"(seed 0); measured {dt.date.today()}.",
        "",
        "| run | sessions | seconds | per session | vs serial |",
        "|---|---:|---:|---:|---:|",
        f"| serial library loop (baseline: read, analyse, write one at a time) | {SESSIONS} | {serial:.1f} | {serial / SESSIONS:.3f} | 1.00x |",
        f"| library, analysis on 2 threads | {SESSIONS} | {threaded:.1f} | {threaded / SESSIONS:.3f} | {serial / threaded:.2f}x |",
        f"| backfill flow (Prefect, 2 threads), compute | {SESSIONS} | {flow_compute:.1f} | {flow_compute / SESSIONS:.3f} | {serial / flow_compute:.2f}x |",
        f"| backfill flow on Dask (local cluster, 2 processes), compute | {SESSIONS} | {dask_compute:.1f} | {dask_compute / SESSIONS:.3f} | {serial / dask_compute:.2f}x |",
        "",
        f"- Flow overhead (Prefect task runs and states, beyond the library on 2 threads): "
        f"{flow_compute - threaded:+.1f} s over {SESSIONS} sessions ({(flow_compute - threaded) / SESSIONS * 1000:+.0f} ms a session); "
        f"Prefect's temporary API started in {start:.1f} s (once per process).",
        f"- Publish (Parquet exports of every published view, all sessions): {publish:.1f} s.",
        "- Scaling, library on 2 threads: " + ", ".join(f"{n} sessions {scaling[n]:.1f} s ({per[n]:.3f} s each)" for n in SCALING)
        + (f"; seconds per session from {SCALING[0]} to {SCALING[-1]} sessions changes by {per[SCALING[-1]] / per[SCALING[0]] - 1:+.0%}." if len(SCALING) > 1 else "."),
        f"- Preparing the market: generate {gen:.0f} s, ingest {ing:.0f} s (not part of the compute; see the ingest section)."
        if gen == gen else "- Market reused from GEX_BENCH_DIR (generate/ingest not timed in this run).",
        "- Target (issue 4): the whole-year compute under 2 minutes on 2 cores: "
        + ("met" if flow_compute < 120 else "NOT met") + f" ({flow_compute:.0f} s through the flow).",
    ]
    write_section("flows", "## Flows: a year of sessions (`bench/bench_flows.py`)\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
