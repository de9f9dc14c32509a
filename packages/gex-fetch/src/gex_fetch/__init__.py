"""Data acquisition for the GEX pipeline: fetch option chains, open interest and rates from vendor APIs,
validate each response's envelope, archive every response byte for byte (``gex_sources.bundle``) with a
manifest line, and replay. The parsers live in ``gex_sources``; this package never reads a chain.

Entry points: :func:`fetch_one`, :func:`fetch_many`, :func:`fetch_watchlist`, :func:`load_watchlist`,
:func:`gex_fetch.schedule.next_runs`, :class:`gex_fetch.replay.ReplayServer`. See docs/sources.md.
"""

from __future__ import annotations

from gex_fetch.errors import FetchError
from gex_fetch.fetcher import FetchOutcome, FetchSettings, fetch_many, fetch_one
from gex_fetch.http import RetryPolicy, Timeouts
from gex_fetch.sources import SOURCES, get_source
from gex_fetch.watchlist import Watchlist, WatchlistError, fetch_watchlist, load_watchlist

__all__ = [
    "SOURCES",
    "FetchError",
    "FetchOutcome",
    "FetchSettings",
    "RetryPolicy",
    "Timeouts",
    "Watchlist",
    "WatchlistError",
    "fetch_many",
    "fetch_one",
    "fetch_watchlist",
    "get_source",
    "load_watchlist",
]
