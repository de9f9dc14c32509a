"""Fetching one (source, symbol) into the archive, and many of them with bounded concurrency.

:func:`fetch_one` never raises for a problem with the source, the network, the response or the user's
settings: it returns a :class:`FetchOutcome` ``failed`` with a one-line reason (secrets redacted) and writes
a manifest line. :func:`fetch_many` runs several in threads; even an unexpected error (a bug) in one
symbol becomes that symbol's ``failed`` outcome (kind ``internal``) and the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from gex import calendar
from gex_sources.bundle import BundleResponse, FetchBundle, response_name, utc_instant, write_bundle

from gex_fetch import archive
from gex_fetch.errors import FetchError
from gex_fetch.http import HttpClient, RetryPolicy, Timeouts, utc_now
from gex_fetch.ratelimit import TokenBucket, bucket_for
from gex_fetch.redact import MissingSecret, install_log_filters, read_secret, redact
from gex_fetch.source import HttpResponse, Source
from gex_fetch.sources import get_source
from gex_fetch.symbols import SymbolError, normalise

log = logging.getLogger("gex_fetch")

#: Default number of (source, symbol) fetches in flight at once (each source's rate still applies).
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class FetchOutcome:
    """What happened to one (source, symbol): ``fetched``, ``unchanged`` (same content as the latest bundle of
    that source/symbol/session: nothing written) or ``failed`` (``reason`` says why, ``kind`` how)."""

    source: str
    symbol: str
    status: str  # fetched | unchanged | failed
    reason: str | None = None
    kind: str | None = None  # a FetchError kind, or "internal" for a bug
    path: str | None = None  # the bundle written (fetched) or matched (unchanged)
    as_of_session: dt.date | None = None
    requests: int = 0
    bytes: int = 0
    content_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def line(self) -> str:
        """One human line: ``cboe SPX 2024-07-15: fetched (1 request, 3.5 MB) -> path``."""
        head = f"{self.source} {self.symbol}" + (f" {self.as_of_session}" if self.as_of_session else "")
        if self.status == "failed":
            return f"{head}: failed: {self.reason}"
        size = f"{self.requests} request{'s' if self.requests != 1 else ''}, {self.bytes / 1e6:.2f} MB"
        return f"{head}: {self.status} ({size}) -> {self.path}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of_session"] = self.as_of_session.isoformat() if self.as_of_session else None
        return d


@dataclass(frozen=True)
class FetchSettings:
    """How to fetch from one source. ``None`` fields take the source's defaults.

    ``base_url`` replaces scheme and host (and may add a path prefix), keeping the documented path; when
    ``None`` the environment variable ``GEX_<SOURCE>_BASE_URL`` is used, else the real service. ``secret_env``
    is the *name* of the variable holding the credential. ``sleep``/``now``/``rng``/``transport`` are for tests.
    """

    base_url: str | None = None
    secret_env: str | None = None
    rate_per_s: float | None = None
    burst: int | None = None
    retry: RetryPolicy = RetryPolicy()
    timeouts: Timeouts = Timeouts()
    session: dt.date | None = None
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = utc_now
    rng: random.Random | None = None
    transport: httpx.BaseTransport | None = None
    bucket: TokenBucket | None = field(default=None, repr=False)


def resolve_base_url(source: Source, override: str | None) -> str:
    """The base URL to use: ``override``, else ``$GEX_<SOURCE>_BASE_URL``, else the real service."""
    raw = override or os.environ.get(source.base_url_env) or source.default_base_url
    url = httpx.URL(raw.strip())
    if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        raise FetchError("config", f"base URL {redact(raw)!r} for {source.name} must be http(s)://host[:port][/prefix] "
                                   "with no query")
    return str(url).rstrip("/")


def _secret(source: Source, settings: FetchSettings) -> str | None:
    name = settings.secret_env or source.secret_env
    if name is None:
        return None
    try:
        return read_secret(name)
    except MissingSecret:
        raise FetchError("config", f"{source.name} needs a credential: set the environment variable {name} "
                                   f"(the watchlist names the variable with token_env)") from None


def _bundle(source: Source, symbol: str, session: dt.date | None, responses: list[HttpResponse]) -> FetchBundle:
    items = tuple(
        BundleResponse(
            name=response_name(i, r.content_type),
            role=r.request.role,
            url=r.url,
            params=dict(r.request.params),
            status=r.status,
            content_type=r.content_type,
            requested_at=utc_instant(r.requested_at),
            received_at=utc_instant(r.received_at),
            body=r.body,
        )
        for i, r in enumerate(responses)
    )
    return FetchBundle(source.name, source.bundle_symbol(symbol), session, items[0].requested_at, items[-1].received_at, items)


def _relative(path: Path, landing: str | os.PathLike[str]) -> str:
    """``path`` relative to the landing folder (the manifest stays valid when the archive moves)."""
    try:
        return path.relative_to(Path(landing)).as_posix()
    except ValueError:
        return str(path)


def _download(source: Source, symbol: str, client: HttpClient, session: dt.date | None) -> tuple[list[HttpResponse], list[Any]]:
    queue = deque(source.requests_for(symbol, session))
    responses: list[HttpResponse] = []
    documents: list[Any] = []
    while queue:
        if len(responses) >= source.max_requests:
            raise FetchError("invalid", f"{source.name} {symbol}: more than {source.max_requests} requests needed; stopped")
        response = client.get(queue.popleft(), symbol)
        document = source.validate(symbol, response)
        responses.append(response)
        documents.append(document)
        queue.extend(source.follow_up(symbol, response, document))
    source.check_complete(symbol, responses, documents)
    return responses, documents


def fetch_one(source: str | Source, symbol: str, landing: str | os.PathLike[str],
              settings: FetchSettings | None = None) -> FetchOutcome:
    """Fetch ``symbol`` from ``source`` into ``<landing>/fetch``; see the module docstring."""
    install_log_filters()
    settings = settings or FetchSettings()
    src = source if isinstance(source, Source) else None
    name = src.name if src else str(source)
    shown_symbol = symbol.strip().upper().lstrip("^_$") or symbol
    started = settings.now()
    row: dict[str, Any] = {"source": name, "symbol": shown_symbol, "requested_at": utc_instant(started)}
    client: HttpClient | None = None
    try:
        src = src or get_source(name)
        sym = normalise(symbol)
        base = resolve_base_url(src, settings.base_url)
        secret = _secret(src, settings)
        bucket = settings.bucket or bucket_for(src.name, settings.rate_per_s or src.rate_per_s, settings.burst or src.burst)
        client = HttpClient(src, base, secret=secret, bucket=bucket, retry=settings.retry, timeouts=settings.timeouts,
                            sleep=settings.sleep, now=settings.now, rng=settings.rng, transport=settings.transport)
        row["url"] = client.url_for(src.requests_for(sym, settings.session)[0])
        responses, documents = _download(src, sym, client, settings.session)
        session = src.as_of_session(sym, responses, documents)
        bundle = _bundle(src, sym, session, responses)
        folder = archive.bundle_folder(landing, src.name, sym, session)
        summary = archive.bundle_summary(bundle)
        row.update(summary, received_at=bundle.received_at, as_of_session=session.isoformat() if session else None,
                   attempts=sum(r.attempts for r in responses))
        latest = archive.latest_content_sha256(folder, src.name)
        if latest is not None and latest[1] == summary["content_sha256"]:
            outcome = FetchOutcome(src.name, sym, "unchanged", path=str(latest[0]), as_of_session=session,
                                   requests=summary["requests"], bytes=summary["bytes"],
                                   content_sha256=summary["content_sha256"])
            row.update(outcome="unchanged", path=_relative(latest[0], landing), sha256=None)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path = archive.bundle_path(folder, src.name, sym, session, responses[-1].received_at)
            row["sha256"] = write_bundle(path, bundle)
            row.update(outcome="fetched", path=_relative(path, landing))
            outcome = FetchOutcome(src.name, sym, "fetched", path=str(path), as_of_session=session,
                                   requests=summary["requests"], bytes=summary["bytes"],
                                   content_sha256=summary["content_sha256"])
    except (FetchError, SymbolError) as exc:
        kind = exc.kind if isinstance(exc, FetchError) else "config"
        status = exc.status if isinstance(exc, FetchError) else None
        outcome = FetchOutcome(name, shown_symbol, "failed", reason=redact(str(exc)), kind=kind)
        row.update(outcome="failed", reason=outcome.reason, reason_kind=kind, status=status,
                   received_at=utc_instant(settings.now()))
    except OSError as exc:  # the archive cannot be written (disk full, permissions): this symbol fails
        outcome = FetchOutcome(name, shown_symbol, "failed", reason=redact(f"cannot write the archive: {exc}"), kind="config")
        row.update(outcome="failed", reason=outcome.reason, reason_kind="config", received_at=utc_instant(settings.now()))
    finally:
        if client is not None:
            client.close()
    try:
        archive.append_manifest(landing, row)
    except OSError as exc:
        log.warning("cannot append to the fetch manifest under %s: %s", landing, exc)
    (log.info if outcome.ok else log.warning)("%s", outcome.line())
    return outcome


def fetch_many(jobs: Iterable[tuple[str, str]], landing: str | os.PathLike[str], *,
               settings: Mapping[str, FetchSettings] | None = None,
               concurrency: int = DEFAULT_CONCURRENCY) -> list[FetchOutcome]:
    """Fetch every ``(source, symbol)`` of ``jobs`` (at most ``concurrency`` at once; each source's rate still
    applies across them); outcomes in the order of ``jobs``. One job failing, even by a bug, never stops
    the others."""
    jobs = list(jobs)
    per_source = dict(settings or {})

    def run(job: tuple[str, str]) -> FetchOutcome:
        source, symbol = job
        try:
            return fetch_one(source, symbol, landing, per_source.get(source))
        except Exception as exc:  # noqa: BLE001 - a bug in one fetch must not stop the others; reported as such
            log.exception("internal error fetching %s %s", source, symbol)
            return FetchOutcome(source, symbol, "failed", reason=redact(f"internal error: {type(exc).__name__}: {exc}"),
                                kind="internal")

    calendar.nyse()  # load the exchange calendar once, before threads race to (its loader is not thread-safe)
    if concurrency <= 1 or len(jobs) <= 1:
        return [run(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(jobs)), thread_name_prefix="gex-fetch") as pool:
        return list(pool.map(run, jobs))


def with_base_url(settings: FetchSettings | None, base_url: str | None) -> FetchSettings:
    """``settings`` with ``base_url`` set (when given)."""
    s = settings or FetchSettings()
    return replace(s, base_url=base_url) if base_url else s


__all__ = ["FetchOutcome", "FetchSettings", "fetch_many", "fetch_one", "resolve_base_url", "with_base_url"]
