"""Option roots, vendor tickers and header names -> the normalised underlying ticker.

The normalised ticker has no vendor decoration: ``^SPX`` (DataShop, Yahoo), ``_SPX`` (Cboe JSON URLs),
``$SPX.X`` (brokers) all become ``SPX``. Weekly/PM roots map to their index (``SPXW`` -> ``SPX``,
``NDXP`` -> ``NDX``, ``RUTW`` -> ``RUT``, ``VIXW`` -> ``VIX``); adjusted equity roots drop their digit
(``SPY1`` -> ``SPY``). Mini indices (``XSP``, ``MRUT``, ``XND``) are distinct underlyings, not aliases:
their index level is a fraction of the big one.
"""

from __future__ import annotations

import re

#: Roots whose underlying ticker differs from the root itself.
ROOT_UNDERLYING: dict[str, str] = {
    "SPXW": "SPX",
    "SPXPM": "SPX",
    "NDXP": "NDX",
    "RUTW": "RUT",
    "VIXW": "VIX",
    "DJXW": "DJX",
    "XEO": "OEX",
}

#: Header long names -> ticker, tried in order (ETF names first: "SPDR S&P 500 ETF" also says "S&P 500").
NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), t)
    for p, t in (
        (r"\bSPDR\b.*\bS\s*&?\s*P\s*500\b", "SPY"),
        (r"\bQQQ\b", "QQQ"),
        (r"\biShares\b.*\bRussell\s*2000\b", "IWM"),
        (r"\bSPDR\b.*\bDow\s*Jones\b", "DIA"),
        (r"\bmini[- ]?(?:SPX|S\s*&?\s*P\s*500)\b", "XSP"),
        (r"\bVolatility\s+Index\b", "VIX"),
        (r"\b(?:S\s*&\s*P|S\s*and\s*P|SP|Standard\s*&\s*Poor'?s)\s*500\b", "SPX"),
        (r"\bNASDAQ[- ]?100\b", "NDX"),
        (r"\bRussell\s*2000\b", "RUT"),  # "Livevol Forward Russell 2000 Index" too
    )
)

_TICKER = re.compile(r"[A-Z][A-Z0-9.]{0,9}")


def normalise_ticker(symbol: str) -> str:
    """Vendor ticker -> plain upper-case ticker.

    >>> [normalise_ticker(s) for s in ("^SPX", "_SPX", "$SPX.X", " spy ", "BRK.B")]
    ['SPX', 'SPX', 'SPX', 'SPY', 'BRK.B']
    """
    t = symbol.strip().upper().lstrip("^_$")
    return t[:-2] if t.endswith(".X") else t


def underlying_for_root(root: str) -> str:
    """Underlying ticker of an option root.

    >>> [underlying_for_root(r) for r in ("SPXW", "SPX", "NDXP", "RUTW", "VIXW", "^SPX", "SPY1", "XSP")]
    ['SPX', 'SPX', 'NDX', 'RUT', 'VIX', 'SPX', 'SPY', 'XSP']
    """
    r = normalise_ticker(root)
    if r in ROOT_UNDERLYING:
        return ROOT_UNDERLYING[r]
    stripped = r.rstrip("0123456789")  # adjusted roots after corporate actions: SPY1, AAPL7
    return stripped or r


def underlying_from_name(name: str) -> str | None:
    """Ticker suggested by a header long name, or ``None`` when the name is not recognised.

    >>> [underlying_from_name(n) for n in ("Standard & Poors 500 Index", "SP 500 INDEX", "NASDAQ 100",
    ...  "SPDR S&P 500 ETF Trust", "PowerShares QQQ Trust, Series 1 (ETF)", "Apple Inc.")]
    ['SPX', 'SPX', 'NDX', 'SPY', 'QQQ', None]
    """
    for pattern, ticker in NAME_PATTERNS:
        if pattern.search(name):
            return ticker
    bare = name.strip()
    # A header that is itself a ticker ("SPX", "^SPX").
    if _TICKER.fullmatch(normalise_ticker(bare)) and bare.upper() == bare:
        return normalise_ticker(bare)
    return None
