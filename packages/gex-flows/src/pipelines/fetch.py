"""Flow ``fetch``: one task per (source, symbol) of a watchlist, into the landing archive.

Tasks are thin wrappers over :func:`gex_fetch.fetch_one`, which retries HTTP itself (backoff, jitter,
``Retry-After``; never on 401/403/404): Prefect task retries are deliberately **not** used (they would
multiply the vendor's requests and bypass the source's rate). A task never fails for a fetch problem (the
outcome says ``failed`` with the reason); even a bug in one task becomes that symbol's ``failed`` outcome,
so one symbol never stops the others. Concurrency is bounded by the watchlist's ``concurrency`` (the thread
pool's size) and each source's request rate is shared by all its tasks (one token bucket per process).

Task parameters hold environment variable *names*, never credentials (Prefect records parameters). The
summary table artifact (key ``gex-fetch-outcomes``) lists each symbol as fetched, unchanged or failed.

    python -m pipelines.fetch WATCHLIST LANDING
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from gex_fetch import FetchOutcome, FetchSettings, Watchlist, fetch_one, load_watchlist
from gex_fetch.redact import redact
from gex_fetch.watchlist import WatchEntry
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

ARTIFACT_KEY = "gex-fetch-outcomes"


@task(name="fetch-symbol", cache_policy=NO_CACHE, retries=0, task_run_name="fetch-{source}-{symbol}")
def fetch_symbol(source: str, symbol: str, landing: str, base_url: str | None = None, token_env: str | None = None,
                 rate_per_s: float | None = None, burst: int | None = None) -> FetchOutcome:
    """Fetch one symbol (see :func:`gex_fetch.fetch_one`); always returns an outcome."""
    settings = FetchSettings(base_url=base_url, secret_env=token_env, rate_per_s=rate_per_s, burst=burst)
    return fetch_one(source, symbol, landing, settings)


def _entries(watchlist: Watchlist, base_urls: Mapping[str, str] | None) -> list[dict[str, Any]]:
    out = []
    for e in watchlist.entries:
        d = asdict(e)
        d["symbols"] = list(e.symbols)
        if base_urls and e.source in base_urls:
            d["base_url"] = base_urls[e.source]
        out.append(d)
    return out


def outcome_table(outcomes: list[FetchOutcome]) -> list[dict[str, Any]]:
    """Rows of the summary artifact (reasons already redacted; redacted again as a last guard)."""
    return [{"source": o.source, "symbol": o.symbol, "status": o.status,
             "as_of_session": o.as_of_session.isoformat() if o.as_of_session else "",
             "requests": o.requests, "mb": round(o.bytes / 1e6, 3), "reason": redact(o.reason or "")}
            for o in outcomes]


@flow(name="fetch")
def fetch(entries: list[dict[str, Any]], landing: str) -> list[FetchOutcome]:
    """Fetch every (source, symbol) of ``entries`` (the watchlist's ``[[watch]]`` tables: source, symbols,
    token_env, base_url, rate_per_s, burst) into ``<landing>/fetch``. Outcomes in watchlist order."""
    logger = get_run_logger()
    os.makedirs(landing, exist_ok=True)
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for e in entries:
        for s in e["symbols"]:
            if (e["source"], s) not in seen:
                seen.add((e["source"], s))
                jobs.append((e["source"], s, {k: e.get(k) for k in ("base_url", "token_env", "rate_per_s", "burst")}))
    futures = [fetch_symbol.submit(src, sym, landing, **opts) for src, sym, opts in jobs]
    outcomes: list[FetchOutcome] = []
    for (src, sym, _), fut in zip(jobs, futures):
        try:
            outcomes.append(fut.result())
        except Exception as exc:  # noqa: BLE001 - a bug in one task must not stop the others
            outcomes.append(FetchOutcome(src, sym, "failed", reason=redact(f"internal error: {type(exc).__name__}: {exc}"),
                                         kind="internal"))
    for o in outcomes:
        (logger.info if o.ok else logger.warning)("%s", redact(o.line()))
    create_table_artifact(key=ARTIFACT_KEY, table=outcome_table(outcomes),
                          description="Fetch outcomes: fetched, unchanged (same content as the archive's latest) or failed with the reason.")
    return outcomes


def fetch_watchlist(watchlist: Watchlist | str | os.PathLike[str], landing: str | os.PathLike[str], *,
                    base_urls: Mapping[str, str] | None = None) -> list[FetchOutcome]:
    """Run the ``fetch`` flow over ``watchlist`` (a :class:`~gex_fetch.Watchlist` or a TOML path) into
    ``landing``, with at most ``watchlist.concurrency`` fetches in flight; ``base_urls`` {source: URL}
    overrides base URLs (the demo's local server). Call it inside another flow to run it as a subflow."""
    wl = watchlist if isinstance(watchlist, Watchlist) else load_watchlist(watchlist)
    runner = fetch.with_options(task_runner=ThreadPoolTaskRunner(max_workers=wl.concurrency))
    return runner(_entries(wl, base_urls), str(landing))


__all__ = ["ARTIFACT_KEY", "WatchEntry", "fetch", "fetch_symbol", "fetch_watchlist", "outcome_table"]

if __name__ == "__main__":
    for outcome in fetch_watchlist(sys.argv[1], sys.argv[2]):
        print(outcome.line())
