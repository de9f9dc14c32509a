"""OCC open interest through the series search (no key): plain text, call and put OI on one TAB row.

``GET https://marketdata.theocc.com/series-search?symbolType=U&symbol=SPY`` (``U``: by underlying). The
text starts ``Series Search Results for SPY``; we check that line and that at least one series row (TAB
separated, a year, month, day) follows. The OI in it is as of the prior business day (docs/sources.md); the
archive's session is the session of the fetch instant and the parser records the OI's own as-of date.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, looks_like_html

_ROW = re.compile(r"^[A-Z0-9 ]{1,6}\s*\t\t\d{4}\t\d{2}\t\d{2}\t", re.M)


class Occ(Source):
    name = "occ"
    default_base_url = "https://marketdata.theocc.com"
    kind = "open_interest"
    rate_per_s = 0.5
    burst = 1

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        return [PlannedRequest("open_interest", "/series-search", {"symbolType": "U", "symbol": symbol}, accept="text/plain, */*")]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        body = response.body
        if looks_like_html(body):
            raise FetchError("invalid", f"{response.url}: an HTML page came back instead of the OCC series search text")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
        first = text.lstrip().split("\n", 1)[0].strip()
        m = re.fullmatch(r"Series Search Results for\s+(\S+)", first)
        if not m:
            raise FetchError("invalid", f"{response.url}: not an OCC series search (first line {first[:60]!r})")
        self.check_symbol(symbol, m.group(1), response)
        if not _ROW.search(text):
            raise FetchError("not_found", f"{response.url}: OCC lists no option series for {symbol} (unknown symbol?)")
        return text
