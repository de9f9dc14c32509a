"""Underlying daily bars: ``date,underlying,close[,open,high,low,volume]``.

::

    date,underlying,open,high,low,close,volume
    2024-01-05,^SPX,4690.57,4721.49,4682.11,4697.24,
    2024-01-05,AAPL,181.99,182.76,180.17,181.18,62379700

- ``date`` (or ``session``) must be an NYSE session (a close on a holiday is rejected);
- ``underlying`` (or ``ticker``/``symbol``) is normalised (``^SPX`` -> ``SPX``);
- prices in currency per share; ``open``/``high``/``low`` optional (null when absent or empty), ``close``
  required. They feed range-based realised-volatility estimators, which need all four.
- ``volume`` (optional, empty allowed): shares traded in the session (count, not dollars); the scanner's
  average daily dollar volume is ``close * volume`` (``main.scanner``). Indices have none: leave it empty.

Result: :class:`gex.reference.ReferenceData` of kind ``"closes"`` (:data:`gex.reference.CLOSES_SCHEMA`).
"""

from __future__ import annotations

from os import PathLike

import polars as pl
from gex.reference import ReferenceData, conform_reference

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check
from gex_sources.limits import identifier_reason, invalid_identifier
from gex_sources.snapshots import ticker_expr

FORMAT_CLOSES = "closes"
COLUMNS = {
    "date": ("date", "session"),
    "underlying": ("underlying", "ticker", "symbol"),
    "close": ("close",),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "volume": ("volume",),
}
PRICES = ("open", "high", "low", "close")


def sniff_closes(names: list[str]) -> bool:
    """Whether a header is an underlying-closes file (and not an option file)."""
    return (
        any(n in names for n in COLUMNS["date"])
        and any(n in names for n in COLUMNS["underlying"])
        and "close" in names
        and not any(n in names for n in ("strike", "expiration", "secid", "quote_date", "open_interest"))
    )


def read_closes(path: str | PathLike[str]) -> ReferenceData:
    """Read an underlying-closes CSV.

    Raises
    ------
    SourceError
        Missing ``date``, ``underlying`` or ``close`` column (named); unreadable file.
    """
    layout = ct.read_layout(path)
    columns = ct.require(layout, COLUMNS, ("date", "underlying", "close"))
    date_forms = ct.date_formats(layout, columns["date"])
    sessions = ct.all_sessions()

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s = pl.col
        lf = fields.with_columns(
            session=ct.date("date", date_forms),
            underlying=ticker_expr(ct.text("underlying")),
            **{p: ct.number(p) for p in (*PRICES, "volume")},
        )
        checks = [
            ct.field_count_check(len(layout.names)),
            ct.required_check("date", s("session"), "date"),
            Check(~s("session").is_in(sessions.implode()), pl.format("date {} is not an NYSE session", s("session"))),
            Check(s("underlying").fill_null("") == "", pl.lit("missing underlying")),
            Check(invalid_identifier(s("underlying")), identifier_reason("underlying", s("underlying"))),
            Check(s("close").is_null(), pl.format("non-numeric close: '{}'", ct.cell("close"))),
            *(ct.number_check(p, s(p), columns[p]) for p in PRICES if columns[p]),
            *([ct.number_check("volume", s("volume"), columns["volume"], integer=True)] if columns["volume"] else []),
        ]
        return lf, checks

    good, rejects = ct.read_single(ct.TablePlan(layout, columns, build, ("session", "underlying", *PRICES, "volume")))
    return ReferenceData(
        kind="closes",
        frame=conform_reference("closes", good),
        source=str(path),
        source_format=FORMAT_CLOSES,
        rejects=rejects,
        warnings=(f"{rejects.height} source rows rejected (see rejects)",) if rejects.height else (),
    )
