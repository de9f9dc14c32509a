"""The canonical option-chain snapshot: one polars schema every reader produces and every model reads.

A snapshot is one underlying at one instant. The frame holds **one row per contract** (a Cboe
quote-table line, which carries a call and a put, becomes two rows). Snapshot-wide facts (spot, as-of
session, timestamps, where it came from) live in :class:`ChainSnapshot` beside the frame and are also
broadcast into the frame so that a frame stays self-describing once it is concatenated with others.

Units
-----
- prices (``bid``, ``ask``, ``last``, ``strike``, ``underlying_price``): currency units per share;
- ``open_interest``: contracts; ``multiplier``: shares per contract (100 for listed equity/index options);
- ``vendor_iv``: annualised decimal volatility (0.20 = 20%);
- ``vendor_delta``: per 1 share of underlying (-1..1); ``vendor_gamma``: per 1 point of the underlying;
  ``vendor_vega``/``vendor_theta``: as the vendor publishes them (Cboe: per vol point / per day);
- timestamps: timezone-aware UTC (``Datetime("us", "UTC")``); dates: exchange (New York) calendar dates.

The full description, with the as-of rules, is in ``docs/chain-schema.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

RIGHTS = pl.Enum(["C", "P"])
SETTLEMENTS = pl.Enum(["AM", "PM"])
UTC_TS = pl.Datetime("us", "UTC")

#: Column name -> polars dtype of the canonical chain frame, in canonical column order.
CHAIN_SCHEMA: dict[str, pl.DataType] = {
    "underlying": pl.String(),  # normalised ticker, no caret: "SPX", "SPY", "VIX"
    "session": pl.Date(),  # as-of trading session the snapshot describes
    "snapshot_ts": UTC_TS,  # when the vendor took the snapshot (header timestamp), UTC
    "valuation_ts": UTC_TS,  # instant the model values at: snapshot if intraday, else session close
    "symbol": pl.String(),  # OSI-style symbol as the vendor wrote it, e.g. "SPXW250107C05930000"
    "root": pl.String(),  # option root: "SPX" (AM-settled monthly) vs "SPXW" (PM-settled)
    "expiration": pl.Date(),  # expiry (last trading) date
    "settlement": SETTLEMENTS,  # AM: settles at the open of expiration; PM: at the close
    "settlement_ts": UTC_TS,  # settlement instant, UTC
    "strike": pl.Float64(),  # currency per share
    "right": RIGHTS,  # "C" call, "P" put
    "bid": pl.Float64(),
    "ask": pl.Float64(),
    "last": pl.Float64(),
    "volume": pl.Int64(),  # contracts traded in the session
    "open_interest": pl.Int64(),  # contracts outstanding (start of session for Cboe snapshots)
    "oi_date": pl.Date(),  # session whose close the open interest reflects
    "vendor_iv": pl.Float64(),  # decimal, null when the vendor gave none
    "vendor_delta": pl.Float64(),
    "vendor_gamma": pl.Float64(),  # per 1 point of the underlying
    "vendor_vega": pl.Float64(),
    "vendor_theta": pl.Float64(),
    "underlying_price": pl.Float64(),  # spot used by the snapshot, currency per share
    "multiplier": pl.Float64(),  # shares per contract
    "source_line": pl.Int64(),  # 1-based line (or record) number in the source file
}

CHAIN_COLUMNS: tuple[str, ...] = tuple(CHAIN_SCHEMA)

#: Rows a reader rejected: where they were and why.
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source_line": pl.Int64(),  # 1-based line (or record) number in the source file
    "raw": pl.String(),  # the raw text of the line (or JSON record)
    "reason": pl.String(),  # short machine-friendly reason, e.g. "non-numeric strike"
}


class ChainSchemaError(ValueError):
    """A frame does not conform to :data:`CHAIN_SCHEMA`."""


@dataclass(frozen=True)
class ChainSnapshot:
    """One underlying's option chain at one instant, plus what is known about where it came from.

    Attributes
    ----------
    frame:
        Canonical chain frame, shape ``(n_contracts, len(CHAIN_SCHEMA))``.
    underlying:
        Normalised ticker ("SPX").
    spot:
        Underlying price the snapshot reports, currency per share.
    session:
        As-of trading session: last session on or before ``snapshot_ts`` (exchange calendar).
    snapshot_ts:
        Vendor timestamp, UTC; ``None`` when the source has none.
    valuation_ts:
        Snapshot instant if taken during the session, else the session close (UTC).
    header_date:
        The calendar date written in the vendor header (New York), which popular scripts use as
        "today"; it differs from ``session`` for weekend and evening snapshots.
    source:
        Path or name of the source, for messages.
    source_format:
        Reader that produced it ("cboe_csv", "cboe_dat", "cboe_json", ...).
    underlying_name:
        Long name in the vendor header ("Standard & Poors 500 Index").
    warnings:
        Human-readable notes the reader raised (never errors: those raise).
    rejects:
        Source rows the reader could not turn into contracts, schema :data:`REJECT_SCHEMA`
        (line number, raw text, reason); never silently dropped.
    """

    frame: pl.DataFrame
    underlying: str
    spot: float
    session: dt.date
    snapshot_ts: dt.datetime | None
    valuation_ts: dt.datetime
    header_date: dt.date | None = None
    source: str = ""
    source_format: str = ""
    underlying_name: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))


def empty_chain() -> pl.DataFrame:
    """An empty frame with the canonical schema."""
    return pl.DataFrame(schema=CHAIN_SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the canonical column order and dtypes.

    Missing nullable columns are an error rather than silently added: a reader must state every column
    (as a typed null if it has no data), so that a forgotten field is caught here and not read as zero.

    Raises
    ------
    ChainSchemaError
        When a column is missing or cannot be cast.
    """
    missing = [c for c in CHAIN_COLUMNS if c not in frame.columns]
    if missing:
        raise ChainSchemaError(f"chain frame is missing columns: {', '.join(missing)}")
    try:
        return frame.select(pl.col(c).cast(t, strict=True) for c, t in CHAIN_SCHEMA.items())
    except pl.exceptions.PolarsError as exc:  # pragma: no cover - message passthrough
        raise ChainSchemaError(f"chain frame has a column of the wrong type: {exc}") from exc
