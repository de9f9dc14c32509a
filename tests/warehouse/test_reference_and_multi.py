"""Reference files (OCC open interest, rates, closes) and multi-snapshot chain files (canonical CSV/Parquet)
through the loader: their tables, the as-of join, replacement, accounting and re-run identity."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from gex.calendar import previous_session
from gex_warehouse.digest import table_digests
from gex_warehouse.load import ingest_file

from tests.warehouse.helpers import SESSION, chain_csv, rows, snapshot

PREV = previous_session(SESSION)
NEXT = dt.date(2024, 1, 8)


def _occ_symbol(symbol: str, root: str) -> str:
    """The 21-character OCC form: root padded to 6 characters."""
    return f"{root:<6}{symbol[len(root):]}"


@pytest.fixture
def chain_and_oi(con, tmp_path):
    chain = ingest_file(con, chain_csv(tmp_path / "spx.csv", SESSION, seed=51, max_contracts=200))
    frame = snapshot(SESSION, 51, 200).frame.filter(pl.col("expiration") > SESSION).head(6)
    lines = ["date,symbol,open_interest"]
    lines += [f"{SESSION},{_occ_symbol(r['symbol'], r['root'])},{1000 + i}" for i, r in enumerate(frame.iter_rows(named=True))]
    lines.append(f"{SESSION},SPXW  240119C09990000,-7")  # negative: a warehouse reject
    oi = tmp_path / "occ_oi_20240105.csv"
    oi.write_text("\n".join(lines) + "\n")
    return chain, frame, oi


def test_occ_open_interest_loads_and_joins_as_of(con, chain_and_oi):
    chain, frame, oi = chain_and_oi
    r = ingest_file(con, oi)
    assert (r.status, r.format, r.kind, r.underlying, r.session) == ("loaded", "occ_oi", "reference", "SPX", SESSION)
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (7, 6, 1)
    assert rows(con, "SELECT source_line, records, stage, reason, raw_text FROM raw.quarantine WHERE load_id = ?", [r.load_id]) == [
        (8, 1, "validation", "negative open_interest: -7", f"{SESSION},SPXW  240119C09990000,-7")
    ]
    assert rows(con, "SELECT DISTINCT publish_date, oi_date FROM raw.open_interest") == [(SESSION, PREV)]
    joined = rows(
        con,
        "SELECT symbol, chain_oi_date, feed_open_interest, feed_oi_date, feed_publish_date FROM core.contracts "
        "WHERE feed_open_interest IS NOT NULL ORDER BY feed_open_interest",
    )
    assert joined == [(s, PREV, 1000 + i, PREV, SESSION) for i, s in enumerate(frame["symbol"])]


def test_a_new_publication_replaces_the_old_one(con, chain_and_oi, tmp_path):
    _, frame, oi = chain_and_oi
    first = ingest_file(con, oi)
    corrected = tmp_path / "occ_oi_20240105_corrected.csv"
    corrected.write_text(oi.read_text().replace(",1000\n", ",1\n"))
    second = ingest_file(con, corrected)
    assert second.status == "loaded"
    assert rows(con, "SELECT DISTINCT load_id FROM raw.open_interest") == [(second.load_id,)]
    assert rows(con, "SELECT status, superseded_by FROM raw.load_manifest WHERE load_id = ?", [first.load_id]) == [
        ("superseded", second.load_id)
    ]
    assert rows(con, "SELECT min(feed_open_interest) FROM core.contracts") == [(1,)]


def test_rates_and_closes_files(con, chain_and_oi, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(f"date,tenor,rate\n{PREV},1M,0.0532\n{PREV},3M,0.0537\n{NEXT},1M,0.07\n")
    r = ingest_file(con, rates)
    assert (r.status, r.format, r.rows_loaded) == ("loaded", "rates", 3)
    assert rows(con, "SELECT rates_date, tenor_days, is_fallback FROM core.rates ORDER BY tenor_days") == [
        (PREV, 30, False),
        (PREV, 91, False),
    ]
    closes = tmp_path / "closes.csv"
    closes.write_text(f"date,underlying,open,high,low,close\n{SESSION},^SPX,4690.57,4721.49,4682.11,4697.24\n")
    c = ingest_file(con, closes)
    assert (c.status, c.format, c.rows_loaded) == ("loaded", "closes", 1)
    assert rows(con, "SELECT source, \"close\" FROM raw.underlying_closes WHERE session = ? ORDER BY source", [SESSION]) == [
        ("chain", 4700.0),
        ("closes", 4697.24),
    ]


def test_rerunning_reference_loads_is_byte_identical(con, chain_and_oi, tmp_path):
    _, _, oi = chain_and_oi
    rates = tmp_path / "rates.csv"
    rates.write_text(f"date,tenor,rate\n{PREV},1M,0.0532\n")
    for f in (oi, rates):
        ingest_file(con, f)
    before = table_digests(con)
    assert [ingest_file(con, f).status for f in (oi, rates)] == ["already loaded", "already loaded"]
    assert table_digests(con) == before


def _canonical(sessions: list[dt.date]) -> pl.DataFrame:
    return pl.concat([snapshot(s, 60 + i, 200).frame for i, s in enumerate(sessions)])


def test_canonical_parquet_with_two_sessions_is_one_load(con, tmp_path):
    frame = _canonical([SESSION, NEXT])
    bad_row = 3  # 0-based row of the file: the reader numbers Parquet rows from 1
    frame = frame.with_columns(
        bid=pl.when(pl.int_range(pl.len()) == bad_row).then(pl.lit(9.0)).otherwise(pl.col("bid")),
        ask=pl.when(pl.int_range(pl.len()) == bad_row).then(pl.lit(1.0)).otherwise(pl.col("ask")),
    )
    path = tmp_path / "chains.parquet"
    frame.write_parquet(path)
    limit = rows(con, "SELECT current_setting('memory_limit')")
    r = ingest_file(con, path)
    assert rows(con, "SELECT current_setting('memory_limit')") == limit  # capped while streaming, then restored
    assert (r.status, r.format, r.chains, r.underlying, r.session) == ("loaded", "canonical", 2, "SPX", None)
    assert sorted(r.sessions) == [SESSION, NEXT]
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (frame.height, frame.height - 1, 1)
    (line, reason, raw), = rows(con, "SELECT source_line, reason, raw_text FROM raw.quarantine WHERE load_id = ?", [r.load_id])
    assert line == bad_row + 1 and reason == "bid above ask: bid 9.0 > ask 1.0"
    assert json.loads(raw)["bid"] == 9.0  # a binary file has no text line: the row as read, in JSON
    assert rows(con, "SELECT session, contracts FROM core.sessions ORDER BY session") == [
        (SESSION, frame.filter(pl.col("session") == SESSION).height - 1),
        (NEXT, frame.filter(pl.col("session") == NEXT).height),
    ]
    assert rows(con, "SELECT session, underlying, chains FROM raw.load_manifest") == [(None, "SPX", 2)]


def test_canonical_csv_loads_like_the_same_parquet(con, tmp_path):
    frame = _canonical([SESSION])
    csv_path = tmp_path / "chain.csv"
    frame.drop("source_line").write_csv(csv_path)
    r = ingest_file(con, csv_path)
    assert (r.status, r.format, r.rows_loaded, r.rows_rejected) == ("loaded", "canonical", frame.height, 0)
    stored = con.execute(
        "SELECT symbol, strike, \"right\", bid, ask, open_interest, vendor_iv FROM raw.chain_quotes ORDER BY symbol"
    ).fetchall()
    expected = frame.sort("symbol").select("symbol", "strike", pl.col("right").cast(pl.String), "bid", "ask",
                                            "open_interest", "vendor_iv").rows()
    assert stored == expected
