"""Many snapshots' analyses as one payload: what an analysis worker (a process of ``gex compute``, a Dask task of
the flows) sends back to the single writer.

Why: a snapshot's :class:`~gex_warehouse.compute.MartFrames` is ~30 polars frames (eleven mart tables, the
analysis' own frames). Pickled one by one, a typical single-stock chain's result cost ~2.6 ms to pickle in the
worker and ~2.8 ms to unpickle in the writer, the one process every result goes through (measured on 200 chains
of the 1,000-underlying universe), while its analysis is ~25 ms. :func:`analyse_packed` returns a chunk of
chains as one :class:`PackedMarts`: one frame per mart table for the whole chunk, each snapshot's analysis
without its frames (:func:`slim`); :func:`unpack` gives the writer each snapshot's ``MartFrames`` again, its
tables zero-copy slices of the chunk's. Same rows, same order: the writer's transaction is unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from gex.analysis import Valued
from gex.batch import value_chains
from gex.conventions import Conventions

from gex_warehouse.compute import MART_TABLES, ChainInput, MartFrames, PackedOrigin, compute_chain

#: The frames of :class:`gex.analysis.Analysis` that :func:`slim` empties: nothing after the analysis reads them
#: (the marts are shaped from them; the writer and the run log read the analysis' scalars and warnings).
ANALYSIS_FRAMES = ("contracts", "excluded", "by_strike", "by_strike_root", "by_expiry", "by_dte", "profile", "forwards")

#: A chunk's result per snapshot: its marts, or the ``ValueError``/``KeyError`` of a chain whose data cannot be
#: analysed (that job fails alone, as it does analysed on its own).
Outcome = MartFrames | ValueError | KeyError


def slim(frames: MartFrames, empties: dict[tuple[str, tuple, tuple], pl.DataFrame] | None = None) -> MartFrames:
    """``frames`` with the analysis' frames (:data:`ANALYSIS_FRAMES`) emptied, their schemas kept.

    The per-contract frame alone is ~90% of a chain's pickled result (2.5 MB of 2.7 MB for a 6,000-contract
    chain). ``empties``: a cache shared by the snapshots of one payload, so that equal empty frames are one
    object, which pickle then writes once (a chunk's analyses share their schemas)."""
    shared = {} if empties is None else empties
    analysis = frames.analysis
    cleared = {name: _empty_like(getattr(analysis, name), name, shared) for name in ANALYSIS_FRAMES}
    return dataclasses.replace(frames, analysis=dataclasses.replace(analysis, **cleared))


@dataclass(frozen=True)
class PackedMarts:
    """A chunk of snapshots' results: per mart table one frame with the rows of every analysed snapshot, in
    chunk order (``tables``); per snapshot, the rows it has in each table (``heights``, :data:`MART_TABLES`
    order; ``None`` for a failed one) and its :func:`slim` result with empty tables, or its error (``heads``)."""

    tables: dict[str, pl.DataFrame]
    heights: tuple[tuple[int, ...] | None, ...]
    heads: tuple[Outcome, ...]


def pack(outcomes: Sequence[Outcome]) -> PackedMarts:
    """Pack :func:`slim` results (and errors) of one chunk, see :class:`PackedMarts`."""
    empties: dict[tuple[str, tuple, tuple], pl.DataFrame] = {}
    parts: dict[str, list[pl.DataFrame]] = {t: [] for t in MART_TABLES}
    heights: list[tuple[int, ...] | None] = []
    for got in outcomes:
        if isinstance(got, Exception):
            heights.append(None)
            continue
        tables = got.tables()
        heights.append(tuple(tables[t].height for t in MART_TABLES))
        for t in MART_TABLES:
            parts[t].append(tables[t])
    # the writer concatenates a batch's frames "vertical_relaxed" (compute.write_results); the same here. A
    # table has a frame (perhaps of no rows) per analysed snapshot: absent only when none was analysed.
    packed = {t: pl.concat(frames, how="vertical_relaxed") for t, frames in parts.items() if frames}
    # the tables travel in `packed`: each head holds the chunk's one empty frame per table (unpack puts the
    # snapshot's rows, a slice of the packed table, in its place), not a frame of its own (~0.1 ms a chain)
    cleared = {t.split(".", 1)[1]: frame.clear() for t, frame in packed.items()}
    heads = tuple(got if isinstance(got, Exception) else dataclasses.replace(slim(got, empties), **cleared)
                  for got in outcomes)
    return PackedMarts(packed, tuple(heights), heads)


def _empty_like(frame: pl.DataFrame, name: str, empties: dict[tuple[str, tuple, tuple], pl.DataFrame]) -> pl.DataFrame:
    """``frame`` without rows, one object per (``name``, schema) in ``empties``."""
    key = (name, tuple(frame.columns), tuple(frame.dtypes))  # not frame.schema: building it costs ~3x as much
    empty = empties.get(key)
    if empty is None:
        empty = empties[key] = frame.clear()
    return empty


def unpack(packed: PackedMarts) -> list[Outcome]:
    """Each snapshot's result again: its ``MartFrames`` (tables sliced from the chunk's, zero-copy) or error."""
    offsets = dict.fromkeys(MART_TABLES, 0)
    out: list[Outcome] = []
    for head, heights in zip(packed.heads, packed.heights):
        if isinstance(head, Exception) or heights is None:
            out.append(head)
            continue
        sliced, starts = {}, {}
        for t, n in zip(MART_TABLES, heights):
            sliced[t.split(".", 1)[1]] = packed.tables[t].slice(offsets[t], n)
            starts[t] = offsets[t]
            offsets[t] += n
        out.append(dataclasses.replace(head, **sliced, origin=PackedOrigin(packed.tables, starts)))
    return out


def analyse_packed(items: Sequence[tuple[ChainInput, Conventions]], *, stacked: bool = True) -> PackedMarts:
    """Pure: each chain's marts (:func:`~gex_warehouse.compute.compute_chain`), in ``items`` order, as one
    :class:`PackedMarts` (what a worker sends back); a chain whose data cannot be analysed gives its
    ``ValueError``/``KeyError`` in its place (:func:`pack` slims the others).

    ``stacked``: the contract pass of the chunk's small chains runs once over all their rows
    (:func:`gex.batch.value_chains`, ~2 ms of fixed cost a chain saved), the rest of each analysis per chain;
    ``False`` values every chain alone (the reference the tests hold it to: the same marts, bit for bit)."""
    valued: list[Valued | None] = [None] * len(items)
    if stacked and len(items) > 1:
        valued = value_chains([chain.snapshot for chain, _ in items],
                              [conventions.with_rate(chain.rate) for chain, conventions in items])
    out: list[Outcome] = []
    for (chain, conventions), v in zip(items, valued):
        try:
            out.append(compute_chain(chain, conventions, valued=v))
        except (ValueError, KeyError) as exc:
            out.append(exc)
    return pack(out)
