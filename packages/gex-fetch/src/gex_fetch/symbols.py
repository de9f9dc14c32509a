"""Symbols asked for on the command line or in a watchlist -> the normalised symbol that names files.

A symbol becomes part of a path (``<landing>/fetch/<source>/<SYMBOL>/...``), so it is validated before any
use: vendor decorations (``^``, ``_``, ``$``) are stripped, letters upper-cased, and the result must match
:data:`SYMBOL_RE` (no slash, no dot-dot, no space).
"""

from __future__ import annotations

import re

SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")

#: Cash indices: Cboe's feed names them with a leading underscore, Schwab with a ``$``; ETFs and stocks bare.
INDEX_SYMBOLS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "OEX", "XEO", "MRUT", "XND", "VIX9D"})


class SymbolError(ValueError):
    """A symbol that cannot be fetched (empty, or characters a file name must not hold)."""


def normalise(symbol: str) -> str:
    """``^spx`` / ``_SPX`` / ``$SPX`` -> ``SPX``; raises :class:`SymbolError` for anything not a ticker.

    >>> [normalise(s) for s in ("^spx", "_SPX", "$SPX", " qqq ", "BRK.B")]
    ['SPX', 'SPX', 'SPX', 'QQQ', 'BRK.B']
    """
    s = symbol.strip().upper().lstrip("^_$")
    if not SYMBOL_RE.fullmatch(s) or ".." in s:
        raise SymbolError(f"symbol {symbol!r} is not a ticker (letters, digits, '.', '-', '_'; at most 16 characters)")
    return s


def is_index(symbol: str) -> bool:
    """Whether the normalised ``symbol`` is a cash index (``SPX``), not an ETF or stock (``SPY``)."""
    return symbol in INDEX_SYMBOLS
