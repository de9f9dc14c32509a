"""Fixtures writing hand-made chain files into ``tmp_path`` (helpers live in :mod:`sources_helpers`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sources_helpers import CLEAN_LINES, CSV_PREAMBLE, TABLE_HEADER, write_lines


@pytest.fixture
def make_csv(tmp_path: Path) -> Callable[..., Path]:
    """Builder of format-A files: ``make_csv(rows, preamble=..., header=..., name=...)``."""

    def make(
        rows: Sequence[str] = CLEAN_LINES,
        *,
        preamble: Sequence[str] = CSV_PREAMBLE,
        header: str | None = TABLE_HEADER,
        name: str = "spx_quotedata.csv",
        newline: str = "\n",
        bom: bool = False,
    ) -> Path:
        lines = [*preamble, *([header] if header is not None else []), *rows]
        return write_lines(tmp_path / name, lines, newline=newline, bom=bom)

    return make


@pytest.fixture
def make_json(tmp_path: Path) -> Callable[..., Path]:
    """Builder of format-C files: ``make_json(records, symbol=..., spot=..., timestamp=..., doc=...)``."""

    def make(
        records: Sequence[object] = (),
        *,
        symbol: str = "SPY",
        spot: object = 600.5,
        timestamp: str = "2025-06-08 12:49:38",
        doc: object = None,
        name: str = "spy_quotedata.json",
    ) -> Path:
        if doc is None:
            doc = {
                "timestamp": timestamp,
                "data": {"symbol": symbol, "current_price": spot, "options": list(records)},
                "symbol": symbol,
            }
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return make
