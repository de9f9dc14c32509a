"""Bounds every reader applies to values before they become typed columns: one place, used by all readers.

Two rules live here because they protect the pipeline rather than describe a market:

- **Counts** (open interest, volume, in contracts) are parsed as Float64 text and cast to Int64. A count
  above :data:`MAX_COUNT` (2**53 - 1, the largest whole number a Float64 holds exactly; far beyond any
  listed contract and still inside Int64) cannot be represented faithfully: the row is rejected with
  ``"<field> '<text>' out of range (max 9,007,199,254,740,991)"``, never turned into a null ("missing")
  or an overflow that stops the file. Prices that overflow a Float64 (``1e400`` reads as infinity) are
  rejected as out of range the same way. The warehouse's own, tighter plausibility limits
  (:mod:`gex_warehouse.validate`) come after.
- **Listing horizon**: no listed option expires more than :data:`MAX_LISTING_YEARS` years after the
  session it is quoted in (SPX LEAPS reach about 5-6 years, equity LEAPS about 3). A snapshot whose header
  date puts its expirations further out than that has a corrupted header date (``Date: ... 1990`` over
  expirations 2024-2029), and one whose every expiration precedes its header date as well: the header is
  one value for the whole file, so the whole file is refused (:func:`gex_sources.assemble.finish`); for
  formats that date every row (DataShop, IvyDB, canonical), the warehouse rejects the row instead.
- **Identifiers that can become paths** (underlying tickers, option roots): the levels feed has a folder
  per underlying (``exports/levels/<U>/...``; the Parquet exports hold the ticker as a column, no longer as
  a folder name), so a ticker read from a file's contents is a path component. After normalisation (upper case, vendor prefixes such as ``^`` removed) it must match
  :data:`IDENTIFIER_REGEX`: a letter or digit, then up to 15 letters, digits, ``.``, ``_`` or ``-``. That
  admits every real ticker and root (``SPX``, ``SPXW``, ``BRK.B``, ``BF-B``, ``SPY1``) and no path
  separator, no ``..`` component, no space or control character. A row with another value is rejected
  with ``"invalid underlying '<value>' (...)"``.
"""

from __future__ import annotations

import re

import polars as pl

#: Largest count (contracts) a reader accepts: 2**53 - 1, exact in Float64 and inside Int64.
MAX_COUNT = 2**53 - 1

#: Longest time from a session to an expiration listed in it, years (calendar: 10 * 365.25 days).
MAX_LISTING_YEARS = 10
MAX_LISTING_DAYS = round(MAX_LISTING_YEARS * 365.25)

#: An identifier that may become a path component, after normalisation (upper case).
IDENTIFIER_REGEX = r"^[A-Z0-9][A-Z0-9._-]{0,15}$"
_IDENTIFIER = re.compile(IDENTIFIER_REGEX)
#: How a rejected identifier's reason explains the rule.
IDENTIFIER_RULE = "want a letter or digit, then up to 15 letters, digits, '.', '_' or '-'"


def is_identifier(value: str) -> bool:
    """Whether a normalised ticker or root is safe as a path component.

    >>> [is_identifier(v) for v in ("SPX", "BRK.B", "SPY1", "X/../../TMP/VIX", "..", "", "A" * 17)]
    [True, True, True, False, False, False, False]
    """
    return _IDENTIFIER.fullmatch(value) is not None


def invalid_identifier(value: pl.Expr) -> pl.Expr:
    """Vectorised: true where ``value`` is present but not an identifier (null stays false: "missing" is
    the field's own check)."""
    return (value.is_not_null() & ~value.str.contains(IDENTIFIER_REGEX)).fill_null(False)


def identifier_reason(what: str, value: pl.Expr) -> pl.Expr:
    """Reason wording for :func:`invalid_identifier` rows (the value quoted, cut to 40 characters)."""
    return pl.format(f"invalid {what} '{{}}' ({IDENTIFIER_RULE})", value.str.slice(0, 40))


def count_out_of_range(value: pl.Expr) -> pl.Expr:
    """Vectorised: true where a finite count (Float64) exceeds :data:`MAX_COUNT` in magnitude."""
    return (value.is_finite() & (value.abs() > MAX_COUNT)).fill_null(False)


def overflowed(value: pl.Expr, text: pl.Expr) -> pl.Expr:
    """Vectorised: true where ``text`` is a written number that overflowed to infinity (``1e400``), as
    opposed to the words ``inf``/``nan`` (which are non-numeric)."""
    return (value.is_infinite() & ~text.str.contains(r"(?i)inf|nan")).fill_null(False)


def out_of_range_reason(label: str, text: pl.Expr, *, count: bool) -> pl.Expr:
    """``"<label> '<text>' out of range (max ...)"`` for a count, ``"... (overflows a 64-bit float)"`` else."""
    limit = f"max {MAX_COUNT:,}" if count else "overflows a 64-bit float"
    return pl.format(f"{label} '{{}}' out of range ({limit})", text)


def scalar_out_of_range(label: str, value: object, *, count: bool) -> str:
    """The same wording for one Python value (JSON records)."""
    limit = f"max {MAX_COUNT:,}" if count else "overflows a 64-bit float"
    shown = f"{value:.6g}" if isinstance(value, float) else str(value)[:40]
    return f"{label} {shown} out of range ({limit})"
