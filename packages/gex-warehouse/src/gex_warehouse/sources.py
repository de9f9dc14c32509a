"""The warehouse's view of ``gex_sources``: which format a file is in, what kind of data it holds, how to
read it, and the raw text of a record for the quarantine.

Chains come from :func:`gex_sources.iter_chain_batches` (:class:`gex_sources.ChainBatch` es, streamed: many
snapshots per batch for whole-market files, one otherwise) and reference data from
:func:`gex_sources.read_reference`; :data:`gex_sources.FORMAT_KINDS` tells them apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import gex_sources
import polars as pl
from gex.reference import ReferenceData
from gex_sources import ChainBatch, SourceError, closes_from_external
from gex_sources.errors import AllRowsRejected

#: Formats whose reader rejects a whole physical line standing for two contracts (a call and a put).
TWO_CONTRACTS_PER_LINE = frozenset({"cboe_csv", "cboe_dat"})
#: Formats whose ``source_line`` is a record number, not a physical line (JSON documents).
RECORD_NUMBERED = frozenset({"cboe_json", "gflows_derived"})
_PARQUET_MAGIC = b"PAR1"


def known_formats() -> list[str]:
    """Registered format names, chain and reference."""
    return list(gex_sources.FORMAT_KINDS)


def route(path: Path, format: str | None) -> tuple[str, str]:
    """``(format, kind)`` of ``path``: ``format`` if given, else detected from the content.

    Raises
    ------
    SourceError
        When the format cannot be detected (or the file is missing, empty, binary).
    ValueError
        For an unknown ``format`` name.
    """
    name = format if format is not None else gex_sources.detect_format(path)
    kind = gex_sources.FORMAT_KINDS.get(name)
    if kind is None:
        raise ValueError(f"unknown source format {name!r}; known: {', '.join(known_formats())}")
    return name, kind


def chain_batches(path: Path, format: str) -> Iterator[ChainBatch]:
    """The chain snapshots of ``path`` in batches (:func:`gex_sources.iter_chain_batches`): a whole-market
    DataShop file comes a bucket of whole snapshots at a time, other files one snapshot per batch."""
    return gex_sources.iter_chain_batches(path, format=format)


def reference(path: Path, format: str) -> tuple[ReferenceData, list[ReferenceData]]:
    """The reference data of ``path``, and the data derived from it for other tables: the closes an
    external-GEX series prints beside its numbers (SqueezeMetrics' ``price``)."""
    data = gex_sources.read_reference(path, format=format)
    derived = [closes_from_external(data)] if data.kind == "external_gex" else []
    return data, [d for d in derived if d.frame.height]


def records_per_reject(format: str) -> int:
    """Contract records one reader reject stands for (2 for a Cboe quote-table line, else 1)."""
    return 2 if format in TWO_CONTRACTS_PER_LINE else 1


def line_based(path: Path, format: str) -> bool:
    """Whether ``source_line`` is a physical line of ``path`` (text tables), not a record or row number."""
    if format in RECORD_NUMBERED:
        return False
    with path.open("rb") as fh:
        return fh.read(4) != _PARQUET_MAGIC


def record_text(path: Path, format: str, lines: Iterable[int], frame: pl.DataFrame) -> dict[int, str]:
    """Raw text of records of a non-line-based file, by 1-based ``source_line``: the Cboe JSON record
    ``data.options[line - 1]`` re-serialised compactly, else the row of ``frame`` as JSON."""
    wanted = sorted(set(lines))
    if not wanted:
        return {}
    if format == "cboe_json":
        try:
            options = json.loads(path.read_bytes().decode("utf-8-sig"))["data"]["options"]
            return {n: json.dumps(options[n - 1], separators=(",", ":")) for n in wanted if 0 < n <= len(options)}
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # fall back to the rows as read
    rows = frame.filter(pl.col("source_line").is_in(wanted)).unique("source_line", keep="first")
    return {row["source_line"]: json.dumps(row, default=str, separators=(",", ":")) for row in rows.iter_rows(named=True)}


def line_text(path: Path, lines: Iterable[int]) -> dict[int, str]:
    """Physical lines of a text file by 1-based number, without line ends (one pass, stopping at the last
    wanted line; a UTF-8 byte-order mark on line 1 is dropped; UTF-16 files are decoded)."""
    wanted = set(lines)
    if not wanted:
        return {}
    last = max(wanted)
    out: dict[int, str] = {}
    with path.open("rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head in (b"\xff\xfe", b"\xfe\xff"):  # spreadsheet "Unicode text": small files, decode whole
            text = fh.read().decode("utf-16", errors="replace").splitlines()
            return {n: text[n - 1].lstrip("\ufeff") for n in wanted if 0 < n <= len(text)}
        for number, raw in enumerate(fh, start=1):
            if number in wanted:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                out[number] = text.removeprefix("\ufeff") if number == 1 else text
            if number >= last:
                break
    return out


__all__ = [
    "AllRowsRejected",
    "SourceError",
    "chain_batches",
    "known_formats",
    "line_based",
    "line_text",
    "record_text",
    "records_per_reject",
    "reference",
    "route",
]
