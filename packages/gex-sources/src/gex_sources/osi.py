"""OSI option symbols: ``ROOT YYMMDD C|P SSSSSddd`` (strike x 1000 on 8 digits), scalar and vectorised.

Cboe writes them without the padding spaces of the 21-character OCC form (``SPXW250107C05930000``); both
forms are accepted. The root is what identifies the settlement (``SPX`` AM vs ``SPXW`` PM), so it is always
taken from the symbol, never from the position of a row in the file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

import polars as pl

#: A whole OSI symbol: root (1-6 characters, a letter first), optional OCC padding, date, right, strike.
OSI_REGEX = r"^[A-Z][A-Z0-9]{0,5} *\d{6}[CP]\d{8}$"
_OSI = re.compile(r"(?P<root>[A-Z][A-Z0-9]{0,5}) *(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})")

#: Characters after the root: 6 date digits, the right, 8 strike digits.
_SUFFIX = 15


class OsiSymbol(NamedTuple):
    """A parsed OSI symbol; ``strike`` in currency units per share."""

    root: str
    expiration: dt.date
    right: str
    strike: float


def parse_osi_symbol(symbol: str) -> OsiSymbol:
    """Parse one OSI symbol.

    Raises
    ------
    ValueError
        When ``symbol`` is not a well-formed OSI symbol or names an impossible date.

    >>> parse_osi_symbol("SPXW250107C05930000")
    OsiSymbol(root='SPXW', expiration=datetime.date(2025, 1, 7), right='C', strike=5930.0)
    >>> parse_osi_symbol("SPY   200622P00150500").strike
    150.5
    """
    m = _OSI.fullmatch(symbol.strip())
    if m is None:
        raise ValueError(f"malformed OSI symbol {symbol!r}")
    d = m["date"]
    try:
        expiration = dt.date(2000 + int(d[:2]), int(d[2:4]), int(d[4:]))
    except ValueError:
        raise ValueError(f"OSI symbol {symbol!r} has an impossible date {d}") from None
    return OsiSymbol(m["root"], expiration, m["right"], int(m["strike"]) / 1000)


class OsiColumns(NamedTuple):
    """Polars expressions over a column of OSI symbols; all are null where ``valid`` is false."""

    valid: pl.Expr  # bool: well formed, with a real date
    root: pl.Expr  # str
    expiration: pl.Expr  # date
    right: pl.Expr  # str "C" | "P"
    strike_milli: pl.Expr  # i64: strike x 1000, exactly as written


def osi_columns(symbol: pl.Expr) -> OsiColumns:
    """Vectorised OSI parsing of ``symbol`` (a string expression), by fixed-width slices from the end.

    The date is read as ``20YY`` (OSI symbols date from 2010; ``%y`` would put 69-99 in the 1900s).
    """
    shaped = symbol.str.contains(OSI_REGEX)
    expiration = pl.concat_str(pl.lit("20"), symbol.str.slice(-_SUFFIX, 6)).str.to_date("%Y%m%d", strict=False)
    valid = shaped & expiration.is_not_null()
    return OsiColumns(
        valid=valid.fill_null(False),
        root=pl.when(valid).then(symbol.str.head(-_SUFFIX).str.strip_chars_end(" ")),
        expiration=pl.when(valid).then(expiration),
        right=pl.when(valid).then(symbol.str.slice(-9, 1)),
        strike_milli=pl.when(valid).then(symbol.str.tail(8).cast(pl.Int64, strict=False)),
    )
