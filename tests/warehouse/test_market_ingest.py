"""Whole-market DataShop ingest: a bucket of snapshots per batch, with every guarantee of the chain-by-chain path.

The batched loader (``ChainBatch``: one validation, one quarantine append, one join/delete/append per table
per batch) must leave exactly the warehouse that loading the same file one snapshot at a time leaves (the
path every single-snapshot format takes: ``ChainBatch.of`` each snapshot of ``gex_sources.iter_chains``).
Files: a generated universe (``gex_market.generate_universe``, 40 underlyings, two sessions in one file)
with corrupt lines in the middle, spilled into several buckets; and the real DataShop sample in
``../shared/data/chains/cboe_datashop`` when present.
"""

from __future__ import annotations

from pathlib import Path

import gex_sources
import pytest
from gex_market.universe import generate_universe
from gex_sources import ChainBatch
from gex_sources import csvtable as ct
from gex_warehouse import sources
from gex_warehouse.connect import connect
from gex_warehouse.digest import table_digests
from gex_warehouse.load import LoadResult, ingest_file

from tests.conftest import SHARED_CHAINS
from tests.warehouse.helpers import fresh_warehouse, rows

N_UNDERLYINGS = 40
SESSIONS = 2
INDEX_CONTRACTS = 400  # thinned index chains keep the test fast; chain sizes do not matter here


def _per_snapshot(path: Path, format: str):
    """The loader's input one snapshot per batch (what single-snapshot formats give it)."""
    return (ChainBatch.of(snap) for snap in gex_sources.iter_chains(path, format=format))


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> dict[str, object]:
    """Two sessions of a 40-underlying universe in one DataShop file, with corrupt lines in the middle.

    Returns the file, its data line count and the corrupt lines by kind (1-based physical line numbers).
    """
    out = tmp_path_factory.mktemp("market")
    summary = generate_universe(out, N_UNDERLYINGS, sessions=SESSIONS, seed=3, index_contracts=INDEX_CONTRACTS)
    header, *body = summary.files[0].read_text().splitlines()
    for extra in summary.files[1:]:
        body += extra.read_text().splitlines()[1:]
    names = header.split(",")
    col = {n: i for i, n in enumerate(names)}
    mid = len(body) // 2

    def edit(line: str, **values: str) -> str:
        cells = line.split(",")
        for name, value in values.items():
            cells[col[name]] = value
        return ",".join(cells)

    quoted = next(i for i in range(mid + 7, len(body)) if float(body[i].split(",")[col["ask_eod"]]) > 0)
    bad = {
        "strike": mid,  # reader reject: non-numeric strike
        "crossed": quoted,  # validation reject: bid above a positive ask
        "fields": quoted + 6,  # reader reject: wrong number of fields
        "orphan": quoted + 12,  # an underlying no other line has, unusable as a path: belongs to no snapshot
    }
    body[bad["strike"]] = edit(body[bad["strike"]], strike="12x5")
    ask = float(body[bad["crossed"]].split(",")[col["ask_eod"]])
    body[bad["crossed"]] = edit(body[bad["crossed"]], bid_eod=f"{ask + 1:.2f}")
    body[bad["fields"]] = body[bad["fields"]] + ",extra"
    body[bad["orphan"]] = edit(body[bad["orphan"]], underlying_symbol="../etc")
    body.insert(quoted + 21, body[quoted + 20])  # an identical copy of a contract: the copy is quarantined
    bad["duplicate"] = quoted + 21
    path = out / "UnderlyingOptionsEODCalcs_market.csv"
    path.write_text("\n".join([header, *body]) + "\n")
    return {"path": path, "data_lines": len(body), "lines": {k: v + 2 for k, v in bad.items()}}  # +2: header, 1-based


@pytest.fixture
def buckets(monkeypatch, market):
    """Spill the small file into five buckets, as a whole-market file is (so batches and orphans span them)."""
    size = Path(market["path"]).stat().st_size
    monkeypatch.setattr(ct, "SPILL_BYTES", 1024)
    monkeypatch.setattr(ct, "BUCKET_BYTES", size // 5)


def _warehouse(tmp_path: Path, template_dir: Path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    return connect(fresh_warehouse(folder, template_dir))


def _facts(result: LoadResult) -> dict[str, object]:
    return {k: v for k, v in vars(result).items() if k != "seconds"}


def test_batches_write_what_snapshot_by_snapshot_writes(market, buckets, tmp_path, template_dir, monkeypatch):
    path = market["path"]
    assert len(list(gex_sources.iter_chain_batches(path))) == 5  # the batched path really has several batches
    batched = _warehouse(tmp_path, template_dir, "batched")
    result = ingest_file(batched, path)
    monkeypatch.setattr(sources, "chain_batches", _per_snapshot)
    single = _warehouse(tmp_path, template_dir, "single")
    reference = ingest_file(single, path)
    assert _facts(result) == _facts(reference)
    assert table_digests(batched) == table_digests(single)

    # and what that is: every chain of both sessions, the corrupt lines quarantined with their reasons
    assert result.status == "loaded"
    assert result.chains == len(result.underlyings) * SESSIONS
    assert len(result.sessions) == SESSIONS
    assert result.rows_in == market["data_lines"] == result.rows_loaded + result.rows_rejected
    lines = market["lines"]
    quarantined = dict(rows(batched, "SELECT source_line, reason FROM raw.quarantine WHERE load_id = ?", [result.load_id]))
    assert sorted(quarantined) == sorted(lines.values())
    assert quarantined[lines["strike"]] == "non-numeric strike: '12x5'"
    assert quarantined[lines["crossed"]].startswith("bid above ask")
    assert quarantined[lines["fields"]].startswith("wrong number of fields")
    assert "underlying_symbol" in quarantined[lines["orphan"]]
    assert quarantined[lines["duplicate"]].startswith("duplicate contract")
    assert any("belong to no snapshot" in w for w in result.warnings)
    snapshots = rows(batched, "SELECT count(*), sum(contracts) FROM raw.chain_snapshots")
    assert snapshots == [(result.chains, result.rows_loaded)]
    # each snapshot row agrees with its quotes, recounted here in SQL (not by the loader's code)
    disagree = rows(
        batched,
        """
        WITH q AS (
            SELECT underlying, session, valuation_ts, count(*) AS n, count(*) FILTER (settlement_ts <= valuation_ts) AS expired,
                   count(DISTINCT expiration) FILTER (expiration >= session) AS expirations,
                   min(expiration) FILTER (expiration >= session) AS first_exp, max(expiration) AS last_exp,
                   min(underlying_price) AS spot, max(underlying_price) AS spot_hi, min(load_id) AS load_id
            FROM raw.chain_quotes GROUP BY ALL
        )
        SELECT s.underlying, s.session FROM raw.chain_snapshots AS s
        LEFT JOIN q USING (underlying, session, valuation_ts)
        LEFT JOIN raw.underlying_closes AS c ON c.underlying = s.underlying AND c.session = s.session AND c.source = 'chain'
        WHERE q.n IS DISTINCT FROM s.contracts OR q.expired IS DISTINCT FROM s.expired_contracts
           OR q.expirations IS DISTINCT FROM s.expirations OR q.first_exp IS DISTINCT FROM s.first_expiration
           OR q.last_exp IS DISTINCT FROM s.last_expiration OR q.spot IS DISTINCT FROM s.spot OR q.spot_hi <> q.spot
           OR q.load_id IS DISTINCT FROM s.load_id OR s.load_id <> ? OR s.intraday
           OR c."close" IS DISTINCT FROM s.spot OR c.load_id IS DISTINCT FROM s.load_id
        """,
        [result.load_id],
    )
    assert disagree == []
    assert rows(batched, "SELECT count(*) FROM raw.underlying_closes") == [(result.chains,)]
    batched.close()
    single.close()


def test_second_load_is_a_no_op(market, buckets, tmp_path, template_dir):
    con = _warehouse(tmp_path, template_dir, "again")
    first = ingest_file(con, market["path"])
    before = table_digests(con)
    second = ingest_file(con, market["path"])
    assert (first.status, second.status) == ("loaded", "already loaded")
    assert table_digests(con) == before
    con.close()


def test_a_newer_file_replaces_every_chain_it_covers(market, buckets, tmp_path, template_dir):
    path = Path(market["path"])
    newer = tmp_path / "UnderlyingOptionsEODCalcs_market_corrected.csv"
    header, *body = path.read_text().splitlines()
    oi = header.split(",").index("open_interest")
    body = [",".join(str(int(c) + 1) if i == oi and c.isdigit() else c for i, c in enumerate(line.split(","))) for line in body]
    newer.write_text("\n".join([header, *body]) + "\n")

    con = _warehouse(tmp_path, template_dir, "replace")
    old = ingest_file(con, path)
    new = ingest_file(con, newer)
    assert new.status == "loaded"
    assert len(new.replaced) == new.chains == old.chains
    assert rows(con, "SELECT DISTINCT load_id FROM raw.chain_quotes") == [(new.load_id,)]
    assert rows(con, "SELECT status, superseded_by FROM raw.load_manifest WHERE load_id = ?", [old.load_id]) == [
        ("superseded", new.load_id)
    ]
    replaced = {t: d for t, d in table_digests(con).items() if t.startswith("raw.chain") or t == "raw.underlying_closes"}
    fresh = _warehouse(tmp_path, template_dir, "fresh")
    ingest_file(fresh, newer)
    assert replaced == {t: d for t, d in table_digests(fresh).items() if t in replaced}
    con.close()
    fresh.close()


def _real_datashop_files() -> list[Path]:
    folder = SHARED_CHAINS / "cboe_datashop"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


@pytest.mark.shared_data
@pytest.mark.skipif(not _real_datashop_files(), reason="no real DataShop file in ../shared/data/chains/cboe_datashop")
@pytest.mark.parametrize("spill", [False, True], ids=["in-memory", "spilled"])
def test_real_datashop_sample_loads_as_snapshot_by_snapshot(spill, tmp_path, template_dir, monkeypatch):
    if spill:
        monkeypatch.setattr(ct, "SPILL_BYTES", 1024)
        monkeypatch.setattr(ct, "BUCKET_BYTES", 32 * 1024)
    for path in _real_datashop_files():
        batched = _warehouse(tmp_path, template_dir, f"batched-{path.stem}")
        result = ingest_file(batched, path)
        with monkeypatch.context() as m:
            m.setattr(sources, "chain_batches", _per_snapshot)
            single = _warehouse(tmp_path, template_dir, f"single-{path.stem}")
            reference = ingest_file(single, path)
        assert result.status == "loaded"
        assert _facts(result) == _facts(reference)
        assert table_digests(batched) == table_digests(single)
        batched.close()
        single.close()


def test_batches_hold_each_snapshot_and_its_lines(market, buckets):
    """Every (underlying, session) of the file is one snapshot holding exactly its own lines (good rows plus
    reader rejects), counted here from a naive split of the text; the orphan line goes to the file's last
    snapshot. ``ChainBatch.of`` and ``split`` are inverse for one snapshot."""
    path = Path(market["path"])
    naive: dict[tuple[str, str], int] = {}
    header, *body = path.read_text().splitlines()
    names = header.split(",")
    u, d = names.index("underlying_symbol"), names.index("quote_date")
    for line in body:
        cells = line.split(",")
        key = (cells[u].lstrip("^"), cells[d])
        naive[key] = naive.get(key, 0) + 1
    naive.pop(("../etc", body[market["lines"]["orphan"] - 2].split(",")[d]))
    snaps = [s for b in gex_sources.iter_chain_batches(path) for s in b.split()]
    assert sorted(naive) == sorted((s.underlying, s.session.isoformat()) for s in snaps)  # each bucket in key order
    for i, s in enumerate(snaps):
        orphans = 1 if i == len(snaps) - 1 else 0
        assert s.frame.height + s.rejects.height == naive[(s.underlying, s.session.isoformat())] + orphans
        assert s.frame["underlying"].unique().to_list() == [s.underlying]
        assert s.frame["session"].unique().to_list() == [s.session]
        assert s.frame["source_line"].is_sorted() and s.rejects["source_line"].is_sorted()
    one = ChainBatch.of(snaps[0])
    back = next(one.split())
    assert back.frame.equals(snaps[0].frame) and back.rejects.equals(snaps[0].rejects)
    assert (back.underlying, back.session, back.valuation_ts, back.spot, back.warnings) == (
        snaps[0].underlying, snaps[0].session, snaps[0].valuation_ts, snaps[0].spot, snaps[0].warnings
    )
