"""The one error the fetch layer raises for a problem with a source, a response or the user's settings.

Every :class:`FetchError` message is one line, says what happened and what to do, and has been through
:func:`gex_fetch.redact.redact` (no secret value can be in it). The fetcher turns it into a ``failed``
outcome with the message as the reason; it never escapes as a traceback to the user.
"""

from __future__ import annotations

from gex_fetch.redact import redact

#: Kinds of failure (stable strings, recorded in the manifest's ``reason_kind``).
KINDS = (
    "auth",  # 401: the token is missing, wrong or expired
    "forbidden",  # 403: refused (plan, entitlement, or a CDN taking us for a bot)
    "not_found",  # 404 / unknown symbol
    "rate_limited",  # 429 still after the retries (or Retry-After beyond the cap)
    "server",  # 5xx still after the retries
    "timeout",  # no answer within the timeout, after the retries
    "connection",  # refused / reset / truncated body, after the retries
    "redirect",  # a redirect loop or too many redirects
    "http",  # another 4xx status
    "invalid",  # a 200 whose body is not what was asked (HTML, truncated JSON, other symbol, empty, ...)
    "not_ready",  # the source has no usable data yet (Cboe's opening reset): fetch again later
    "config",  # a missing credential or a bad setting
)


class FetchError(Exception):
    """A fetch failed; ``kind`` is one of :data:`KINDS`, ``status`` the last HTTP status (or None)."""

    def __init__(self, kind: str, message: str, *, status: int | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fetch error kind {kind!r}")
        clean = redact(" ".join(str(message).split()))  # one line, no secret
        super().__init__(clean)
        self.kind = kind
        self.status = status

    @property
    def reason(self) -> str:
        return str(self)
