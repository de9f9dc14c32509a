"""Secrets: read by environment variable *name*, remembered, and scrubbed from every text we write.

A secret value never reaches a file, a log line, a manifest row, an exception message or a Prefect artifact:

* credentials are read only through :func:`read_secret` (by the variable's name), which remembers the value;
* :func:`redact` replaces every remembered value (and anything that looks like a credential in a URL query
  or an ``Authorization`` header) by ``***`` - the fetch layer passes every message, URL and log line
  through it;
* :func:`install_log_filters` puts a redacting filter on the loggers of httpx/httpcore (which log request
  URLs, query keys included, at INFO) and of this package.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

#: Query parameter names that carry credentials (compared case-insensitively).
SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token", "client_secret", "password", "secret"})
#: Header names that carry credentials (lower case).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})

_lock = threading.Lock()
_known: set[str] = set()
#: Shortest value remembered: a shorter "secret" would redact ordinary words and numbers.
MIN_SECRET_CHARS = 6

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_QUERY = re.compile(r"(?i)([?&](?:" + "|".join(sorted(SECRET_PARAMS)) + r")=)[^&\s\"'#]+")


class MissingSecret(LookupError):
    """The environment variable that should hold a credential is unset or empty."""

    def __init__(self, env: str) -> None:
        super().__init__(env)
        self.env = env


def remember(value: str) -> None:
    """Treat ``value`` as a secret from now on (it will be masked wherever :func:`redact` runs)."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _lock:
            _known.add(value)


def read_secret(env: str) -> str:
    """The value of the environment variable named ``env``, remembered as a secret.

    Raises :class:`MissingSecret` (carrying only the *name*) when it is unset or blank.
    """
    value = os.environ.get(env, "").strip()
    if not value:
        raise MissingSecret(env)
    remember(value)
    return value


def redact(text: str) -> str:
    """``text`` with every remembered secret, bearer token and credential query value replaced by ``***``.

    >>> redact("GET https://x/v3/snapshot?limit=250&apiKey=abc123def&cursor=Z")
    'GET https://x/v3/snapshot?limit=250&apiKey=***&cursor=Z'
    >>> redact("Authorization: Bearer eyJhbGciOi.x-y")
    'Authorization: Bearer ***'
    """
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _QUERY.sub(lambda m: m.group(1) + MASK, text)


def public_url(url: str) -> str:
    """``url`` without credential query parameters (dropped, not masked: it is what the archive records).

    >>> public_url("https://api.polygon.io/v3/snapshot/options/SPY?cursor=abc&apiKey=SECRET1&limit=250")
    'https://api.polygon.io/v3/snapshot/options/SPY?cursor=abc&limit=250'
    """
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
    clean = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, urlencode(query, safe="$:,/"), ""))
    return redact(clean)


def public_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers with credential headers masked (for logs and error messages only; never archived)."""
    return {k: (MASK if k.lower() in SECRET_HEADERS else redact(v)) for k, v in headers.items()}


class RedactingFilter(logging.Filter):
    """Formats each record and masks secrets in the result (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record: leave it to logging's own error path
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        return True


_FILTER = RedactingFilter()
LOGGERS = ("httpx", "httpcore", "gex_fetch")


def install_log_filters() -> None:
    """Put the redacting filter on the loggers that can see URLs (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
