"""The one interface every source implements, and the request/response records the fetcher passes around.

A source says *what* to ask for a symbol (:meth:`Source.requests_for`), what more to ask after a response
(:meth:`Source.follow_up`: Tradier's one chain per expiry, Polygon's ``next_url`` pages), whether a response is
what was asked (:meth:`Source.validate`, the envelope checks: JSON, the right symbol, not an HTML page, not
empty), and which NYSE session the data is as of (:meth:`Source.as_of_session`). It never sends anything:
:mod:`gex_fetch.http` does, with the source's auth, rate and user agent. It never parses a chain either: the
parsers live in ``gex_sources`` and read the archived bundle.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gex import calendar

from gex_fetch.errors import FetchError

#: A real browser's User-Agent: Cboe's CDN answers 403 to clients it takes for bots (see docs/sources.md).
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
#: What the vendor APIs (which know who we are through the token) see.
GEX_USER_AGENT = "gex-fetch/0.1 (+https://github.com/gex-pipeline)"


@dataclass(frozen=True)
class PlannedRequest:
    """One GET to make: ``path`` under the source's base URL, public query ``params`` (recorded in the bundle;
    credentials are added by the client at send time and never stored here)."""

    role: str  # bundle role: chain | expirations | quote | page | rates | open_interest
    path: str  # documented path, e.g. /api/global/delayed_quotes/options/_SPX.json
    params: Mapping[str, str] = field(default_factory=dict)
    accept: str = "application/json"


@dataclass(frozen=True)
class HttpResponse:
    """A response as received (body after HTTP content decoding), with the public URL it came from."""

    request: PlannedRequest
    url: str  # final URL after redirects, credentials removed
    status: int
    content_type: str
    body: bytes
    requested_at: dt.datetime  # UTC, first byte sent of the attempt that succeeded
    received_at: dt.datetime  # UTC, body fully read
    attempts: int = 1

    def json(self) -> Any:
        return json.loads(self.body)


def looks_like_html(body: bytes) -> bool:
    """An HTML page (an error, login or captcha page some CDNs serve with status 200)."""
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) or b"<html" in head[:200]


def parse_json(response: HttpResponse, what: str) -> Any:
    """The JSON document of ``response``, or a one-line ``invalid`` :class:`FetchError` saying what it was."""
    body = response.body
    if not body.strip():
        raise FetchError("invalid", f"{response.url}: empty body with status {response.status} (expected {what})")
    if looks_like_html(body):
        raise FetchError(
            "invalid",
            f"{response.url}: an HTML page came back with status {response.status} instead of {what} "
            "(an error, login or bot-check page)",
        )
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        end = "truncated" if isinstance(exc, json.JSONDecodeError) and exc.pos >= len(body) - 1 else "not JSON"
        raise FetchError(
            "invalid",
            f"{response.url}: body of {len(body):,} bytes is {end} ({type(exc).__name__} at char "
            f"{getattr(exc, 'pos', '?')}); expected {what}",
        ) from None


class Source(ABC):
    """A data source. Subclasses set the class attributes and implement the abstract methods."""

    #: Name used on the command line, in paths and bundles (``cboe``, ``tradier``, ...).
    name: ClassVar[str]
    #: Scheme and host of the real service; ``--base-url`` / ``GEX_<NAME>_BASE_URL`` replace it.
    default_base_url: ClassVar[str]
    #: Environment variable holding the credential (``None``: no credential).
    secret_env: ClassVar[str | None] = None
    #: How the credential is sent: ``"bearer"`` (Authorization header) or ``"query:<param>"``.
    auth: ClassVar[str | None] = None
    #: Default pace: requests per second and burst (overridable per watchlist entry).
    rate_per_s: ClassVar[float] = 1.0
    burst: ClassVar[int] = 2
    user_agent: ClassVar[str] = GEX_USER_AGENT
    #: What the bundle holds: ``chain``, ``open_interest`` or ``rates`` (rates bundles have symbol null).
    kind: ClassVar[str] = "chain"
    #: Upper bound on requests of one fetch (pagination and per-expiry loops stop with a clear error).
    max_requests: ClassVar[int] = 500

    @property
    def base_url_env(self) -> str:
        return f"GEX_{self.name.upper()}_BASE_URL"

    @abstractmethod
    def requests_for(self, symbol: str, session: dt.date | None = None) -> list[PlannedRequest]:
        """The first requests for normalised ``symbol`` (``session``: for dated sources, else ignored)."""

    def follow_up(self, symbol: str, response: HttpResponse, document: Any) -> list[PlannedRequest]:
        """More requests after a validated ``response`` (``document`` is what :meth:`validate` returned)."""
        return []

    @abstractmethod
    def validate(self, symbol: str, response: HttpResponse) -> Any:
        """Envelope checks of a 2xx ``response``; returns the parsed document; raises ``FetchError("invalid")``."""

    def check_complete(self, symbol: str, responses: Sequence[HttpResponse], documents: Sequence[Any]) -> None:
        """Checks over the whole fetch (e.g. at least one contract across all per-expiry calls)."""

    def as_of_session(self, symbol: str, responses: Sequence[HttpResponse], documents: Sequence[Any]) -> dt.date | None:
        """NYSE session the data is as of. Default: the session of the last response's receipt instant
        (the last session whose open is at or before it: an evening or weekend fetch holds the last close)."""
        return calendar.as_of_session(responses[-1].received_at)

    def bundle_symbol(self, symbol: str) -> str | None:
        """The symbol the bundle's manifest records (``None`` for rates)."""
        return None if self.kind == "rates" else symbol

    def explain(self, status: int, symbol: str) -> str:
        """What a 401/403/404 means for this source and what to do about it."""
        if status == 401:
            if self.secret_env:
                return (f"HTTP 401 Unauthorized from {self.name}: the token in ${self.secret_env} was refused "
                        f"(missing, wrong or expired); set a valid one in {self.secret_env}")
            return f"HTTP 401 Unauthorized from {self.name}: this endpoint should need no credential; check --base-url"
        if status == 403:
            if self.secret_env:
                return (f"HTTP 403 Forbidden from {self.name} for {symbol}: the credential in ${self.secret_env} "
                        "is valid but not entitled to this data (check your plan / market-data subscription)")
            return f"HTTP 403 Forbidden from {self.name} for {symbol}: the server refused this client; not retried"
        return f"HTTP 404 Not Found from {self.name}: unknown symbol {symbol} (check the ticker)"

    def check_symbol(self, symbol: str, found: object, response: HttpResponse) -> None:
        """Refuse a body that is for another symbol than the one asked (a cache or proxy mix-up)."""
        if found is None:
            return
        from gex_fetch.symbols import normalise  # local: avoids a cycle at import

        try:
            got = normalise(str(found))
        except ValueError:
            got = str(found)
        if got != symbol:
            raise FetchError("invalid", f"{response.url}: the response is for {found!r}, not {symbol} as asked")
