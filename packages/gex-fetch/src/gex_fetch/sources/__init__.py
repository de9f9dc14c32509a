"""The sources, by name: each a small module behind :class:`gex_fetch.source.Source`."""

from __future__ import annotations

from gex_fetch.errors import FetchError
from gex_fetch.source import Source
from gex_fetch.sources.cboe import Cboe
from gex_fetch.sources.fred import Fred
from gex_fetch.sources.occ import Occ
from gex_fetch.sources.polygon import Polygon
from gex_fetch.sources.schwab import Schwab
from gex_fetch.sources.tradier import Tradier
from gex_fetch.sources.treasury import Treasury

SOURCES: dict[str, type[Source]] = {s.name: s for s in (Cboe, Tradier, Polygon, Schwab, Occ, Treasury, Fred)}


def get_source(name: str) -> Source:
    """The source called ``name``; ``FetchError("config")`` listing the known ones otherwise."""
    try:
        return SOURCES[name.strip().lower()]()
    except KeyError:
        raise FetchError("config", f"unknown source {name!r}; choose one of {', '.join(SOURCES)}") from None
