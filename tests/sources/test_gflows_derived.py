"""gflows-style results JSON (third-party computed numbers): hand-made and the real file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from gex.reference import DERIVED_RESULTS_SCHEMA
from gex_sources import SourceError, detect_format, read_reference

from tests.conftest import shared_file


def _strike(k: float, call: object, put: float) -> dict[str, object]:
    block = {"callExposure": call, "putExposure": put, "totalExposure": (call if isinstance(call, float) else 0) + put}
    return {"strike": k, "gamma": block, "delta": block, "vanna": block, "charm": block}


def test_handmade(tmp_path: Path) -> None:
    doc = {
        "ticker": "SPY",
        "spotPrice": 599.14,
        "expiryData": {
            "all": {"strikeData": [_strike(595.0, 1.5, -0.5), _strike(600.0, "x", -0.1)], "totalExposure": 1.0,
                    "zeroGamma": 592.8},  # fmt: skip
            "0dte": {"strikeData": [_strike(600.0, 0.2, -0.05)], "totalExposure": 0.15, "zeroGamma": None},
        },
        "lastUpdated": "2025-06-08T16:18:25.874596",  # a Sunday: describes Friday's close
    }
    path = tmp_path / "gamma.json"
    path.write_text(json.dumps(doc))
    assert detect_format(path) == "gflows_derived"
    res = read_reference(path)
    assert res.kind == "derived_results" and res.frame.schema == pl.Schema(DERIVED_RESULTS_SCHEMA)
    f = res.frame
    assert set(f["session"]) == {dt.date(2025, 6, 6)} and set(f["underlying"]) == {"SPY"}
    assert f.select("expiry_group", "strike", "net_gex_bn", "total_gex_bn", "zero_gamma", "source_line").rows() == [
        ("all", 595.0, 1.0, None, None, 1),
        ("all", None, None, 1.0, 592.8, 3),
        ("0dte", 600.0, pytest.approx(0.15), None, None, 4),
        ("0dte", None, None, 0.15, None, 5),
    ]
    assert res.rejects["source_line"].to_list() == [2] and "not a number" in res.rejects["reason"][0]


def test_not_results(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"ticker": "SPY", "data": {}}')
    with pytest.raises(SourceError, match="no 'expiryData'"):
        read_reference(path, format="gflows_derived")


def test_real_file() -> None:
    path = shared_file("derived_outputs/SPY_2025-06-06_gflows-derived_gamma__osamanoman_tradingforcast.json")
    assert detect_format(path) == "gflows_derived"
    doc = json.loads(path.read_text())
    res = read_reference(path)
    groups = doc["expiryData"]
    assert res.rejects.height == 0
    assert res.frame.height == sum(len(g["strikeData"]) + 1 for g in groups.values())
    assert set(res.frame["session"]) == {dt.date(2025, 6, 6)}
    summary = res.frame.filter(pl.col("strike").is_null())
    assert dict(zip(summary["expiry_group"], summary["total_gex_bn"], strict=True)) == {
        k: g["totalExposure"] for k, g in groups.items()
    }
    per_strike = res.frame.filter(pl.col("strike").is_not_null()).group_by("expiry_group").agg(pl.col("net_gex_bn").sum())
    for group, total in per_strike.iter_rows():
        assert total == pytest.approx(groups[group]["totalExposure"])
