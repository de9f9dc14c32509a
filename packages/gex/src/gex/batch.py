"""The contract pass of many chains at once (pure: snapshots in, per-chain frames out).

:func:`gex.analysis.value_contracts` values one chain: tenors, screen, carry, volatilities, greeks and dealer
exposures, each step a few polars or numpy calls whose fixed cost (~2 ms a chain in all) is most of the work for
a single stock's few hundred contracts. A whole-market session is thousands of such chains, so
:func:`value_chains` stacks the chains of one preset into one frame, runs each step once over all their rows,
and cuts the result back into each chain's :class:`~gex.analysis.Valued` (zero-copy slices).

Equal, bit for bit, to each chain valued alone (tested on the generated universe and on the real chains):

- every step is element-wise (each row's numbers depend on its own columns and its chain's spot and rate) except
  the parity forwards, which stay per chain (:func:`gex.forwards.parity_forwards` on the chain's slice);
- the kernels run their serial loops on pieces below the multi-threaded threshold
  (:func:`gex.analysis.in_serial_pieces`), as each small chain's own call does; only chains below
  :data:`MAX_CONTRACTS` are stacked, so a chain's own calls are serial too;
- a chain the stacked path cannot reproduce exactly (a parity key the arrays cannot match, a schema that does
  not stack) or that raises gets ``None``: its caller values it alone, and it fails alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import polars as pl

from gex.analysis import (
    Valued,
    checked_spot,
    flat_carry,
    parity_yields,
    prepared_contracts,
    price_contracts,
    resolve_vols,
    screen_contracts,
    yields_by_key,
)
from gex.chain import ChainSnapshot
from gex.columns import date_days, with_series
from gex.conventions import Conventions
from gex.forwards import parity_forwards, parity_forwards_stacked
from gex.gex import contract_exposures, group_tables_stacked
from gex.iv import IV_PARALLEL_MIN_SIZE

#: Chains with fewer contracts than this are valued stacked (below the solver's multi-threaded threshold, so
#: that each chain's own calls run the serial loops too); larger ones (index and ETF chains), whose fixed
#: cost is small beside their work, are left to :func:`gex.analysis.value_contracts`.
MAX_CONTRACTS = IV_PARALLEL_MIN_SIZE


def value_chains(snapshots: Sequence[ChainSnapshot], conventions: Sequence[Conventions]) -> list[Valued | None]:
    """The contract pass of each snapshot under its conventions (``conventions[i]``: the preset with the chain's
    rate, as :func:`gex.analysis.analyze` applies it), in order: its :class:`~gex.analysis.Valued`, equal to
    :func:`gex.analysis.value_contracts`'s, or ``None`` for a chain to value alone (see the module docstring).
    Chains of equal conventions but for the rate are stacked together."""
    if len(snapshots) != len(conventions):
        raise ValueError(f"{len(snapshots)} snapshots but {len(conventions)} conventions")
    out: list[Valued | None] = [None] * len(snapshots)
    groups: dict[Conventions, list[tuple[int, float, pl.DataFrame]]] = {}
    for i, (snapshot, conv) in enumerate(zip(snapshots, conventions)):
        try:
            spot = checked_spot(snapshot)
            frame = prepared_contracts(snapshot, conv)
        except (ValueError, KeyError):  # the chain's own analysis raises it again, for that chain alone
            continue
        if 0 < frame.height < MAX_CONTRACTS:
            groups.setdefault(dataclasses.replace(conv, rate=0.0), []).append((i, spot, frame))
    for members in groups.values():
        if len(members) < 2:
            continue  # nothing to share: valued alone
        try:
            valued = _value_stacked([conventions[i] for i, _, _ in members], [s for _, s, _ in members],
                                    [f for _, _, f in members])
        except (ValueError, KeyError, pl.exceptions.PolarsError):
            continue  # e.g. frames that do not stack: each chain alone
        for (i, _, _), v in zip(members, valued):
            out[i] = v
    return out


def _value_stacked(convs: list[Conventions], spots: list[float], frames: list[pl.DataFrame]) -> list[Valued | None]:
    """:func:`gex.analysis.value_contracts`' steps over the stacked ``frames`` (prepared contracts of chains
    whose conventions differ only in the rate), cut back per chain."""
    conv = convs[0]
    heights = np.array([f.height for f in frames], dtype=np.int64)
    starts = np.r_[0, np.cumsum(heights)[:-1]]
    stacked = screen_contracts(pl.concat(frames, how="vertical", rechunk=True), conv)
    row_spot = np.repeat(np.array(spots, dtype=np.float64), heights)
    # attach_carry per chain would add the chain's flat rate, then its parity carry: the same columns here
    stacked = with_series(stacked, pl.Series("rate", np.repeat(np.array([c.rate for c in convs], dtype=np.float64),
                                                               heights)))
    keep = np.ones(len(frames), dtype=bool)
    if conv.forward_from_parity:
        forwards = _forwards(stacked, heights, spots)
        found = _stacked_yields(stacked, heights, forwards, conv.dividend_yield)
        if found is None:  # keys the stacked lookup cannot match as the per-chain one does: chain by chain
            carry = []
            for k, (start, n) in enumerate(zip(starts.tolist(), heights.tolist())):
                yields = parity_yields(stacked.slice(start, n), forwards[k], conv.dividend_yield)
                if yields is None:  # the reference's join decides this chain: valued alone
                    keep[k] = False
                    yields = pl.Series("dividend_yield", np.full(n, np.nan))
                carry.append(yields)
            found = (pl.concat(carry, rechunk=True).to_numpy(), keep)
        values, keep = found
        stacked = with_series(stacked, pl.Series("dividend_yield", values))
    else:
        stacked, empty = flat_carry(stacked, conv)
        forwards = [empty] * len(frames)
    stacked = resolve_vols(stacked, row_spot, conv, serial=True)
    valued_rows = stacked.get_column("exclude_reason").is_null()
    mask = valued_rows.to_numpy()
    exposures = contract_exposures(price_contracts(stacked.filter(valued_rows), row_spot[mask], serial=True),
                                   row_spot[mask], conv.dealer_positioning).rechunk()
    excluded = stacked.filter(~valued_rows).rechunk()
    stacked = stacked.rechunk()
    used = np.add.reduceat(mask.astype(np.int64), starts)
    used_starts, excluded_starts = np.r_[0, np.cumsum(used)[:-1]], starts - np.r_[0, np.cumsum(used)[:-1]]
    # the group tables too, unless the preset sums the vendor's gamma at spot (analyze groups those rows itself)
    tables = group_tables_stacked(exposures, used) if conv.spot_gamma != "vendor" else None
    out: list[Valued | None] = []
    for k in range(len(frames)):
        if not keep[k]:
            out.append(None)
            continue
        n, u = int(heights[k]), int(used[k])
        out.append(Valued(stacked.slice(int(starts[k]), n), forwards[k],
                          exposures.slice(int(used_starts[k]), u), excluded.slice(int(excluded_starts[k]), n - u),
                          tables[k] if tables is not None else None))
    return out


def _forwards(stacked: pl.DataFrame, heights: np.ndarray, spots: list[float]) -> list[pl.DataFrame]:
    """Each chain's parity forwards (:func:`gex.forwards.parity_forwards` of its rows without an exclusion
    reason): stacked (:func:`gex.forwards.parity_forwards_stacked`), and alone for the chains it leaves."""
    valuable = stacked.get_column("exclude_reason").is_null()
    sizes = np.add.reduceat(valuable.to_numpy().astype(np.int64), np.r_[0, np.cumsum(heights)[:-1]])
    rows = stacked.filter(valuable)
    out = parity_forwards_stacked(rows, sizes, np.array(spots, dtype=np.float64))
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    return [fwd if fwd is not None else parity_forwards(rows.slice(int(offsets[k]), int(sizes[k])), spots[k])
            for k, fwd in enumerate(out)]


def _stacked_yields(stacked: pl.DataFrame, heights: np.ndarray, forwards: list[pl.DataFrame],
                    default: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``dividend_yield`` column :func:`gex.analysis.parity_yields` gives each chain, for all chains at once:
    (values shape ``(stacked.height,)``, per chain whether it holds). A chain whose forwards repeat a key is
    not kept (its own join would repeat contracts: valued alone). ``None`` when a key column has a null or
    the settlement is not one Enum on both sides (the per-chain lookup decides those)."""
    k = heights.size
    if not forwards or any(f.columns != forwards[0].columns for f in forwards):
        return None
    fwd = pl.concat(forwards, how="vertical", rechunk=True)
    exp, settle, f_exp, f_settle = stacked["expiration"], stacked["settlement"], fwd["expiration"], fwd["settlement"]
    if not (isinstance(settle.dtype, pl.Enum) and settle.dtype == f_settle.dtype and exp.dtype == f_exp.dtype == pl.Date):
        return None
    days, f_days = date_days(exp), date_days(f_exp)
    if days is None or f_days is None or settle.null_count() or f_settle.null_count():
        return None
    width = len(settle.dtype.categories) + 1
    low = int(min(days.min(), f_days.min() if f_days.size else days.min()))
    span = int(max(days.max(), f_days.max() if f_days.size else days.max())) - low + 1
    chain = np.repeat(np.arange(k, dtype=np.int64), heights)
    f_chain = np.repeat(np.arange(k, dtype=np.int64), [f.height for f in forwards])
    key = (chain * span + (days - low)) * width + settle.to_physical().to_numpy().astype(np.int64)
    f_key = (f_chain * span + (f_days - low)) * width + f_settle.to_physical().to_numpy().astype(np.int64)
    found, order, repeated = yields_by_key(key, f_key, fwd["parity_dividend_yield"], default)
    keep = np.ones(k, dtype=bool)
    keep[np.unique(f_chain[order][1:][repeated])] = False  # keys sort within their chain: a repeat is one chain's
    return found, keep
