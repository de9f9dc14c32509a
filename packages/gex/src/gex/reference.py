"""Canonical schemas of the reference data that travels beside option chains.

Chains (:mod:`gex.chain`) say what was quoted; reference data says what the models need besides: open
interest as OCC published it, risk-free rates, underlying closes (for realised volatility), and other
providers' GEX numbers kept for comparison. Each kind has one polars schema here; the readers in
``gex_sources`` produce a :class:`ReferenceData` holding a frame with exactly that schema.

Units
-----
- dates: exchange (New York) calendar dates; prices: currency units per share;
- ``open_interest``: contracts; rates: decimal per year, continuously compounded, 365-day year (the
  ``act365`` year of :mod:`gex.conventions`);
- ``source_line``: 1-based physical line of the source file (1-based record number for JSON).

Pure: schemas, a dataclass and unit conversions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np
import polars as pl

from gex.chain import REJECT_SCHEMA, RIGHTS

ReferenceKind = Literal["open_interest", "rates", "closes", "external_gex", "derived_results"]

#: Open interest as OCC publishes it: one row per contract per publication.
OPEN_INTEREST_SCHEMA: dict[str, pl.DataType] = {
    "publish_date": pl.Date(),  # morning of session t on which OCC published the figure
    "oi_date": pl.Date(),  # session whose close the figure reflects: the session before publish_date
    "underlying": pl.String(),  # normalised ticker, no caret ("SPX")
    "symbol": pl.String(),  # OSI symbol as written ("SPXW  250107C05930000" or unpadded)
    "root": pl.String(),  # option root from the symbol ("SPX" vs "SPXW")
    "expiration": pl.Date(),
    "strike": pl.Float64(),  # currency per share
    "right": RIGHTS,  # "C" | "P"
    "open_interest": pl.Int64(),  # contracts; semantics (e.g. negative) are validated downstream
    "source_line": pl.Int64(),
}

#: Risk-free rates by date and tenor, **continuously compounded, decimal per year (365-day year)**.
#: Sources quoting another convention (simple money-market, bond-equivalent, discount) must be converted
#: with :func:`continuous_from_simple` / :func:`continuous_from_bond_equivalent` before they land here.
RATES_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),  # date the rate was observed (New York)
    "tenor_days": pl.Int32(),  # calendar days to maturity (1 = overnight)
    "rate": pl.Float64(),  # 0.045 = 4.5% per year, continuous compounding
    "source_line": pl.Int64(),
}

#: Daily bars of an underlying. ``open``, ``high`` and ``low`` are optional in sources (null when absent);
#: range-based realised-volatility estimators (Parkinson, Garman-Klass) need them. ``volume`` (shares traded,
#: optional) gives the dollar volume ``close * volume`` the scanner relates GEX to.
CLOSES_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),  # normalised ticker
    "open": pl.Float64(),  # currency per share, nullable
    "high": pl.Float64(),  # nullable
    "low": pl.Float64(),  # nullable
    "close": pl.Float64(),  # official close, currency per share
    "volume": pl.Float64(),  # shares traded in the session, count; nullable (indices have none)
    "source_line": pl.Int64(),
}

#: Another provider's daily GEX series, kept for comparison (sign and rank, not level: each provider has
#: its own positioning model).
EXTERNAL_GEX_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),  # "SPX"
    "provider": pl.String(),  # "squeezemetrics"
    # The provider's own GEX in US dollars as published. SqueezeMetrics: dollars of the index dealers
    # are estimated to trade per 1% move (their white paper's definition), from their own model.
    "gex_usd": pl.Float64(),
    "dix": pl.Float64(),  # SqueezeMetrics dark-pool index, fraction 0..1; null for other providers
    "underlying_close": pl.Float64(),  # close the provider printed beside the number, nullable
    "source_line": pl.Int64(),
}

#: A third party's *computed results* for one snapshot (not market data): per-strike and total gamma
#: exposure and zero-gamma level per expiry group, as in gflows-style dashboards' JSON output.
#: Strike rows have ``strike`` set and ``total_gex_bn``/``zero_gamma`` null; one summary row per
#: ``expiry_group`` has ``strike`` null and carries the group's total and zero-gamma level.
DERIVED_RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),  # as-of session of the chain the results were computed from
    "underlying": pl.String(),
    "provider": pl.String(),  # "gflows"
    "expiry_group": pl.String(),  # provider's expiry selection: "all", "monthly", "0dte", "opex", ...
    "strike": pl.Float64(),  # null on the group's summary row
    "call_gex_bn": pl.Float64(),  # $bn per 1% move, dealer-signed as published (calls >= 0)
    "put_gex_bn": pl.Float64(),  # $bn per 1% move, as published (puts <= 0 under the classic sign)
    "net_gex_bn": pl.Float64(),  # call + put, as published
    "zero_gamma": pl.Float64(),  # provider's zero-gamma (flip) level, index points; summary row only
    "total_gex_bn": pl.Float64(),  # provider's group total, $bn per 1%; summary row only
    "spot": pl.Float64(),  # spot the provider used, currency per share
    "source_line": pl.Int64(),  # 1-based record number in the flattened output (see the reader)
}

#: Kind -> schema of :attr:`ReferenceData.frame`.
REFERENCE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "open_interest": OPEN_INTEREST_SCHEMA,
    "rates": RATES_SCHEMA,
    "closes": CLOSES_SCHEMA,
    "external_gex": EXTERNAL_GEX_SCHEMA,
    "derived_results": DERIVED_RESULTS_SCHEMA,
}


class ReferenceSchemaError(ValueError):
    """A frame does not conform to the schema of its reference kind."""


def conform_reference(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the schema of ``kind``, in schema order.

    Raises
    ------
    ReferenceSchemaError
        Unknown kind, missing column, or a column that cannot be cast.
    """
    if kind not in REFERENCE_SCHEMAS:
        raise ReferenceSchemaError(f"unknown reference kind {kind!r}; known: {', '.join(REFERENCE_SCHEMAS)}")
    schema = REFERENCE_SCHEMAS[kind]
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ReferenceSchemaError(f"{kind} frame is missing columns: {', '.join(missing)}")
    try:
        return frame.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())
    except pl.exceptions.PolarsError as exc:  # pragma: no cover - message passthrough
        raise ReferenceSchemaError(f"{kind} frame has a column of the wrong type: {exc}") from exc


@dataclass(frozen=True)
class ReferenceData:
    """One reference file, read.

    Attributes
    ----------
    kind:
        ``"open_interest"``, ``"rates"``, ``"closes"``, ``"external_gex"`` or ``"derived_results"``.
    frame:
        Rows with exactly the schema ``REFERENCE_SCHEMAS[kind]``.
    source:
        Path or name of the source, for messages.
    source_format:
        Reader that produced it ("occ_oi", "squeezemetrics_dix", ...).
    rejects:
        Source rows the reader could not parse, :data:`gex.chain.REJECT_SCHEMA`; never silently dropped.
    warnings:
        Human-readable notes the reader raised.
    """

    kind: str
    frame: pl.DataFrame
    source: str = ""
    source_format: str = ""
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --- rate conventions -------------------------------------------------------------------------------

#: Days in the year of the continuous rates of :data:`RATES_SCHEMA` (act/365, as the models' time).
YEAR_DAYS = 365.0

T = TypeVar("T")


def continuous_from_simple(rate: T, tenor_days: T | float, basis_days: float = 360.0) -> T:
    """Continuously-compounded rate (365-day year) from a simple (money-market) annual rate.

    A simple rate ``s`` over ``d`` days on a ``basis_days`` year grows 1 to ``1 + s d / basis``; the
    continuous rate with the same growth is ``r = ln(1 + s d / basis) * 365 / d``.

    Parameters
    ----------
    rate:
        Simple annual rate, decimal (0.05 = 5%). Float, numpy array, polars Series or Expr.
    tenor_days:
        Calendar days to maturity (> 0).
    basis_days:
        Day-count year of the quote: 360 for USD money-market (act/360) rates, 365 for act/365 quotes.

    >>> round(float(continuous_from_simple(0.05, 91)), 6)
    0.050377
    >>> round(float(continuous_from_simple(0.05, 365, basis_days=365)), 6)
    0.04879
    """
    return np.log1p(rate * tenor_days / basis_days) * YEAR_DAYS / tenor_days  # type: ignore[operator,return-value]


def continuous_from_bond_equivalent(rate: T, periods_per_year: int = 2) -> T:
    """Continuously-compounded rate from a bond-equivalent (periodically compounded) annual yield.

    ``r = m ln(1 + y / m)`` with ``m`` compounding periods a year: 2 for US Treasury notes and bonds and
    for the Treasury's par-yield curve (H.15 constant-maturity yields), 1 for annual-compounding quotes.

    Parameters
    ----------
    rate:
        Yield, decimal (0.045 = 4.5%). Float, numpy array, polars Series or Expr.
    periods_per_year:
        Compounding periods per year.

    >>> round(float(continuous_from_bond_equivalent(0.045)), 6)
    0.044501
    """
    m = float(periods_per_year)
    return m * np.log1p(rate / m)  # type: ignore[operator,return-value]
