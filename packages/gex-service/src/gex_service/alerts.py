"""Alerts after a publish: regime change, spot crossing the gamma flip, a wall moving more than a threshold.

Detection (:func:`detect`) is pure: consecutive ``mart.regime_daily`` rows of one underlying (oldest first)
-> :class:`Alert` list. After a nightly publish (:func:`for_published`) a session's row is compared with the
underlying's previous computed session (end-of-day rows: "spot crossing the flip" means the sign of
``spot - gamma_flip`` changed between the two sessions). After an intraday cycle (:func:`for_snapshots`) the
newest snapshot is compared with the snapshot before it (the previous cycle's, or the previous session's
last one at the first cycle of a day): an intraday cross, alerted once, at the first snapshot past the flip.

Sending (:func:`send`) goes through `Apprise <https://github.com/caronc/apprise>`_ to the URLs of the
environment variable ``GEX_ALERT_URLS`` (comma-separated Apprise URLs: ``slack://...``, ``discord://...``,
``mailto://...``, ``json://host/path`` for a webhook). A URL can hold a token: it is never logged, only its
scheme and position (``url #2 (slack://***)``). A failing URL logs one line and the others are still tried;
sending never raises, so a dead webhook never fails the night.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: Environment variable: comma-separated Apprise URLs.
ENV_URLS = "GEX_ALERT_URLS"
#: Environment variable: wall move threshold, percent of the previous wall (default :data:`WALL_MOVE_PCT`).
ENV_WALL_PCT = "GEX_ALERT_WALL_PCT"
WALL_MOVE_PCT = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One alert: ``kind`` is ``regime_change``, ``flip_cross`` or ``wall_move``."""

    kind: str
    underlying: str
    session: dt.date
    message: str


def _num(value: object) -> float | None:
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def detect(rows: Sequence[Mapping[str, object]], wall_move_pct: float = WALL_MOVE_PCT) -> list[Alert]:
    """Alerts between each pair of consecutive rows of one underlying (oldest first; keys: ``underlying``,
    ``session``, ``spot``, ``gamma_flip``, ``regime``, ``call_wall``, ``put_wall``).

    A missing value (NULL flip, unknown regime) never alerts. A wall alerts when it moved strictly more than
    ``wall_move_pct`` percent of its previous level.
    """
    out: list[Alert] = []
    for prev, cur in zip(rows, rows[1:], strict=False):
        u, s = str(cur["underlying"]), cur["session"]
        assert isinstance(s, dt.date)
        label = _label(u, s, cur)
        pr, cr = prev.get("regime"), cur.get("regime")
        if pr and cr and pr != cr:
            out.append(Alert("regime_change", u, s, f"{label}: regime {pr} -> {cr}"))
        ps, pf, cs, cf = (_num(prev.get("spot")), _num(prev.get("gamma_flip")), _num(cur.get("spot")),
                          _num(cur.get("gamma_flip")))
        if None not in (ps, pf, cs, cf):
            before, after = ps - pf, cs - cf  # type: ignore[operator]
            if before * after < 0 or (before != 0 and after == 0):
                side = "above" if after > 0 else "below" if after < 0 else "at"
                out.append(Alert("flip_cross", u, s,
                                 f"{label}: spot {cs:.2f} crossed the gamma flip, now {side} it ({cf:.2f}; was spot {ps:.2f} vs flip {pf:.2f})"))
        for wall in ("call_wall", "put_wall"):
            pw, cw = _num(prev.get(wall)), _num(cur.get(wall))
            if pw and cw is not None:
                moved = (cw / pw - 1) * 100
                if abs(moved) > wall_move_pct:
                    out.append(Alert("wall_move", u, s,
                                     f"{label}: {wall.replace('_', ' ')} {pw:.2f} -> {cw:.2f} ({moved:+.2f}%, threshold {wall_move_pct:g}%)"))
    return out


def _label(underlying: str, session: dt.date, row: Mapping[str, object]) -> str:
    """``SPX 2025-01-03``; for an intraday snapshot row (``intraday`` true, ``valuation_ts`` set) the New York
    time too: ``SPX 2025-01-03 10:35 ET``."""
    label = f"{underlying} {session.isoformat()}"
    at = row.get("valuation_ts")
    if row.get("intraday") and isinstance(at, dt.datetime) and at.tzinfo is not None:
        from zoneinfo import ZoneInfo

        label += f" {at.astimezone(ZoneInfo('America/New_York')):%H:%M} ET"
    return label


def wall_threshold_pct() -> float:
    """``$GEX_ALERT_WALL_PCT`` as a percentage (default :data:`WALL_MOVE_PCT`); a bad value logs and uses the default."""
    raw = os.environ.get(ENV_WALL_PCT, "").strip()
    if not raw:
        return WALL_MOVE_PCT
    try:
        value = float(raw)
        if not math.isfinite(value) or value < 0:
            raise ValueError
        return value
    except ValueError:
        log.warning("%s=%r is not a non-negative percentage; using %g", ENV_WALL_PCT, raw, WALL_MOVE_PCT)
        return WALL_MOVE_PCT


def alert_urls() -> list[str]:
    """The Apprise URLs of ``$GEX_ALERT_URLS`` (comma-separated, blanks dropped)."""
    return [u.strip() for u in os.environ.get(ENV_URLS, "").split(",") if u.strip()]


def redact_url(url: str, index: int) -> str:
    """What a log line may say about a URL: its position and scheme, nothing that could be a token.

    >>> redact_url("slack://T000/B000/XXXX", 2)
    'url #2 (slack://***)'
    """
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    scheme = scheme if scheme.isalnum() and len(scheme) <= 16 else "?"
    return f"url #{index} ({scheme}://***)"


def send(alerts: Iterable[Alert], urls: Sequence[str] | None = None, title: str = "GEX alerts") -> int:
    """Send ``alerts`` as one message to each URL (default :func:`alert_urls`); returns how many URLs
    accepted it. Never raises: a bad URL or a failed delivery logs one redacted line."""
    batch = list(alerts)
    targets = alert_urls() if urls is None else list(urls)
    if not batch or not targets:
        return 0
    body = "\n".join(a.message for a in batch)
    import apprise  # imported here: only a publish with alerts and URLs needs it

    delivered = 0
    for i, url in enumerate(targets, 1):
        where = redact_url(url, i)
        try:
            ap = apprise.Apprise()
            if not ap.add(url):
                log.warning("alerts: %s is not a URL Apprise understands; skipped", where)
                continue
            if ap.notify(title=title, body=body):
                delivered += 1
            else:
                log.warning("alerts: delivery to %s failed (%d alerts not sent there)", where, len(batch))
        except Exception as exc:  # a notification plugin's bug must not fail the night either
            log.warning("alerts: delivery to %s failed: %s", where, type(exc).__name__)
    return delivered


def for_published(con: duckdb.DuckDBPyConnection, sessions: Iterable[tuple[str, dt.date]],
                  wall_move_pct: float | None = None) -> list[Alert]:
    """Alerts of the newest published session of each underlying in ``sessions`` against the underlying's
    previous computed session (native rows). Only the newest: a backfill or ``publish --force`` rewrites a
    whole history, and a trader wants today's changes, not a replay of every past one."""
    from gex_warehouse.levels_feed import native_rows_many

    threshold = wall_threshold_pct() if wall_move_pct is None else wall_move_pct
    newest: dict[str, dt.date] = {}
    for u, s in sessions:
        newest[u] = max(s, newest.get(u, s))
    out: list[Alert] = []
    every = native_rows_many(con, newest)
    for u in sorted(newest):
        rows = every.get(u, [])
        idx = next((i for i, r in enumerate(rows) if r["session"] == newest[u]), None)
        if idx:  # None (no native row) or 0 (no previous session): nothing to compare
            out.extend(detect(rows[idx - 1: idx + 1], threshold))
    return out


#: Columns of a snapshot row that :func:`detect` reads (``mart.regime_daily``, one row per snapshot).
_SNAPSHOT_COLUMNS = "underlying, session, valuation_ts, intraday, spot, gamma_flip, regime, call_wall, put_wall"


def for_snapshots(con: duckdb.DuckDBPyConnection, underlyings: Iterable[str],
                  wall_move_pct: float | None = None) -> list[Alert]:
    """Intraday alerts: the newest native snapshot of each of ``underlyings`` against the snapshot before
    it (ordered by valuation instant, across sessions: the first snapshot of a day is compared with the
    previous session's last, usually its end-of-day row). Run after each intraday cycle, so each crossing,
    regime change or wall move is alerted once, at the first snapshot showing it."""
    threshold = wall_threshold_pct() if wall_move_pct is None else wall_move_pct
    out: list[Alert] = []
    for u in sorted(set(underlyings)):
        cur = con.execute(
            f"SELECT {_SNAPSHOT_COLUMNS} FROM mart.regime_daily WHERE underlying = ? AND preset = 'native' "
            "ORDER BY valuation_ts DESC LIMIT 2", [u])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        out.extend(detect(rows[::-1], threshold))
    return out
