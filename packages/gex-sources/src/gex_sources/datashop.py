"""Cboe DataShop "Option EOD Summary" files (format D), with and without Calcs.

One row per contract, any number of underlyings and quote dates per file::

    underlying_symbol,quote_date,root,expiration,strike,option_type,open,high,low,close,trade_volume,
    bid_size_1545,bid_1545,ask_size_1545,ask_1545,underlying_bid_1545,underlying_ask_1545,
    implied_underlying_price_1545,active_underlying_price_1545,implied_volatility_1545,delta_1545,gamma_1545,
    theta_1545,vega_1545,rho_1545,bid_size_eod,bid_eod,ask_size_eod,ask_eod,underlying_bid_eod,
    underlying_ask_eod,vwap,open_interest,delivery_code

Columns are found by header name, never by position. The "with Calcs" variant
(``UnderlyingOptionsEODCalcs_*``) has the ``*_1545`` IV and greek columns; the plain variant
(``UnderlyingOptionsEODQuotes_*``) has none, and then ``vendor_iv`` and the greeks are null.

Mapping to the canonical chain (one snapshot per ``(underlying_symbol, quote_date)``):

- ``underlying``: ``underlying_symbol`` normalised (``^SPX`` -> ``SPX``). A caret marks an index: index
  rows are screened like the Cboe readers (a root of another underlying, or of unknown settlement, is
  rejected); equity and ETF roots always settle PM (their roots may differ from the ticker after
  corporate actions);
- ``session`` = ``quote_date`` (must be an NYSE session); the file is end of day, so ``snapshot_ts`` =
  ``valuation_ts`` = that session's close and ``oi_date`` = the previous session (DataShop prints OCC's
  start-of-day open interest);
- ``bid``/``ask`` = ``bid_eod``/``ask_eod``: the closing NBBO, consistent with the close the snapshot is
  valued at. The 15:45 quotes are not used;
- ``vendor_iv``, ``vendor_delta``, ``vendor_gamma``, ``vendor_vega``, ``vendor_theta`` = the ``*_1545``
  calculations (Cboe computes them at 15:45 New York, 12:45 on half days, because the 15:45 book is more
  liquid than the close). They are therefore 15 minutes older than bid/ask; zeros are kept as published;
- ``last`` = ``close`` (the day's last trade), null when the contract did not trade (DataShop writes 0);
- ``volume`` = ``trade_volume``; ``open_interest`` as published; ``multiplier`` 100;
- ``symbol``: built as an unpadded OSI symbol from root, expiration, type and strike (DataShop has none);
- spot (``underlying_price``): the mid of ``underlying_bid_eod``/``underlying_ask_eod`` when both are
  positive, else ``active_underlying_price_1545``, else the 15:45 underlying mid. DataShop leaves index
  quotes at 0 for buyers without a Cboe index licence, hence the fallbacks. The snapshot's spot is the most
  common such value over its rows (a warning lists disagreement); NaN with a warning when no row has one.

Large files stream (see :mod:`gex_sources.csvtable`): nothing is held in memory but one bucket of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike

import polars as pl
from gex.chain import ChainSnapshot, conform

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check
from gex_sources.errors import SourceError
from gex_sources.limits import identifier_reason, invalid_identifier
from gex_sources.snapshots import (
    DEFAULT_MULTIPLIER,
    ChainBatch,
    add_eod_times,
    add_settlement,
    eod_batch,
    osi_symbol,
    root_screen,
    spot_table,
    ticker_expr,
    with_orphan_batches,
)

FORMAT_DATASHOP = "cboe_datashop"

#: Columns that identify the format (the sniffer needs all of them).
SIGNATURE = ("underlying_symbol", "quote_date", "root", "expiration", "strike", "option_type")
#: Canonical use -> DataShop header name.
COLUMNS: dict[str, tuple[str, ...]] = {
    "underlying_symbol": ("underlying_symbol",),
    "quote_date": ("quote_date",),
    "root": ("root",),
    "expiration": ("expiration",),
    "strike": ("strike",),
    "option_type": ("option_type",),
    "bid": ("bid_eod",),
    "ask": ("ask_eod",),
    "last": ("close",),
    "volume": ("trade_volume",),
    "open_interest": ("open_interest",),
    "vendor_iv": ("implied_volatility_1545",),
    "vendor_delta": ("delta_1545",),
    "vendor_gamma": ("gamma_1545",),
    "vendor_vega": ("vega_1545",),
    "vendor_theta": ("theta_1545",),
    "und_bid": ("underlying_bid_eod",),
    "und_ask": ("underlying_ask_eod",),
    "und_active": ("active_underlying_price_1545",),
    "und_bid_1545": ("underlying_bid_1545",),
    "und_ask_1545": ("underlying_ask_1545",),
}
REQUIRED = (*SIGNATURE, "bid", "ask", "open_interest")
CALCS = ("vendor_iv", "vendor_delta", "vendor_gamma", "vendor_vega", "vendor_theta")
_FLOATS = ("bid", "ask", "last", *CALCS, "und_bid", "und_ask", "und_active", "und_bid_1545", "und_ask_1545")
_COUNTS = ("volume", "open_interest")


def sniff_datashop(names: list[str]) -> bool:
    """Whether a header (normalised names) is a DataShop Option EOD Summary header."""
    return all(c in names for c in SIGNATURE)


def _mid(bid: str, ask: str) -> pl.Expr:
    b, a = pl.col(f"{bid}_v"), pl.col(f"{ask}_v")
    return pl.when((b > 0) & (a > 0)).then((b + a) / 2)


def _build(layout: ct.CsvLayout, columns: dict[str, str | None]) -> ct.Build:
    """``fields -> (typed rows, checks)``: see :class:`gex_sources.csvtable.TablePlan`."""
    sessions = ct.all_sessions()
    quote_forms = ct.date_formats(layout, columns["quote_date"])
    expiry_forms = ct.date_formats(layout, columns["expiration"])

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s, t = pl.col, ct.text
        lf = fields.with_columns(
            underlying=ticker_expr(t("underlying_symbol")),
            is_index=t("underlying_symbol").str.strip_chars().str.starts_with("^"),
            session=ct.date("quote_date", quote_forms),
            expiration=ct.date("expiration", expiry_forms),
            strike=ct.number("strike"),
            right=t("option_type").str.strip_chars().str.to_uppercase(),
            root=t("root").str.strip_chars().str.to_uppercase(),
            **{f"{c}_v": ct.number(c) for c in (*_FLOATS, *_COUNTS)},
        )
        unusable_root, root_reason = root_screen(s("root"), s("underlying"), s("is_index"))
        checks = [
            ct.field_count_check(len(layout.names)),
            Check(s("underlying").fill_null("") == "", pl.lit("missing underlying_symbol")),
            # the underlying names export folders: validated here, once, for every row (gex_sources.limits)
            Check(invalid_identifier(s("underlying")), identifier_reason("underlying_symbol", s("underlying"))),
            ct.required_check("quote_date", s("session"), "quote_date"),
            Check(
                ~s("session").is_in(sessions.implode()),
                pl.format("quote_date {} is not an NYSE session", s("session")),
            ),
            Check(s("root").fill_null("") == "", pl.lit("missing root")),
            Check(invalid_identifier(s("root")), identifier_reason("root", s("root"))),
            ct.required_check("expiration", s("expiration"), "expiration"),
            Check(
                ~((s("strike") > 0) & s("strike").is_finite()).fill_null(False),
                pl.format("non-numeric strike: '{}'", ct.cell("strike")),
            ),
            Check(
                ~s("right").is_in(["C", "P"]).fill_null(False),
                pl.format("unknown option_type: '{}'", ct.cell("option_type")),
            ),
            Check(unusable_root, root_reason),
            *(ct.number_check(c, s(f"{c}_v"), columns[c]) for c in _FLOATS if columns.get(c)),
            *(ct.number_check(c, s(f"{c}_v"), columns[c], integer=True) for c in _COUNTS if columns.get(c)),
        ]
        typed = lf.with_columns(
            bid=s("bid_v"),
            ask=s("ask_v"),
            # DataShop writes 0 when the contract did not trade: that is no price, not a price of 0
            last=pl.when((s("last_v") == 0) & (s("volume_v").fill_null(0) == 0)).then(None).otherwise(s("last_v")),
            volume=s("volume_v").cast(pl.Int64, strict=False),
            open_interest=s("open_interest_v").cast(pl.Int64, strict=False),
            **{c: s(f"{c}_v") for c in CALCS},
            und_price=pl.coalesce(
                _mid("und_bid", "und_ask"),
                pl.when(s("und_active_v") > 0).then(s("und_active_v")),
                _mid("und_bid_1545", "und_ask_1545"),
            ),
        )
        return typed, checks

    return build


_KEEP = (
    "root", "expiration", "strike", "right", "bid", "ask", "last", "volume", "open_interest", *CALCS, "und_price",
)  # fmt: skip
KEYS = ("underlying", "session")


def _batch(path: str | PathLike[str], good: pl.DataFrame, rejects: pl.DataFrame, notes: list[str]) -> ChainBatch:
    """The snapshots of one bucket of rows (complete key groups), finished with vectorised steps."""
    spots = spot_table(good, KEYS)
    frame = add_eod_times(add_settlement(good)).join(spots, on=list(KEYS), how="left", maintain_order="left")
    frame = frame.with_columns(
        symbol=osi_symbol(pl.col("root"), pl.col("expiration"), pl.col("right"), pl.col("strike")),
        underlying_price=pl.col("spot"),
        multiplier=pl.lit(DEFAULT_MULTIPLIER),
    )
    return eod_batch(
        conform(frame), rejects, spots, keys=KEYS, path=path, source_format=FORMAT_DATASHOP, notes=notes
    )


def iter_datashop_batches(
    path: str | PathLike[str], *, spill_bytes: int | None = None, tmp_dir: str | PathLike[str] | None = None
) -> Iterator[ChainBatch]:
    """The snapshots of a DataShop Option EOD Summary file, a bucket of whole snapshots at a time (one
    batch for files up to :data:`gex_sources.csvtable.SPILL_BYTES`, about ``BUCKET_BYTES`` of CSV each above).

    Same parameters, snapshots, rejects and errors as :func:`iter_datashop`, which splits these batches.
    """
    layout = ct.read_layout(path)
    if not sniff_datashop(list(layout.names)):
        missing = [c for c in SIGNATURE if c not in layout.names]
        raise SourceError(
            path, f"not a DataShop Option EOD Summary: missing columns {', '.join(missing)}", line=layout.header_line
        )
    columns = ct.require(layout, COLUMNS, REQUIRED)
    notes = []
    if columns["vendor_iv"] is None:
        notes.append("DataShop file without Calcs: no implied volatility or greeks (vendor columns are null)")
    plan = ct.TablePlan(layout, columns, _build(layout, columns), _KEEP, KEYS)
    buckets = ct.run(plan, spill_bytes=spill_bytes, tmp_dir=tmp_dir)
    try:
        yield from with_orphan_batches(path, (_batch(path, good, bad, notes) for good, bad in buckets))
    finally:
        buckets.close()  # the temporary bucket files go now, not when the generator is collected


def iter_datashop(
    path: str | PathLike[str], *, spill_bytes: int | None = None, tmp_dir: str | PathLike[str] | None = None
) -> Iterator[ChainSnapshot]:
    """Snapshots of a DataShop Option EOD Summary file, one per (underlying, quote_date).

    Parameters
    ----------
    path:
        The file (any size: files above ``spill_bytes`` stream through temporary Parquet files).
    spill_bytes, tmp_dir:
        See :func:`gex_sources.csvtable.run`.

    Raises
    ------
    SourceError
        Missing required columns (named), unreadable file, or no usable row at all.
    """
    batches = iter_datashop_batches(path, spill_bytes=spill_bytes, tmp_dir=tmp_dir)
    try:
        for batch in batches:
            yield from batch.split()
    finally:
        batches.close()
