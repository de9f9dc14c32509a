"""Schwab Trader API market data (OAuth access token in ``$SCHWAB_ACCESS_TOKEN``): one chains call.

``GET /marketdata/v1/chains?symbol=$SPX&contractType=ALL&includeUnderlyingQuote=true&strategy=SINGLE``.
Indices take a ``$`` prefix. Access tokens live 30 minutes and come from Schwab's OAuth refresh flow,
which is the user's to run (we never store tokens); a 401 says so. ``isChainTruncated: true`` is refused.
Pace: 120 requests a minute allowed; we stay at 2 per second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, parse_json
from gex_fetch.symbols import is_index


def schwab_symbol(symbol: str) -> str:
    return f"${symbol}" if is_index(symbol) else symbol


class Schwab(Source):
    name = "schwab"
    default_base_url = "https://api.schwabapi.com"
    secret_env = "SCHWAB_ACCESS_TOKEN"
    auth = "bearer"
    rate_per_s = 2.0
    burst = 2

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        return [PlannedRequest("chain", "/marketdata/v1/chains", {
            "symbol": schwab_symbol(symbol), "contractType": "ALL", "includeUnderlyingQuote": "true", "strategy": "SINGLE",
        })]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        doc = parse_json(response, "a Schwab option chain")
        if not isinstance(doc, dict):
            raise FetchError("invalid", f"{response.url}: not a Schwab chain object")
        if doc.get("status") not in (None, "SUCCESS"):
            raise FetchError("not_found", f"{response.url}: Schwab status {doc.get('status')!r} for {symbol} (unknown symbol?)")
        self.check_symbol(symbol, doc.get("symbol"), response)
        calls, puts = doc.get("callExpDateMap"), doc.get("putExpDateMap")
        if not isinstance(calls, dict) or not isinstance(puts, dict):
            raise FetchError("invalid", f"{response.url}: no callExpDateMap/putExpDateMap")
        if not calls and not puts:
            raise FetchError("invalid", f"{response.url}: the chain has no contracts for {symbol}")
        if doc.get("isChainTruncated") is True:
            raise FetchError("invalid", f"{response.url}: Schwab truncated the chain (isChainTruncated); refused")
        return doc

    def explain(self, status: int, symbol: str) -> str:
        if status == 401:
            return ("HTTP 401 Unauthorized: Schwab refused the access token in $SCHWAB_ACCESS_TOKEN (they expire "
                    "after 30 minutes: refresh it with your OAuth refresh token and export it again)")
        return super().explain(status, symbol)
