"""Sending a planned request: the one place that retries, paces and turns HTTP trouble into clear errors.

Policy (docs/sources.md, "Fetching"):

* **retried** with exponential backoff and jitter: 429, every 5xx, timeouts, connection errors and bodies
  cut short (fewer bytes than ``Content-Length``). ``Retry-After`` (seconds or an HTTP date) is honoured: the
  next attempt waits exactly what the server asked, unless that is more than :attr:`RetryPolicy.max_retry_after_s`,
  in which case the fetch fails at once saying when to come back (a nightly job should not sleep for an hour);
* **not retried**: 401, 403, 404 (the source explains what to fix: the token's variable name, the plan,
  the symbol), other 4xx, and redirect loops (more than ``max_redirects`` hops);
* every attempt first takes a token from the source's bucket (:mod:`gex_fetch.ratelimit`).

Why a small loop rather than tenacity/stamina: the decision needs the *response* (status, ``Retry-After``
header, which must override the backoff), the per-source explanation of 401/403/404 and an injectable clock
and sleep for tests; with either library that is a custom wait strategy plus a custom retry predicate plus
result inspection, i.e. the same code spread over callbacks, and one more dependency. Tests pin every branch.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from gex_fetch.errors import FetchError
from gex_fetch.ratelimit import TokenBucket
from gex_fetch.redact import public_url
from gex_fetch.source import HttpResponse, PlannedRequest, Source

UTC = dt.timezone.utc


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delays in seconds; ``max_attempts`` counts the first try."""

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Delay before attempt ``attempt + 1``: ``base * 2**(attempt-1)`` capped, "equal jitter" (half fixed,
        half uniform) so synchronised clients spread out but never retry immediately."""
        d = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return d / 2 + rng.uniform(0, d / 2)


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` when absent/unusable.

    >>> parse_retry_after("7", utc_now())
    7.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", dt.datetime(2015, 10, 21, 7, 28, tzinfo=UTC))
    30.0
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class Timeouts:
    """Seconds. Read covers the gap between two chunks, not the whole body (a 7 MB NDX chain is fine)."""

    connect_s: float = 10.0
    read_s: float = 60.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_s, connect=self.connect_s, read=self.read_s, write=self.read_s, pool=self.read_s)


class HttpClient:
    """Sends :class:`PlannedRequest` for one source against one base URL; a context manager (one connection
    pool per fetch).

    ``sleep``, ``now`` and ``rng`` are injectable: tests record the delays asked for instead of waiting.
    """

    def __init__(
        self,
        source: Source,
        base_url: str,
        *,
        secret: str | None = None,
        bucket: TokenBucket | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        max_redirects: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime] = utc_now,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source, self.base_url = source, base_url.rstrip("/")
        self._secret, self._bucket = secret, bucket
        self.retry, self.timeouts, self.max_redirects = retry, timeouts, max_redirects
        self._sleep, self._now = sleep, now
        self._rng = rng or random.Random()
        headers = {"User-Agent": source.user_agent}
        if secret is not None and source.auth == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        self._client = httpx.Client(
            headers=headers,
            timeout=timeouts.httpx(),
            follow_redirects=True,
            max_redirects=max_redirects,
            transport=transport,
            trust_env=True,  # proxies from HTTPS_PROXY etc., as users expect
        )
        self.delays: list[float] = []  # every retry delay asked for, seconds (for summaries and tests)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def url_for(self, request: PlannedRequest) -> str:
        """Public URL of ``request`` (base URL + documented path + public query): what logs and bundles show."""
        return public_url(str(httpx.URL(self.base_url + request.path, params=dict(request.params))))

    def _query(self, request: PlannedRequest) -> dict[str, str]:
        params = dict(request.params)
        if self._secret is not None and self.source.auth and self.source.auth.startswith("query:"):
            params[self.source.auth.split(":", 1)[1]] = self._secret
        return params

    def get(self, request: PlannedRequest, symbol: str) -> HttpResponse:
        """Send ``request`` with retries; the 2xx response, or :class:`FetchError` (message names the URL)."""
        shown = self.url_for(request)
        policy = self.retry
        for attempt in range(1, policy.max_attempts + 1):
            if self._bucket is not None:
                self._bucket.acquire()
            requested = self._now()
            retry_after: float | None = None
            last_status: int | None = None
            try:
                r = self._client.get(self.base_url + request.path, params=self._query(request),
                                     headers={"Accept": request.accept})
            except httpx.TooManyRedirects:
                raise FetchError("redirect", f"{shown}: redirect loop (more than {self.max_redirects} redirects); "
                                             "check the base URL of the source") from None
            except httpx.TimeoutException:
                kind, problem = "timeout", f"no complete answer within {self.timeouts.read_s:g} s"
            except httpx.RemoteProtocolError:
                kind, problem = "connection", "the server closed the connection before the end of the response (truncated body)"
            except httpx.TransportError as exc:
                kind, problem = "connection", f"connection failed ({type(exc).__name__})"
            else:
                status = r.status_code
                if 200 <= status < 300:
                    declared = r.headers.get("content-length")
                    if declared and not r.headers.get("content-encoding") and declared.isdigit() and int(declared) != len(r.content):
                        kind, problem = "connection", f"truncated body: {len(r.content):,} of {int(declared):,} bytes"
                    else:
                        return HttpResponse(
                            request=request,
                            url=public_url(str(r.url)),
                            status=status,
                            content_type=r.headers.get("content-type", "").split(";")[0].strip(),
                            body=r.content,
                            requested_at=requested,
                            received_at=self._now(),
                            attempts=attempt,
                        )
                elif status in (401, 403, 404):
                    raise FetchError({401: "auth", 403: "forbidden", 404: "not_found"}[status],
                                     f"{shown}: {self.source.explain(status, symbol)}", status=status)
                elif status == 429 or status >= 500:
                    last_status = status
                    kind = "rate_limited" if status == 429 else "server"
                    problem = f"HTTP {status} {r.reason_phrase}".rstrip()
                    retry_after = parse_retry_after(r.headers.get("retry-after"), self._now())
                    if retry_after is not None and retry_after > policy.max_retry_after_s:
                        raise FetchError(kind, f"{shown}: {problem}; the server asks to wait {retry_after:.0f} s "
                                               f"(more than the {policy.max_retry_after_s:.0f} s cap): fetch again later",
                                         status=status)
                else:
                    raise FetchError("http", f"{shown}: HTTP {status} {r.reason_phrase} (not retried)", status=status)
            if attempt == policy.max_attempts:
                raise FetchError(kind, f"{shown}: {problem}; gave up after {attempt} attempts", status=last_status)
            delay = retry_after if retry_after is not None else policy.backoff_s(attempt, self._rng)
            self.delays.append(delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises
