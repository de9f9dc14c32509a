"""Cboe delayed quotes (free, no key; the default): one JSON document per underlying, every expiry and strike.

``GET https://cdn.cboe.com/api/global/delayed_quotes/options/{SYM}.json`` with ``_SPX``, ``_NDX``, ``_RUT``,
``_VIX``, ``_XSP`` for indices and bare tickers for ETFs and stocks. The document's ``timestamp`` is UTC; the
as-of session is the NYSE session of that instant (a Saturday fetch holds Friday's session). Cboe's CDN
answers 403 to clients it takes for bots: we send a browser User-Agent, never retry a 403, and say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from gex import calendar

from gex_fetch.errors import FetchError
from gex_fetch.source import BROWSER_USER_AGENT, HttpResponse, PlannedRequest, Source, parse_json
from gex_fetch.symbols import is_index

PATH = "/api/global/delayed_quotes/options/{sym}.json"
#: Per-contract fields that are all zero in Cboe's opening-reset state (before ~09:45 New York).
_RESET_FIELDS = ("bid", "ask", "iv", "gamma", "delta", "theo")


def cboe_symbol(symbol: str) -> str:
    """``SPX`` -> ``_SPX`` (indices), ``SPY`` -> ``SPY``."""
    return f"_{symbol}" if is_index(symbol) else symbol


def is_opening_reset(options: list[Any]) -> bool:
    """Every contract with bid, ask, iv and greeks all 0 (open interest kept): Cboe's state around the open.
    Exposure computed from it would be zero everywhere, so the fetch refuses it."""
    def zero(row: Any) -> bool:
        return isinstance(row, dict) and all(not row.get(f) for f in _RESET_FIELDS)

    return bool(options) and all(zero(o) for o in options)


class Cboe(Source):
    name = "cboe"
    default_base_url = "https://cdn.cboe.com"
    rate_per_s = 1.0  # a public CDN: be polite (a nightly watchlist is a handful of requests)
    burst = 2
    user_agent = BROWSER_USER_AGENT

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        return [PlannedRequest("chain", PATH.format(sym=cboe_symbol(symbol)))]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        doc = parse_json(response, "a Cboe options JSON document")
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("options"), list):
            raise FetchError("invalid", f"{response.url}: not a Cboe options document (no data.options list)")
        self.check_symbol(symbol, data.get("symbol") or doc.get("symbol"), response)
        if not data["options"]:
            raise FetchError("invalid", f"{response.url}: the options list is empty (no contracts for {symbol})")
        if is_opening_reset(data["options"]):
            raise FetchError(
                "not_ready",
                f"{response.url}: Cboe's opening reset: all {len(data['options']):,} contracts have bid, ask, iv "
                "and greeks at 0; refused, fetch again later (after ~09:45 New York, or after the close)",
            )
        stamp = doc.get("timestamp")
        try:
            dt.datetime.fromisoformat(str(stamp))
        except ValueError:
            raise FetchError("invalid", f"{response.url}: unusable timestamp {stamp!r}") from None
        return doc

    def as_of_session(self, symbol: str, responses: Sequence[HttpResponse], documents: Sequence[Any]) -> dt.date | None:
        stamp = dt.datetime.fromisoformat(str(documents[0]["timestamp"]))
        return calendar.as_of_session(stamp if stamp.tzinfo else stamp.replace(tzinfo=calendar.UTC))

    def explain(self, status: int, symbol: str) -> str:
        if status == 403:
            return ("HTTP 403 Forbidden: Cboe's CDN refused this client (it blocks clients it takes for bots); "
                    "not retried - do not hammer it: try again later, from another network, or through a proxy "
                    "(HTTPS_PROXY)")
        if status == 404:
            hint = " (indices are fetched as _SYM: is it an index we do not know?)" if not is_index(symbol) else ""
            return f"HTTP 404 Not Found: Cboe has no delayed quotes for {symbol}{hint}; check the symbol"
        return super().explain(status, symbol)
