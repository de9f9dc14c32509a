"""Market-scale batching gives the same warehouse as one snapshot at a time.

`gex compute` reads a session's snapshots with one query (``read_chains``, ``core.contracts_as_of_many``),
writes batches of jobs in one transaction (``write_results``) and may analyse in worker processes
(``process_pool``), writing one batch while the next is analysed; the flows do the same from 200 jobs
(``tests/flows/test_dask.py``) and read and write per snapshot below that. Both paths must leave identical marts.
Checked on a small generated universe (many underlyings in one DataShop file) and on the compute tests'
market (one underlying, OCC open-interest feed loaded). The workers send their results back in packed chunks
(``gex_warehouse.mart_batch``): each snapshot unpacks to its own marts, through pickle, a bad chain failing alone
inside its chunk, chunks spanning two batches.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import shutil
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from gex.chain import ChainSchemaError
from gex.conventions import preset
from gex_market.universe import generate_universe
from gex_service import compute as svc
from gex_warehouse import compute as c
from gex_warehouse import mart_batch as mb
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digest

from tests.warehouse.helpers import ingest_template
from tests.warehouse.test_compute import market  # noqa: F401 - the session fixture, shared

#: Mart tables compared (``mart.runs`` holds run instants and ids, different on every run).
COMPARED = c.MART_TABLES + ("mart.pending_recompute",)


@pytest.fixture(scope="module")
def universe(tmp_path_factory) -> Path:
    """A warehouse template with one session of a 12-underlying universe loaded (not computed)."""
    root = tmp_path_factory.mktemp("universe")
    generate_universe(root / "landing", 12, sessions=1, seed=3, index_contracts=300)
    return ingest_template(root / "landing", root / "template.duckdb")


def _copy(template: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(template, target)
    return target


def _marts(path: Path) -> dict[str, str]:
    con = connect(path)
    try:
        return {t: table_digest(con, t) for t in COMPARED}
    finally:
        con.close()


def _per_snapshot(path: Path, presets: list[str]) -> list[svc.SessionOutcome]:
    con = connect(path)
    try:
        jobs = svc.plan(con, presets=presets)
        return svc.run(jobs, read=lambda u, s, v: c.read_chain(con, u, s, v), write=svc.write_with(con), flow="compute")
    finally:
        con.close()


def _batched(path: Path, presets: list[str], **kwargs) -> list[svc.SessionOutcome]:
    con = connect(path)
    try:
        return svc.compute(con, svc.plan(con, presets=presets), **kwargs)
    finally:
        con.close()


def _frames_equal(a: c.ChainInput, b: c.ChainInput) -> bool:
    return (a.snapshot.frame.equals(b.snapshot.frame) and a.oi_source == b.oi_source and a.load_id == b.load_id
            and a.rate == b.rate and a.snapshot.warnings == b.snapshot.warnings and a.snapshot.spot == b.snapshot.spot
            and a.snapshot.valuation_ts == b.snapshot.valuation_ts and a.snapshot.snapshot_ts == b.snapshot.snapshot_ts
            and a.snapshot.source_format == b.snapshot.source_format)


@pytest.mark.parametrize("which", ["universe", "market"])
def test_reading_a_session_at_once_equals_reading_each_snapshot(which, universe, market, tmp_path):  # noqa: F811
    path = _copy(universe if which == "universe" else market[1], tmp_path, "gex.duckdb")
    con = connect(path)
    try:
        keys = c.loaded_snapshots(con)
        assert len(keys) >= 4
        batch = c.read_chains(con, keys)
        assert list(batch) == keys
        for u, s, v in keys:
            one = c.read_chain(con, u, s, v)
            got = batch[(u, s, v)]
            assert isinstance(got, c.ChainInput) and _frames_equal(got, one), (u, s)
        if which == "market":  # the OCC feed of the session's morning is what both read
            assert {batch[k].oi_source for k in keys} == {c.OI_FEED}  # type: ignore[union-attr]
        u, s, v = keys[0]
        missing = c.read_chains(con, [("NOPE", s, v), (u, s, v)])
        assert isinstance(missing[("NOPE", s, v)], KeyError) and isinstance(missing[(u, s, v)], c.ChainInput)
    finally:
        con.close()


def test_batched_writes_leave_the_marts_of_one_transaction_per_snapshot(universe, tmp_path):
    one = _copy(universe, tmp_path / "one", "gex.duckdb")
    many = _copy(universe, tmp_path / "many", "gex.duckdb")
    expected = _per_snapshot(one, ["native", "perfiliev"])
    got = _batched(many, ["native", "perfiliev"], batch=5)  # 12 snapshots: batches of 5, 5 and 2
    assert len(got) == len(expected) == 24
    key = lambda o: (o.underlying, o.session, o.preset, o.status, o.rows_in, o.rows_out, o.total_gex_usd_per_1pct,
                     o.gamma_flip, o.regime)
    assert [key(o) for o in got] == [key(o) for o in expected]
    assert _marts(many) == _marts(one)
    con = connect(many)
    try:
        runs = con.execute("SELECT count(*), count(DISTINCT run_id), min(status), max(status) FROM mart.runs").fetchall()
        assert runs == [(24, 24, "ok", "ok")]
        assert c.pending(con, ["native", "perfiliev"]) == []
    finally:
        con.close()


def test_a_failing_snapshot_fails_alone_inside_its_batch(universe, tmp_path, monkeypatch):
    path = _copy(universe, tmp_path, "gex.duckdb")
    real = c.compute_chain

    def broken(chain: c.ChainInput, conventions):
        if chain.snapshot.underlying == "SPX":
            raise ValueError("spot must be a positive number")
        return real(chain, conventions)

    monkeypatch.setattr(c, "compute_chain", broken)
    got = _batched(path, ["native"], batch=12)
    failed = [o for o in got if o.status != "ok"]
    assert [(o.underlying, o.message) for o in failed] == [("SPX", "ValueError: spot must be a positive number")]
    con = connect(path)
    try:
        assert con.execute("SELECT count(*) FROM mart.regime_daily").fetchall() == [(11,)]
        assert con.execute("SELECT underlying, status FROM mart.runs WHERE status = 'failed'").fetchall() == [("SPX", "failed")]
        assert [k[0] for k in c.pending(con, ["native"])] == ["SPX"]  # it stays pending: a rerun retries it
    finally:
        con.close()


def test_a_stop_between_batches_keeps_whole_batches_and_the_rerun_completes(universe, tmp_path):
    path = _copy(universe, tmp_path / "stopped", "gex.duckdb")
    reference = _copy(universe, tmp_path / "ref", "gex.duckdb")
    _batched(reference, ["native"], batch=4)
    written: list[int] = []

    def stop_after_first_write() -> bool:
        return bool(written)  # go until a batch is committed, then stop (the next batch's analyses are dropped)

    first = _batched(path, ["native"], batch=4, should_stop=stop_after_first_write, on_written=written.append)
    assert written == [4] and len(first) == 4  # one whole batch, nothing of the next
    con = connect(path)
    try:
        assert con.execute("SELECT count(*) FROM mart.regime_daily").fetchall() == [(4,)]
        assert len(c.pending(con, ["native"])) == 8
    finally:
        con.close()
    _batched(path, ["native"], batch=4)
    assert _marts(path) == _marts(reference)


@pytest.mark.slow
def test_worker_processes_compute_the_same_bytes_as_this_process(universe, tmp_path):
    inline = _copy(universe, tmp_path / "inline", "gex.duckdb")
    pooled = _copy(universe, tmp_path / "pooled", "gex.duckdb")
    _batched(inline, ["native"], workers=1)
    con = connect(pooled)
    try:
        con.execute("SET threads = 3")
        settings = "SELECT current_setting('threads'), current_setting('checkpoint_threshold')"
        before = con.execute(settings).fetchall()[0]
        # while the workers run: DuckDB on one thread (gex_service.compute._single_threaded), a checkpoint only
        # every 256 MiB of WAL (_fewer_checkpoints)
        seen: list[tuple] = []
        got = svc.compute(con, svc.plan(con, presets=["native"]), workers=2, on_outcome=lambda _: seen.append(
            con.execute(settings).fetchall()[0]))
        after = con.execute(settings).fetchall()[0]
    finally:
        con.close()
    assert {o.status for o in got} == {"ok"} and len(got) == 12
    assert set(seen) == {(1, "256.0 MiB")} and after == before == (3, "16.0 MiB")  # the connection's own settings are back
    assert _marts(pooled) == _marts(inline)


def test_batch_size_and_workers_follow_the_run_size():
    assert svc.batch_for(3) == 1 and svc.batch_for(100) == 5 and svc.batch_for(5_000) == 250
    assert svc.batch_for(50_000) == svc.MARKET_BATCH
    assert svc.workers_for(10, None) == 1 and svc.workers_for(10, 3) == 3
    assert svc.workers_for(svc.PROCESS_POOL_MIN_JOBS, None) >= 1


def test_the_session_macro_and_the_snapshot_macro_are_one_rule(universe, tmp_path):
    path = _copy(universe, tmp_path, "gex.duckdb")
    con = connect(path)
    try:
        (s, v), = con.execute("SELECT DISTINCT session, valuation_ts FROM raw.chain_snapshots").fetchall()
        underlyings = [u for (u,) in con.execute("SELECT DISTINCT underlying FROM raw.chain_snapshots ORDER BY 1").fetchall()]
        many = pl.from_arrow(con.sql("SELECT * FROM core.contracts_as_of_many($s, $v, $u)",
                                     params={"s": s, "v": v, "u": underlyings}).to_arrow_table())
        each = pl.concat([
            pl.from_arrow(con.sql("SELECT * FROM core.contracts_as_of($u, $s, $v)",
                                  params={"u": u, "s": s, "v": v}).to_arrow_table())  # type: ignore[misc]
            for u in underlyings
        ])
        assert isinstance(many, pl.DataFrame) and many.height > 1000
        assert many.equals(each)
        assert isinstance(s, dt.date)
    finally:
        con.close()


def test_a_snapshot_whose_rows_do_not_make_a_chain_fails_alone_in_a_batch_read(universe, tmp_path, monkeypatch):
    """The batch is assembled at once (``_assemble_many``); when ``conform`` rejects one chain's rows (the
    warehouse's CHECK constraints keep such rows out, so the rejection is simulated), that fails, and then each
    chain is assembled alone: only the bad one fails, with the schema error, the others equal a clean read."""
    path = _copy(universe, tmp_path, "gex.duckdb")
    real = c.conform

    def rejects_spy(frame: pl.DataFrame) -> pl.DataFrame:
        if "SPY" in frame["underlying"].to_list():
            raise ChainSchemaError("chain frame has a column of the wrong type: right 'X'")
        return real(frame)

    con = connect(path)
    try:
        keys = c.loaded_snapshots(con)
        clean = c.read_chains(con, keys)
        monkeypatch.setattr(c, "conform", rejects_spy)
        got = c.read_chains(con, keys)
        spy = next(k for k in keys if k[0] == "SPY")
        assert isinstance(got[spy], ChainSchemaError)
        assert all(_frames_equal(got[k], clean[k]) for k in keys if k != spy)  # type: ignore[arg-type]
    finally:
        con.close()
    outcomes = _batched(path, ["native"], batch=12)
    assert [(o.underlying, o.status) for o in outcomes if o.status != "ok"] == [("SPY", "failed")]
    assert sum(o.status == "ok" for o in outcomes) == 11


def test_assembling_many_chains_at_once_equals_each_alone_with_the_feed_on_some():
    """``_assemble_many``'s open-interest choice per underlying (a window) against ``_assemble`` on each
    underlying's rows: one chain on the OCC feed of the session's morning with a contract absent from it, one
    on an older publication (stale: the chain's own figures), one without any feed row."""
    session = dt.date(2025, 1, 2)
    ts = dt.datetime(2025, 1, 2, 21, 0, tzinfo=dt.timezone.utc)
    rows = []
    for u, publish, n in (("AAA", session, 4), ("BBB", dt.date(2024, 12, 30), 3), ("CCC", None, 2)):
        for i in range(n):
            feed = None if (u == "AAA" and i == 1) or publish is None else 1000 + i
            rows.append({
                "underlying": u, "session": session, "snapshot_ts": ts, "valuation_ts": ts, "symbol": f"{u}{i}",
                "root": u, "expiration": dt.date(2025, 1, 17), "settlement": "PM",
                "settlement_ts": dt.datetime(2025, 1, 17, 21, 0, tzinfo=dt.timezone.utc), "strike": 100.0 + i,
                "right": "CP"[i % 2], "bid": 1.0, "ask": 1.2, "last": 1.1, "volume": 5, "vendor_iv": 0.2,
                "vendor_delta": None, "vendor_gamma": None, "vendor_vega": None, "vendor_theta": None,
                "underlying_price": 100.0, "multiplier": 100.0, "source_line": i + 1,
                "chain_open_interest": 10 + i, "chain_oi_date": dt.date(2025, 1, 1),
                "feed_open_interest": feed, "feed_oi_date": None if feed is None else dt.date(2024, 12, 31),
                "feed_publish_date": None if feed is None else publish,
            })
    contracts = pl.DataFrame(rows, infer_schema_length=None)
    head = (100.0, ts, ts, session, "datashop", "name", "load-1")
    many = c._assemble_many(session, dict.fromkeys(("AAA", "BBB", "CCC"), head), contracts)
    assert sorted(many) == ["AAA", "BBB", "CCC"]
    for u, (snapshot, source, load_id) in many.items():
        one, one_source, one_load = c._assemble(u, session, head, contracts.filter(pl.col("underlying") == u))
        assert snapshot.frame.equals(one.frame) and snapshot.frame.schema == one.frame.schema, u
        assert (source, load_id, snapshot.warnings) == (one_source, one_load, one.warnings), u
    assert [many[u][1] for u in ("AAA", "BBB", "CCC")] == [c.OI_FEED, c.OI_CHAIN, c.OI_CHAIN]
    assert "(1 contracts absent from it" in many["AAA"][0].warnings[0]
    assert many["AAA"][0].frame["open_interest"].to_list() == [1000, 11, 1002, 1003]


class _DeadWorker:
    """The future of an analysis whose worker process was killed (what ProcessPoolExecutor hands back)."""

    def result(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        raise BrokenProcessPool("A process in the process pool was terminated abruptly")


@pytest.fixture
def pool_dying_after(monkeypatch):
    """``gex_service.compute.process_pool`` whose workers die after ``n`` analyses (set ``dies.after``)."""
    from contextlib import contextmanager

    class Dies:
        after = 4

    @contextmanager
    def dying_pool(workers, batch=1):
        calls = {"n": 0}

        def analyse(chain, conventions):
            calls["n"] += 1
            return svc.submit_inline(chain, conventions) if calls["n"] <= Dies.after else _DeadWorker()

        yield analyse

    monkeypatch.setattr(svc, "process_pool", dying_pool)
    return Dies


def test_a_dead_worker_process_keeps_the_written_batches_and_the_rerun_completes(universe, tmp_path, pool_dying_after):
    path = _copy(universe, tmp_path / "died", "gex.duckdb")
    reference = _copy(universe, tmp_path / "ref", "gex.duckdb")
    _batched(reference, ["native"], batch=4)
    with pytest.raises(svc.WorkerDiedError, match="worker process died") as info:
        _batched(path, ["native"], batch=4, workers=2)
    assert len(info.value.outcomes) == 4  # the first batch, whole
    con = connect(path)
    try:
        assert con.execute("SELECT count(*) FROM mart.regime_daily").fetchall() == [(4,)]
        assert len(c.pending(con, ["native"])) == 8
    finally:
        con.close()
    pool_dying_after.after = 10**9
    _batched(path, ["native"], batch=4, workers=2)
    assert _marts(path) == _marts(reference)


def test_gex_compute_says_a_worker_died_in_one_line_and_exits_1(universe, tmp_path, pool_dying_after):
    from gex_cli.main import app
    from typer.testing import CliRunner

    path = _copy(universe, tmp_path / "cli", "gex.duckdb")
    pool_dying_after.after = 0
    result = CliRunner().invoke(app, ["compute", "--all", "-w", str(path), "--workers", "2"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "gex: error: an analysis worker process died" in result.output
    assert "run the command again" in result.output


# --- analyses sent back in packed chunks (gex_warehouse.mart_batch) ----------------------------------------


def _chains(path: Path) -> dict[str, c.ChainInput]:
    con = connect(path, read_only=True)
    try:
        keys = con.execute("SELECT underlying, session, valuation_ts FROM raw.chain_snapshots ORDER BY ALL").fetchall()
        return {k[0]: chain for k, chain in c.read_chains(con, [tuple(k) for k in keys]).items()}
    finally:
        con.close()


def test_a_packed_chunk_unpacks_to_each_chains_own_marts(universe):
    chains = _chains(universe)
    names = sorted(chains)
    bad = dataclasses.replace(chains[names[1]], snapshot=dataclasses.replace(chains[names[1]].snapshot, spot=-1.0))
    items = [(chains[names[0]], preset("native")), (bad, preset("native")), (chains[names[2]], preset("gflows")),
             *((chains[n], preset("native")) for n in names[3:])]
    packed = mb.analyse_packed(items)
    sent = pickle.dumps(packed, protocol=5)
    got = mb.unpack(pickle.loads(sent))
    assert len(got) == len(items)
    assert isinstance(got[1], ValueError) and "spot must be a positive number" in str(got[1])
    for (chain, conventions), result in zip(items, got):
        if chain is bad:
            continue
        alone = c.compute_chain(chain, conventions)
        assert all(result.tables()[t].equals(frame) for t, frame in alone.tables().items()), chain.snapshot.underlying
        assert (result.underlying, result.session, result.preset, result.valuation_ts) == \
            (alone.underlying, alone.session, alone.preset, alone.valuation_ts)
        a, b = result.analysis, alone.analysis
        assert (a.spot, a.total_gex, a.gamma_flip, a.regime, a.warnings, a.coverage) == \
            (b.spot, b.total_gex, b.gamma_flip, b.regime, b.warnings, b.coverage)
        for name in mb.ANALYSIS_FRAMES:  # emptied, schema kept
            assert getattr(a, name).height == 0 and getattr(a, name).schema == getattr(b, name).schema


def test_a_chunk_packs_the_same_marts_stacked_as_chain_by_chain(universe, monkeypatch):
    """The stacked contract pass (gex.batch.value_chains) against its reference, every chain valued alone: the
    same mart tables, bit for bit, for every preset mixed in one chunk; and the stacked pass did run."""
    from gex.analysis import value_contracts

    from tests.core.test_batch import assert_same_frame

    chains = _chains(universe)
    items = [(chains[n], preset(p)) for n in sorted(chains) for p in ("native", "perfiliev", "perfiliev-early", "gflows")]
    alone: list[int] = []
    real = value_contracts

    def counted(*args, **kwargs):
        alone.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("gex.analysis.value_contracts", counted)
    stacked = mb.analyse_packed(items)
    stacked_alone = len(alone)
    reference = mb.analyse_packed(items, stacked=False)
    assert len(alone) - stacked_alone == len(items)  # the reference values every chain alone
    small = sum(ch.snapshot.frame.height < 2_000 for ch, _ in items)
    assert small >= 20 and stacked_alone <= len(items) - small + 4  # the small chains were stacked (a few alone)
    assert stacked.heights == reference.heights
    for table in reference.tables:
        assert_same_frame(stacked.tables[table], reference.tables[table], table)


def test_a_batch_of_unpacked_chunks_is_written_as_slices_of_their_frames(universe, tmp_path):
    """write_results takes consecutive snapshots of one packed chunk as one slice of its frame (PackedOrigin):
    a batch mixing two chunks, a snapshot analysed alone between them and a chain that failed writes the same
    marts as each snapshot written on its own, from a few frames a table."""
    chains = _chains(universe)
    names = sorted(chains)
    bad = dataclasses.replace(chains[names[1]], snapshot=dataclasses.replace(chains[names[1]].snapshot, spot=-1.0))
    first = mb.unpack(mb.analyse_packed([(chains[n], preset("native")) for n in names[:1]] + [(bad, preset("native"))]
                                        + [(chains[n], preset("native")) for n in names[2:6]]))
    alone = c.compute_chain(chains[names[6]], preset("native"))
    second = mb.unpack(mb.analyse_packed([(chains[n], preset("native")) for n in names[7:]]))
    computed = [f for f in (*first, alone, *second) if not isinstance(f, Exception)]
    assert alone.origin is None and all(f.origin is not None for f in computed if f is not alone)
    pieces = c._coalesced(computed, "mart.gex_by_strike")
    assert len(pieces) == 3  # the first chunk (the failed chain holds no rows), the one alone, the second chunk
    assert pl.concat(pieces).equals(pl.concat([f.gex_by_strike for f in computed]))

    def run(f: c.MartFrames) -> c.RunRecord:
        now = dt.datetime(2025, 1, 2, 22, tzinfo=dt.timezone.utc)
        return c.RunRecord("test", f.underlying, f.session, 1, f.rows, "ok", now, now, "{}", valuation_ts=f.valuation_ts)

    batched, each = _copy(universe, tmp_path / "a", "gex.duckdb"), _copy(universe, tmp_path / "b", "gex.duckdb")
    con = connect(batched)
    try:
        c.write_results(con, [(f, run(f)) for f in computed])
    finally:
        con.close()
    con = connect(each)
    try:
        for f in computed:
            c.write_marts(con, f)
    finally:
        con.close()
    assert _marts(batched) == _marts(each)


def test_a_table_without_rows_in_the_whole_chunk_unpacks_empty_with_its_schema(universe):
    chains = _chains(universe)
    chain = chains["SPX"]  # European, cash-settled: no early-exercise rows
    alone = c.compute_chain(chain, preset("native"))
    assert alone.early_exercise.height == 0
    [got] = mb.unpack(mb.analyse_packed([(chain, preset("native"))]))
    assert got.early_exercise.height == 0 and got.early_exercise.schema == alone.early_exercise.schema
    assert all(got.tables()[t].equals(frame) for t, frame in alone.tables().items())


@pytest.fixture
def inline_pool(monkeypatch):
    """``gex_service.compute.spawned_pool`` running each submitted chunk at once in this process (the chunking,
    packing and unpacking of ``process_pool`` without processes); records the chunk sizes."""
    sizes: list[int] = []

    class Pool:
        @staticmethod
        def submit(fn, items):
            sizes.append(len(items))
            return svc._Done(fn, items)

    @contextmanager
    def pool(workers):
        yield Pool

    monkeypatch.setattr(svc, "spawned_pool", pool)
    return sizes


def test_gex_compute_in_chunks_spanning_batches_writes_the_marts_of_one_process(universe, tmp_path, inline_pool):
    inline = _copy(universe, tmp_path / "inline", "gex.duckdb")
    chunked = _copy(universe, tmp_path / "chunked", "gex.duckdb")
    _batched(inline, ["native"], workers=1)
    # 12 jobs in batches of 9 and 3; chunks of ceil(9 / (2 workers x 4)) = 2: the first batch's last chain waits
    # in the buffer and goes with the second batch's first
    got = _batched(chunked, ["native"], workers=2, batch=9)
    assert {o.status for o in got} == {"ok"} and len(got) == 12
    assert inline_pool == [2] * 6
    assert _marts(chunked) == _marts(inline)


def test_a_chain_failing_in_a_chunk_fails_alone_and_the_run_goes_on(universe, tmp_path, inline_pool, monkeypatch):
    path = _copy(universe, tmp_path, "gex.duckdb")
    real = c.compute_chain

    def broken(chain: c.ChainInput, conventions, **kwargs):
        if chain.snapshot.underlying == "SPX":
            raise KeyError("no quotes")
        return real(chain, conventions, **kwargs)

    monkeypatch.setattr(mb, "compute_chain", broken)  # what a chunk runs
    got = _batched(path, ["native"], workers=2, batch=12)
    assert [(o.underlying, o.status) for o in got if o.status != "ok"] == [("SPX", "failed")]
    assert sum(o.status == "ok" for o in got) == 11


# --- the writer's DuckDB settings and a commit that fails -------------------------------------------------------


@pytest.mark.parametrize(("limit", "mib"), [("512MB", 61), ("2GB", 230), ("8GB", 256), ("100MB", 16)])
def test_the_checkpoint_threshold_is_a_share_of_the_memory_limit(limit, mib):
    import duckdb

    con = duckdb.connect(config={"memory_limit": limit})
    try:
        # an eighth of the limit, at most 256 MiB, never below DuckDB's own 16 MiB
        assert svc.checkpoint_threshold_mib(con) == mib
        with svc._fewer_checkpoints(con):
            inside = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
        assert inside == (f"{mib}.0 MiB" if mib > 16 else "16.0 MiB")
        assert con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0] == "16.0 MiB"
        # the same values for the flows, which set and restore them through separate borrows of the warehouse
        tuned = svc.batch_writer_settings(con, single_threaded=True)
        assert tuned == ({"checkpoint_threshold": f"{mib}MiB"} if mib > 16 else {}) | {"threads": "1"}
        before = svc.apply_settings(con, tuned)
        assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 1
        svc.apply_settings(con, before)
        assert con.execute("SELECT current_setting('checkpoint_threshold'), current_setting('threads')").fetchall()[0] \
            == ("16.0 MiB", before["threads"])
    finally:
        con.close()


class _CommitFails:
    """A writer connection whose ``COMMIT`` fails as DuckDB's does when memory runs out: the transaction is
    already rolled back when the error is raised."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if sql.strip().upper() == "COMMIT":
            self._con.execute("ROLLBACK")
            import duckdb

            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block (simulated)")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_a_commit_that_fails_raises_its_own_error_and_writes_nothing(universe, tmp_path):
    import duckdb

    path = _copy(universe, tmp_path, "gex.duckdb")
    con = connect(path)
    try:
        chains = c.read_chains(con, [tuple(k) for k in con.execute(
            "SELECT underlying, session, valuation_ts FROM raw.chain_snapshots ORDER BY ALL LIMIT 2").fetchall()])
        now = dt.datetime.now(dt.timezone.utc)
        results = [(c.compute_chain(chain, preset("native")), c.RunRecord(
            "compute", u, s, 1, 1, "ok", now, now, "{}", None, None, v)) for (u, s, v), chain in chains.items()]
        # before: "cannot rollback - no transaction is active" hid the out-of-memory error
        with pytest.raises(duckdb.OutOfMemoryException, match="simulated"):
            c.write_results(_CommitFails(con), results)
        with pytest.raises(duckdb.OutOfMemoryException, match="simulated"):
            c.write_marts(_CommitFails(con), results[0][0])
        assert con.execute("SELECT count(*) FROM mart.regime_daily").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM mart.runs").fetchall() == [(0,)]
        c.write_results(con, results)  # the connection goes on
        assert con.execute("SELECT count(*) FROM mart.regime_daily").fetchall() == [(2,)]
    finally:
        con.close()


def test_gex_says_out_of_memory_in_one_line_and_exits_1(monkeypatch, capsys):
    import duckdb
    from gex_cli import main

    def app():
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 2.0 MiB (488.2 MiB/488.2 MiB used)")

    monkeypatch.setattr(main, "app", app)
    with pytest.raises(SystemExit) as info:
        main.run()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("gex: error: DuckDB ran out of memory (Out of Memory Error: failed to allocate") and \
        "GEX_WAREHOUSE_MEMORY_LIMIT" in err and "internal error" not in err and err.count("\n") == 1
