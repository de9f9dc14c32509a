"""The watchlist: what to fetch, from where, when, and which environment variable holds each credential.

TOML (stdlib ``tomllib``), see ``deploy/watchlist.example.toml``::

    time = "16:20"          # New York, for a regular close; shifted on early closes (gex_fetch.schedule)
    concurrency = 4         # fetches in flight at once

    [[watch]]
    source = "cboe"
    symbols = ["SPX", "SPY", "QQQ"]

    [[watch]]
    source = "tradier"
    symbols = ["SPX"]
    token_env = "TRADIER_TOKEN"     # the NAME of the variable; the token itself never goes in a file
    base_url = "https://sandbox.tradier.com"   # optional
    rate_per_s = 2                  # optional pace

A value that looks like a credential (keys ``token``, ``api_key``, ``apikey``, ``secret``, ``password``) is
refused: the file names variables, it never holds secrets.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gex_fetch.fetcher import DEFAULT_CONCURRENCY, FetchOutcome, FetchSettings, fetch_many
from gex_fetch.schedule import parse_time
from gex_fetch.sources import SOURCES
from gex_fetch.symbols import SymbolError, normalise

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_FORBIDDEN = {"token", "api_key", "apikey", "secret", "password", "access_token", "key"}
_TOP = {"time", "concurrency", "landing", "watch"}
_ENTRY = {"source", "symbols", "token_env", "base_url", "rate_per_s", "burst"}


class WatchlistError(ValueError):
    """A watchlist file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class WatchEntry:
    source: str
    symbols: tuple[str, ...]
    token_env: str | None = None
    base_url: str | None = None
    rate_per_s: float | None = None
    burst: int | None = None


@dataclass(frozen=True)
class Watchlist:
    entries: tuple[WatchEntry, ...]
    time: dt.time = dt.time(16, 20)
    concurrency: int = DEFAULT_CONCURRENCY
    landing: str | None = None
    path: str | None = None

    def jobs(self) -> list[tuple[str, str]]:
        """Every (source, symbol) in file order, duplicates dropped."""
        seen: dict[tuple[str, str], None] = {}
        for e in self.entries:
            for s in e.symbols:
                seen.setdefault((e.source, s), None)
        return list(seen)

    def settings(self, base_urls: Mapping[str, str] | None = None, **common: Any) -> dict[str, FetchSettings]:
        """Per-source settings (``base_urls`` {source: url} overrides the file's base_url)."""
        out: dict[str, FetchSettings] = {}
        for e in self.entries:
            s = FetchSettings(base_url=(base_urls or {}).get(e.source) or e.base_url, secret_env=e.token_env,
                              rate_per_s=e.rate_per_s, burst=e.burst)
            out[e.source] = replace(s, **common) if common else s
        return out


def _fail(path: str, message: str) -> WatchlistError:
    return WatchlistError(f"{path}: {message}")


def parse_watchlist(doc: Mapping[str, Any], path: str = "<watchlist>") -> Watchlist:
    """Validate a parsed TOML document (see the module docstring)."""
    unknown = set(doc) - _TOP
    if unknown & _FORBIDDEN or any(set(e) & _FORBIDDEN for e in doc.get("watch", []) if isinstance(e, dict)):
        raise _fail(path, "holds a credential: put it in an environment variable and name that variable with token_env")
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_TOP))}")
    try:
        at = parse_time(str(doc.get("time", "16:20")))
    except ValueError as exc:
        raise _fail(path, str(exc)) from None
    concurrency = doc.get("concurrency", DEFAULT_CONCURRENCY)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 32:
        raise _fail(path, f"concurrency must be an integer from 1 to 32, not {concurrency!r}")
    watch = doc.get("watch")
    if not isinstance(watch, list) or not watch:
        raise _fail(path, "no [[watch]] entry (each gives a source and its symbols)")
    entries = []
    for i, e in enumerate(watch, 1):
        where = f"[[watch]] #{i}"
        if not isinstance(e, dict):
            raise _fail(path, f"{where} is not a table")
        extra = set(e) - _ENTRY
        if extra:
            raise _fail(path, f"{where}: unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(_ENTRY))}")
        source = str(e.get("source", "")).lower()
        if source not in SOURCES:
            raise _fail(path, f"{where}: unknown source {e.get('source')!r}; choose one of {', '.join(SOURCES)}")
        symbols = e.get("symbols")
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
            raise _fail(path, f"{where} ({source}): symbols must be a non-empty list of strings")
        try:
            syms = tuple(normalise(s) for s in symbols)
        except SymbolError as exc:
            raise _fail(path, f"{where} ({source}): {exc}") from None
        token_env = e.get("token_env")
        if token_env is not None and not (isinstance(token_env, str) and _ENV_NAME.fullmatch(token_env)):
            raise _fail(path, f"{where} ({source}): token_env must be an environment variable NAME such as TRADIER_TOKEN")
        rate = e.get("rate_per_s")
        if rate is not None and not (isinstance(rate, (int, float)) and 0 < rate <= 100):
            raise _fail(path, f"{where} ({source}): rate_per_s must be a number in (0, 100]")
        burst = e.get("burst")
        if burst is not None and not (isinstance(burst, int) and 1 <= burst <= 100):
            raise _fail(path, f"{where} ({source}): burst must be an integer from 1 to 100")
        base_url = e.get("base_url")
        if base_url is not None and not (isinstance(base_url, str) and base_url.startswith(("http://", "https://"))):
            raise _fail(path, f"{where} ({source}): base_url must start with http:// or https://")
        entries.append(WatchEntry(source, syms, token_env, base_url, float(rate) if rate else None, burst))
    landing = doc.get("landing")
    return Watchlist(tuple(entries), at, concurrency, str(landing) if landing else None, path)


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and validate a watchlist TOML file; :class:`WatchlistError` naming the file (and line) otherwise."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WatchlistError(f"{p}: cannot read watchlist: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistError(f"{p}: not valid TOML: {exc}") from None
    return parse_watchlist(doc, str(p))


def fetch_watchlist(watchlist: Watchlist | str | os.PathLike[str], landing: str | os.PathLike[str], *,
                    base_urls: Mapping[str, str] | None = None, **common: Any) -> list[FetchOutcome]:
    """Fetch every (source, symbol) of ``watchlist`` (a :class:`Watchlist` or a TOML path) into ``landing``.

    ``base_urls`` ({source: URL}) overrides the sources' base URLs (the demo's local server, a proxy);
    ``common`` are :class:`~gex_fetch.fetcher.FetchSettings` fields applied to every source (tests inject
    ``sleep``/``retry``). Outcomes in watchlist order; one failing never stops the others.
    """
    wl = watchlist if isinstance(watchlist, Watchlist) else load_watchlist(watchlist)
    return fetch_many(wl.jobs(), landing, settings=wl.settings(base_urls, **common), concurrency=wl.concurrency)
