"""Cboe delayed-quotes JSON (format C) on small hand-made documents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from gex.chain import CHAIN_SCHEMA
from gex_sources import SourceError, read_chain
from sources_helpers import json_record

UTC = dt.timezone.utc
MakeJson = Callable[..., Path]

SPY_RECORDS = [
    json_record("SPY250609P00600000", bid=2.0, open_interest=212.0),  # order in the file means nothing
    json_record("SPY250609C00600000"),
    json_record("SPY250620C00610000", iv=None, vega=None),
]


def test_clean_document(make_json: MakeJson) -> None:
    path = make_json(SPY_RECORDS)
    snap = read_chain(path)
    assert snap.source_format == "cboe_json"
    assert (snap.underlying, snap.spot) == ("SPY", 600.5)
    # the timestamp is UTC: Sunday 8 June 2025 08:49 New York describes Friday 6 June's close
    assert snap.snapshot_ts == dt.datetime(2025, 6, 8, 12, 49, 38, tzinfo=UTC)
    assert snap.session == dt.date(2025, 6, 6)
    assert snap.valuation_ts == dt.datetime(2025, 6, 6, 20, 0, tzinfo=UTC)
    assert snap.header_date == dt.date(2025, 6, 8)
    assert snap.rejects.height == 0 and snap.warnings == ()

    f = snap.frame
    assert f.schema == pl.Schema(CHAIN_SCHEMA)
    assert f["source_line"].to_list() == [1, 2, 3]  # 1-based index in data.options
    assert f["right"].to_list() == ["P", "C", "C"]
    assert f["strike"].to_list() == [600.0, 600.0, 610.0]
    assert f["expiration"].to_list() == [dt.date(2025, 6, 9), dt.date(2025, 6, 9), dt.date(2025, 6, 20)]
    assert set(f["settlement"]) == {"PM"} and set(f["root"]) == {"SPY"}
    first = f.row(0, named=True)
    assert (first["bid"], first["ask"], first["last"], first["open_interest"], first["volume"]) == (
        2.0,
        1.2,
        1.15,
        212,
        3,
    )
    assert (first["vendor_vega"], first["vendor_theta"]) == (0.3, -0.1)  # JSON carries vega and theta
    assert first["oi_date"] == dt.date(2025, 6, 5)
    third = f.row(2, named=True)
    assert third["vendor_iv"] is None and third["vendor_vega"] is None  # JSON null stays null


def test_index_symbol_with_underscore(make_json: MakeJson) -> None:
    records = [json_record("SPXW250609C06000000"), json_record("SPX250620P06000000")]
    snap = read_chain(make_json(records, symbol="_SPX", spot=6000.25))
    assert snap.underlying == "SPX"
    assert snap.frame.select("root", "settlement").rows() == [("SPXW", "PM"), ("SPX", "AM")]
    assert snap.warnings == ()


def test_malformed_osi_symbol_is_a_rejected_row(make_json: MakeJson) -> None:
    bad = json_record("SPY25069C00600000")
    path = make_json([*SPY_RECORDS, bad])
    snap = read_chain(path)
    assert snap.frame.height == 3
    assert snap.rejects.height == 1
    line, raw, reason = snap.rejects.row(0)
    assert line == 4
    assert json.loads(raw) == bad
    assert reason == "malformed OSI symbol: 'SPY25069C00600000'"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (json_record(None), "malformed OSI symbol: None"),
        (json_record(12345), "malformed OSI symbol: 12345"),
        (17, "record is not an object"),
        (json_record("SPY250609C00605000", bid="abc"), "non-numeric bid: 'abc'"),
        (json_record("SPY250609C00605000", gamma=True), "non-numeric gamma: True"),
        (json_record("SPY250609C00605000", iv=float("nan")), "non-numeric iv: nan"),  # json accepts NaN
        (json_record("SPY250609C00605000", open_interest=1.5), "non-integer open_interest: 1.5"),
        (json_record("SPY250609C00605000", volume=-2.0), "non-integer volume: -2.0"),
        (json_record("XSP250609C00605000"), "root of another underlying: 'XSP'"),
    ],
)
def test_bad_records_become_rejects(make_json: MakeJson, record: object, reason: str) -> None:
    snap = read_chain(make_json([*SPY_RECORDS, record]))
    assert snap.frame.height == len(SPY_RECORDS)
    assert snap.rejects["source_line"].to_list() == [4]
    assert snap.rejects["reason"][0].startswith(reason), snap.rejects["reason"][0]
    assert snap.frame.height + snap.rejects.height == len(SPY_RECORDS) + 1


def test_json_without_data_is_a_file_error(make_json: MakeJson) -> None:
    path = make_json(doc={"timestamp": "2025-06-08 12:49:38", "symbol": "SPY"})
    with pytest.raises(SourceError, match=r"spy_quotedata\.json: JSON has no 'data' object"):
        read_chain(path)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"timestamp": "2025-06-08 12:49:38", "data": {"symbol": "SPY", "current_price": 1.0}}, "no 'options' list"),
        ({"timestamp": "2025-06-08 12:49:38", "data": {"options": {}}}, "no 'options' list"),
        ({"timestamp": "2025-06-08 12:49:38", "data": []}, "no 'data' object"),
        ([1, 2], "no 'data' object"),
        ({"data": {"symbol": "SPY", "current_price": 1.0, "options": []}}, "no 'timestamp'"),
        ({"timestamp": "yesterday", "data": {"current_price": 1.0, "options": []}}, "cannot parse JSON timestamp"),
        ({"timestamp": "2025-06-08 12:49:38", "data": {"symbol": "SPY", "options": []}}, "missing spot"),
        ({"timestamp": "2025-06-08 12:49:38", "data": {"current_price": "x", "options": []}}, "missing spot"),
    ],
)
def test_document_problems_are_file_errors(make_json: MakeJson, doc: object, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read_chain(make_json(doc=doc), format="cboe_json")


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{"timestamp": "2025-06-08 12:49:38",\n "data": {"options": [1,\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"cut\.json:\d+: invalid JSON"):
        read_chain(path)


def test_bom_json(tmp_path: Path, make_json: MakeJson) -> None:
    ref = read_chain(make_json(SPY_RECORDS, name="a.json"))
    path = tmp_path / "b.json"
    path.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "a.json").read_bytes().replace(b", ", b",\r\n"))
    assert read_chain(path).frame.equals(ref.frame)
