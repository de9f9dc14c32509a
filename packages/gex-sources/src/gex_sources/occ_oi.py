"""OCC-style open interest files: one contract per line, ``date,symbol,open_interest``.

::

    date,symbol,open_interest
    2024-01-05,SPXW  240119C04700000,1234
    2024-01-05,SPX240119P04700000,567

- ``date`` is the **publication date** t: OCC publishes open interest on the morning of session t, from
  positions after the close of the previous session; so ``oi_date = previous_session(publish_date)``
  (for a date that is not a session, the last session before it);
- the contract column may be called ``symbol``, ``contract`` or ``key``; it holds an OSI symbol, in the
  21-character OCC form (root padded with spaces) or unpadded; root, expiration, right and strike come
  from it and ``underlying`` from the root (``SPXW`` -> ``SPX``), unless an ``underlying`` column says;
- ``open_interest`` in contracts; only unparseable or fractional values are rejected here (a negative
  count is kept: semantic checks are the warehouse's).

Result: :class:`gex.reference.ReferenceData` of kind ``"open_interest"`` (:data:`OPEN_INTEREST_SCHEMA`).
"""

from __future__ import annotations

from os import PathLike

import polars as pl
from gex.calendar import previous_session
from gex.reference import ReferenceData, conform_reference

from gex_sources import csvtable as ct
from gex_sources.csvtable import Check
from gex_sources.limits import identifier_reason, invalid_identifier
from gex_sources.osi import osi_columns
from gex_sources.snapshots import family_expr, fill_missing, ticker_expr

FORMAT_OCC_OI = "occ_oi"
CONTRACT_NAMES = ("symbol", "contract", "key")
COLUMNS = {
    "date": ("date", "publish_date"),
    "symbol": CONTRACT_NAMES,
    "open_interest": ("open_interest",),
    "underlying": ("underlying",),
}


def sniff_occ_oi(names: list[str]) -> bool:
    """Whether a header is an OCC open-interest file (and not a chain: no strike or expiration column)."""
    return (
        ("date" in names or "publish_date" in names)
        and "open_interest" in names
        and any(n in names for n in CONTRACT_NAMES)
        and not any(n in names for n in ("strike", "expiration", "underlying_price", "quote_date", "secid"))
    )


def read_occ_oi(path: str | PathLike[str]) -> ReferenceData:
    """Read an OCC-style open-interest CSV.

    Raises
    ------
    SourceError
        Missing ``date``, contract or ``open_interest`` column (named); unreadable file.
    """
    layout = ct.read_layout(path)
    columns = ct.require(layout, COLUMNS, ("date", "symbol", "open_interest"))
    date_forms = ct.date_formats(layout, columns["date"])

    def build(fields: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        s, t = pl.col, ct.text
        symbol = t("symbol").str.strip_chars().str.to_uppercase()
        osi = osi_columns(symbol)
        lf = fields.with_columns(
            publish_date=ct.date("date", date_forms),
            symbol=symbol,
            root=osi.root,
            expiration=osi.expiration,
            strike=osi.strike_milli / 1000,
            right=osi.right,
            oi=ct.number("open_interest"),
        ).with_columns(
            underlying=pl.coalesce(ticker_expr(t("underlying")), family_expr(s("root"))),
            open_interest=s("oi").cast(pl.Int64, strict=False),
        )
        checks = [
            ct.field_count_check(len(layout.names)),
            ct.required_check("date", s("publish_date"), "date"),
            Check(s("root").is_null(), pl.format("malformed OSI symbol: '{}'", ct.cell("symbol"))),
            ct.number_check("open_interest", s("oi"), columns["open_interest"], integer=True),
            Check(invalid_identifier(s("underlying")), identifier_reason("underlying", s("underlying"))),
        ]
        return lf, checks

    keep = ("publish_date", "underlying", "symbol", "root", "expiration", "strike", "right", "open_interest")
    good, rejects = ct.read_single(ct.TablePlan(layout, columns, build, keep))
    frame = fill_missing(good, "oi_date", ["publish_date"], previous_session, pl.Date())
    return ReferenceData(
        kind="open_interest",
        frame=conform_reference("open_interest", frame),
        source=str(path),
        source_format=FORMAT_OCC_OI,
        rejects=rejects,
        warnings=(f"{rejects.height} source rows rejected (see rejects)",) if rejects.height else (),
    )
