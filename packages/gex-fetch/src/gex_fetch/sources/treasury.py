"""US Treasury daily par yield curve CSV (no key): the risk-free rates, in percent, newest row first.

``GET https://home.treasury.gov/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{YEAR}/all?type=daily_treasury_yield_curve&field_tdr_date_value={YEAR}&page&_format=csv``

The "symbol" of a treasury fetch is the year (``gex fetch treasury 2024``); no symbol means the year of the
current session. The bundle's symbol is null (rates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gex import calendar

from gex_fetch.errors import FetchError
from gex_fetch.source import HttpResponse, PlannedRequest, Source, looks_like_html

PATH = "/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{year}/all"


def current_year() -> str:
    return str(calendar.as_of_session(dt.datetime.now(dt.timezone.utc)).year)


class Treasury(Source):
    name = "treasury"
    default_base_url = "https://home.treasury.gov"
    kind = "rates"
    rate_per_s = 0.5
    burst = 1

    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        if not (symbol.isdigit() and len(symbol) == 4 and 1990 <= int(symbol) <= 2100):
            raise FetchError("config", f"treasury takes a year such as 2024, not {symbol!r}")
        return [PlannedRequest("rates", PATH.format(year=symbol), {
            "type": "daily_treasury_yield_curve", "field_tdr_date_value": symbol, "page": "", "_format": "csv",
        }, accept="text/csv, */*")]

    def validate(self, symbol: str, response: HttpResponse) -> Any:
        if looks_like_html(response.body):
            raise FetchError("invalid", f"{response.url}: an HTML page came back instead of the par yield CSV")
        text = response.body.decode("utf-8-sig", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines or not lines[0].startswith("Date,"):
            raise FetchError("invalid", f"{response.url}: not the Treasury par yield CSV (header {lines[0][:60] if lines else ''!r})")
        if len(lines) < 2:
            raise FetchError("invalid", f"{response.url}: the par yield CSV has no rows for {symbol}")
        return text
