"""Tradier market data (bearer token in ``$TRADIER_TOKEN``): a quote for spot, the expirations, then one
chain call per expiry.

* ``GET /v1/markets/quotes?symbols=SPX`` (role ``quote``: the chain carries no underlying price)
* ``GET /v1/markets/options/expirations?symbol=SPX&includeAllRoots=true&strikes=false`` (role ``expirations``)
* ``GET /v1/markets/options/chains?symbol=SPX&expiration=YYYY-MM-DD&greeks=true`` (role ``chain``, one per
  expiry; ``includeAllRoots=true`` for indices, else SPX weeklies (SPXW) are missing)

A lone element arrives as an object instead of a list; a missing chain is ``null`` (kept, counted as empty).
Always ``Accept: application/json`` (Tradier answers XML otherwise). Pace: Tradier allows 120 market-data
requests a minute; we stay at 2 per second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, parse_json
from gex_fetch.symbols import is_index


def as_list(value: Any) -> list[Any]:
    """Tradier's one-or-many: ``None`` -> ``[]``, an object -> ``[object]``, a list as is."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Tradier(Source):
    name = "tradier"
    default_base_url = "https://api.tradier.com"
    secret_env = "TRADIER_TOKEN"
    auth = "bearer"
    rate_per_s = 2.0
    burst = 4

    def _roots(self, symbol: str) -> dict[str, str]:
        return {"includeAllRoots": "true"} if is_index(symbol) else {}

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        return [
            PlannedRequest("quote", "/v1/markets/quotes", {"symbols": symbol}),
            PlannedRequest("expirations", "/v1/markets/options/expirations",
                           {"symbol": symbol, "includeAllRoots": "true", "strikes": "false"}),
        ]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        role = response.request.role
        doc = parse_json(response, f"a Tradier {role} response")
        if not isinstance(doc, dict):
            raise FetchError("invalid", f"{response.url}: not a Tradier {role} object")
        if role == "quote":
            quotes = doc.get("quotes")
            if not isinstance(quotes, dict):
                raise FetchError("invalid", f"{response.url}: no 'quotes' object")
            if quotes.get("unmatched_symbols") and not quotes.get("quote"):
                raise FetchError("not_found", f"{response.url}: Tradier does not know the symbol {symbol}")
            found = as_list(quotes.get("quote"))
            if not found:
                raise FetchError("invalid", f"{response.url}: empty quote for {symbol}")
            self.check_symbol(symbol, found[0].get("symbol") if isinstance(found[0], dict) else None, response)
        elif role == "expirations":
            exp = doc.get("expirations")
            dates = as_list(exp.get("date")) if isinstance(exp, dict) else []
            if not dates:
                raise FetchError("not_found", f"{response.url}: no option expirations for {symbol} (unknown symbol or no options)")
            for d in dates:
                try:
                    dt.date.fromisoformat(str(d))
                except ValueError:
                    raise FetchError("invalid", f"{response.url}: expiration {d!r} is not a date") from None
        else:  # chain
            if "options" not in doc:
                raise FetchError("invalid", f"{response.url}: no 'options' key in the chain response")
            options = doc["options"]
            rows = as_list(options.get("option")) if isinstance(options, dict) else []
            for row in rows[:1]:
                if isinstance(row, dict):
                    self.check_symbol(symbol, row.get("underlying"), response)
        return doc

    def follow_up(self, symbol: str, response: HttpResponse, document: Any) -> list[PlannedRequest]:
        if response.request.role != "expirations":
            return []
        dates = as_list(document["expirations"].get("date"))
        return [
            PlannedRequest("chain", "/v1/markets/options/chains",
                           {"symbol": symbol, "expiration": str(d), "greeks": "true", **self._roots(symbol)})
            for d in dates
        ]

    def check_complete(self, symbol: str, responses: Sequence[HttpResponse], documents: Sequence[Any]) -> None:
        total = 0
        for r, doc in zip(responses, documents):
            if r.request.role == "chain" and isinstance(doc.get("options"), dict):
                total += len(as_list(doc["options"].get("option")))
        if total == 0:
            raise FetchError("invalid", f"tradier {symbol}: every expiry's chain is empty (no contracts)")

    def explain(self, status: int, symbol: str) -> str:
        if status == 401:
            return ("HTTP 401 Unauthorized: Tradier refused the token in $TRADIER_TOKEN (missing, wrong or expired; "
                    "sandbox tokens work only with --base-url https://sandbox.tradier.com)")
        return super().explain(status, symbol)
