"""What an export must rewrite: per (underlying, session) fingerprints of every input of the published views,
and per view the sessions whose files are out of date.

A published view's rows of a session depend on that session's computation (its chain load, conventions, code
version, the schema's migration level and the export layout: the **chain** component, unchanged from the
fingerprint of earlier versions) and, for some views, on inputs that arrive or change later:

``closes_behind``
    the daily bars up to :data:`CLOSES_BEHIND_BARS` bars before the session (realised vol over 21 returns,
    the scanner's 20-session average dollar volume, and the hedge advice computed from that vol);
``closes_ahead``
    the bars up to :data:`CLOSES_AHEAD_BARS` bars after it (``level_outcomes``' forward moves and vols), so a
    close loaded tonight changes the last ~22 sessions of its underlying in those views only;
``latest``
    which underlyings' latest row the session is, and the latest session of the warehouse (``data_stale``:
    true on an underlying's latest row when another underlying has a later session);
``hedge``
    the hedge settings and enabled templates (no view reads them: a change recomputes ``mart.hedge_advice``,
    see :attr:`ExportPlan.advice_keys`);
``advice``
    the session's rows of ``mart.hedge_advice`` (recomputed by the publish, from the realised vol and the
    settings, after the session was computed);
``runs``
    the session's rows of ``mart.runs`` (every attempt is logged, a failed one without any other row).

Which view reads which input is found from the catalogue (:func:`view_inputs`: the view definitions, followed
transitively), so a new view is classified without code changes. A changed chain component makes the pair
and every later session of its underlying stale in every view (some views look back or forward over the
underlying's computed sessions); a changed input component makes the pair's session stale in the views that
read that input only. So a night's export is the new session's files plus the recent sessions of the few small
views that read the closes (not measured at whole-market scale; the tests check which files are rewritten).

The bar and row hashes use DuckDB's ``hash()``: a DuckDB release that changes it changes every input component
once, which rewrites the input-reading views of every session once (correct, only slower).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from gex_warehouse.digest import VOLATILE_COLUMNS

#: Version of the folder layout, part of every chain component: 1 was ``<view>/underlying=U/session=D/``, 2 is
#: ``<view>/session=D/``. Changing it makes every exported session stale, so one export moves them all.
EXPORT_LAYOUT = 2
#: Bars before a session its rows may read: 21 returns need 22 closes (rv_21d), plus one spare.
CLOSES_BEHIND_BARS = 23
#: Bars after a session its rows may read: 21 forward returns need the session's close and 21 more, plus one.
CLOSES_AHEAD_BARS = 23

CHAIN, CLOSES_BEHIND, CLOSES_AHEAD, LATEST, HEDGE, ADVICE, RUNS = (
    "chain", "closes_behind", "closes_ahead", "latest", "hedge", "advice", "runs")
#: The input components, in the order they are written into ``mart.export_state.fingerprint``.
INPUTS = (CLOSES_BEHIND, CLOSES_AHEAD, LATEST, HEDGE, ADVICE, RUNS)

#: Relations whose inputs are known; the walk over the catalogue stops at them. ``raw.underlying_closes`` read
#: by anything else is taken as both windows (the safe side).
KNOWN_INPUTS: dict[str, frozenset[str]] = {
    "core.realized_vol": frozenset({CLOSES_BEHIND}),
    "core.dollar_volume": frozenset({CLOSES_BEHIND}),
    "core.forward_outcomes": frozenset({CLOSES_AHEAD}),
    "raw.underlying_closes": frozenset({CLOSES_BEHIND, CLOSES_AHEAD}),
    # recomputed by the publish from the session's realised vol and the settings (gex_warehouse.advice)
    "mart.hedge_advice": frozenset({ADVICE}),
    "mart.runs": frozenset({RUNS}),
    "core.settings": frozenset({HEDGE}),
    "core.hedge_templates": frozenset({HEDGE}),
}
#: Views with a column computed across underlyings from the latest sessions (``data_stale``), and what reads them.
LATEST_VIEWS = frozenset({"main.regime_daily"})

_RELATION = re.compile(r"\b(core|main|mart|raw|meta)\s*\.\s*\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.IGNORECASE)


def view_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset[str]]:
    """Published view name -> the input components (:data:`INPUTS`) its rows read, from the view definitions of
    the warehouse's catalogue, followed through other views (``schema.name`` references; the project's SQL
    always qualifies relations). A view reading none of them depends on its sessions' computation only."""
    rows = con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND NOT internal AND NOT temporary"
    ).fetchall()
    refs = {f"{s}.{v}".lower(): {f"{a}.{b}".lower() for a, b in _RELATION.findall(sql or "")} for s, v, sql in rows}

    def inputs_of(name: str, seen: set[str]) -> set[str]:
        found = {LATEST} if name in LATEST_VIEWS else set()
        for ref in refs.get(name, ()):
            if ref in seen:
                continue
            seen.add(ref)
            found |= KNOWN_INPUTS[ref] if ref in KNOWN_INPUTS else inputs_of(ref, seen)
        return found

    return {v: frozenset(inputs_of(f"main.{v}".lower(), {f"main.{v}".lower()})) for s, v, _ in rows if s == "main"}


@dataclass(frozen=True)
class Fingerprint:
    """What one (underlying, session)'s exported rows were computed from, component by component."""

    chain: str
    inputs: tuple[str | None, ...] = (None,) * len(INPUTS)  # in INPUTS order; None: unknown (an earlier version)

    def encode(self) -> str:
        """``chain;closes_behind=...;closes_ahead=...;latest=...;hedge=...`` (``mart.export_state.fingerprint``)."""
        return ";".join([self.chain, *(f"{n}={v}" for n, v in zip(INPUTS, self.inputs))])

    @classmethod
    def decode(cls, text: str) -> Fingerprint:
        """The stored text back; an earlier version's plain MD5 is its chain component, with every input unknown."""
        chain, *parts = text.split(";")
        given = dict(p.split("=", 1) for p in parts if "=" in p)
        return cls(chain, tuple(given.get(n) for n in INPUTS))

    def changed_since(self, old: Fingerprint | None) -> frozenset[str]:
        """Components that differ from ``old`` (``{"chain"}`` alone when the computation changed or nothing was
        exported: everything is rewritten then)."""
        if old is None or old.chain != self.chain:
            return frozenset({CHAIN})
        return frozenset(n for n, a, b in zip(INPUTS, self.inputs, old.inputs) if a != b)


def _fingerprint_sql() -> str:
    """A query of every (underlying, session)'s components now: ``underlying, session, chain, closes_behind,
    closes_ahead, latest, hedge, advice, encoded`` (``encoded`` = :meth:`Fingerprint.encode`). The pairs are the
    computed ones and those with only a daily bar (``vol_context`` shows a bar without a chain) or a logged
    attempt (a failed one); their chain component is empty.

    Each daily bar is hashed (all its sources' rows); a session's window of bars is summed over bar indices
    (the bar count up to the session), so a bar added or changed anywhere in the window changes it and bars
    outside it never do, whatever the calendar gaps. Run in SQL, so a year of a whole market (a million pairs)
    costs the engine's window scans, and Python sees only the pairs that changed.
    """
    encoded = " || ".join(["chain"] + [f"';{n}=' || {n}" for n in INPUTS])
    return f"""
        WITH chain AS (
            SELECT underlying, session,
                   md5(string_agg(concat_ws('|', coalesce(load_id, ''), preset, CAST(valuation_ts AS VARCHAR),
                                            coalesce(conventions, ''), coalesce(computed_with, '')),
                                  '#' ORDER BY preset, valuation_ts)
                       || (SELECT CAST(max(version) AS VARCHAR) FROM meta.schema_migrations)
                       || '|layout {EXPORT_LAYOUT}') AS chain
            FROM mart.regime_daily
            GROUP BY underlying, session
        ),
        latest AS (  -- data_stale: each underlying's latest row per preset, against the warehouse's latest session
            SELECT underlying, session,
                   string_agg(preset, ',' ORDER BY preset) || '@'
                       || CAST((SELECT max(session) FROM mart.regime_daily) AS VARCHAR) AS latest
            FROM (SELECT underlying, preset, max(session) AS session FROM mart.regime_daily GROUP BY ALL)
            GROUP BY underlying, session
        ),
        bars AS (
            SELECT underlying, session,
                   sum(hash(load_id, source, "open", high, low, "close", volume, source_line)) AS h
            FROM raw.underlying_closes
            GROUP BY underlying, session
        ),
        spine AS (
            SELECT k.underlying, k.session, coalesce(b.h, 0) AS h,
                   sum(CAST(b.h IS NOT NULL AS BIGINT)) OVER (PARTITION BY k.underlying ORDER BY k.session
                                                              ROWS UNBOUNDED PRECEDING) AS bar_index
            FROM (SELECT underlying, session FROM chain UNION SELECT underlying, session FROM bars
                  UNION SELECT underlying, session FROM mart.runs) AS k
            LEFT JOIN bars AS b USING (underlying, session)
        ),
        windows AS (
            SELECT underlying, session,
                   CAST(sum(h) OVER (PARTITION BY underlying ORDER BY bar_index
                                     RANGE BETWEEN {CLOSES_BEHIND_BARS} PRECEDING AND CURRENT ROW) AS VARCHAR)
                       AS {CLOSES_BEHIND},
                   CAST(sum(h) OVER (PARTITION BY underlying ORDER BY bar_index
                                     RANGE BETWEEN CURRENT ROW AND {CLOSES_AHEAD_BARS} FOLLOWING) AS VARCHAR)
                       AS {CLOSES_AHEAD}
            FROM spine
        ),
        hedge AS (
            SELECT md5(coalesce((SELECT string_agg(name || '=' || CAST(value AS VARCHAR), ',' ORDER BY name)
                                 FROM core.settings WHERE name LIKE 'hedge\\_%' ESCAPE '\\'), '')
                       || '|' || coalesce((SELECT string_agg(template, ',' ORDER BY template)
                                           FROM core.hedge_templates WHERE enabled), '')) AS {HEDGE}
        ),
        advice AS (
            SELECT underlying, session, CAST(sum(hash(a)) AS VARCHAR) AS {ADVICE}
            FROM mart.hedge_advice AS a
            GROUP BY underlying, session
        ),
        runs AS (  -- the log's ids and times left out: two equal runs give equal fingerprints (a new row still counts)
            SELECT underlying, session, CAST(sum(hash(r)) AS VARCHAR) AS {RUNS}
            FROM (SELECT * EXCLUDE ({", ".join(VOLATILE_COLUMNS["mart.runs"])}) FROM mart.runs) AS r
            GROUP BY underlying, session
        ),
        components AS (
            SELECT w.underlying, w.session, coalesce(c.chain, '') AS chain, w.{CLOSES_BEHIND}, w.{CLOSES_AHEAD},
                   coalesce(l.latest, '') AS {LATEST}, (SELECT {HEDGE} FROM hedge) AS {HEDGE},
                   coalesce(a.{ADVICE}, '') AS {ADVICE}, coalesce(r.{RUNS}, '') AS {RUNS}
            FROM windows AS w
            LEFT JOIN chain AS c USING (underlying, session)
            LEFT JOIN latest AS l USING (underlying, session)
            LEFT JOIN advice AS a USING (underlying, session)
            LEFT JOIN runs AS r USING (underlying, session)
        )
        SELECT *, {encoded} AS encoded FROM components
    """


def _fingerprint(row: tuple) -> Fingerprint:  # type: ignore[type-arg]
    """A :func:`_fingerprint_sql` row's components (after underlying and session, before ``encoded``)."""
    return Fingerprint(row[2], tuple(row[3:3 + len(INPUTS)]))


def fingerprints(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, dt.date], Fingerprint]:
    """Every (underlying, session) computed or with a daily bar -> its :class:`Fingerprint` now (every preset's
    rows; an empty chain component: a bar only)."""
    return {(r[0], r[1]): _fingerprint(r) for r in con.execute(_fingerprint_sql()).fetchall()}


@dataclass(frozen=True)
class ExportPlan:
    """What one export rewrites.

    ``pairs``: the (underlying, session) pairs whose computation changed (or that were asked for), and every
    later session of their underlyings, sorted; their sessions are rewritten in every view. ``changed``: every
    out-of-date pair -> the components that changed; ``current``: their fingerprints now (what the export
    records for them; a pair that is not out of date already has its fingerprint recorded).
    """

    pairs: tuple[tuple[str, dt.date], ...]
    changed: dict[tuple[str, dt.date], frozenset[str]]
    current: dict[tuple[str, dt.date], Fingerprint] = field(repr=False)
    #: Pairs recorded as exported that have neither a computed row nor a bar any more (deleted): their sessions
    #: are rewritten in every view and their records removed.
    vanished: tuple[tuple[str, dt.date], ...] = ()
    #: Pairs whose computed rows were deleted but whose bar remains: their sessions are rewritten in every view
    #: (they are in :attr:`changed` too, recorded with an empty chain component).
    uncomputed: tuple[tuple[str, dt.date], ...] = ()

    def sessions_for(self, inputs: frozenset[str]) -> list[dt.date]:
        """Sessions whose files of a view reading ``inputs`` are rewritten: those of :attr:`pairs`,
        :attr:`vanished` and :attr:`uncomputed`, and those of the pairs where one of ``inputs`` changed."""
        days = {s for _, s in self.pairs} | {s for _, s in self.vanished} | {s for _, s in self.uncomputed}
        days |= {s for (_, s), what in self.changed.items() if what & inputs}
        return sorted(days)

    @property
    def advice_keys(self) -> list[tuple[str, dt.date]]:
        """Pairs whose ``mart.hedge_advice`` rows must be recomputed (their computation, realised vol or the
        hedge settings changed). The recomputed rows are an input of their own (``advice``): plan again
        after recomputing them."""
        inputs = frozenset({CLOSES_BEHIND, HEDGE})
        return sorted(set(self.pairs) | {k for k, what in self.changed.items() if what & inputs})

    @property
    def empty(self) -> bool:
        return not self.pairs and not self.changed and not self.vanished


#: Where the exports' fingerprints are recorded (``state`` of :func:`plan_export`).
EXPORT_STATE = "mart.export_state"


def plan_export(con: duckdb.DuckDBPyConnection, sessions: Iterable[tuple[str, dt.date]] | None = None, *,
                force: bool = False, state: str = EXPORT_STATE) -> ExportPlan:
    """The :class:`ExportPlan` from the fingerprints now and those recorded in ``state`` (a relation with
    ``underlying, session, fingerprint``: the exports' :data:`EXPORT_STATE`, or the published snapshot's own;
    our code's names only, never a user's) (``sessions``: these pairs as if their computation changed;
    ``force``: every computed pair)."""
    if force:
        current = fingerprints(con)
        changed = {k: frozenset({CHAIN}) if f.chain else frozenset(INPUTS) for k, f in current.items()}
        return ExportPlan(tuple(sorted(k for k, f in current.items() if f.chain)), changed, current)
    rows = con.execute(
        f"SELECT underlying, session, f.* EXCLUDE (underlying, session), e.fingerprint FROM ({_fingerprint_sql()}) AS f "
        f"FULL OUTER JOIN {state} AS e USING (underlying, session) WHERE e.fingerprint IS DISTINCT FROM f.encoded"
    ).fetchall()
    current: dict[tuple[str, dt.date], Fingerprint] = {}
    changed: dict[tuple[str, dt.date], frozenset[str]] = {}
    vanished: list[tuple[str, dt.date]] = []
    uncomputed: list[tuple[str, dt.date]] = []
    start: dict[str, dt.date] = {}
    for row in rows:
        key = (row[0], row[1])
        if row[-2] is None:  # recorded, no longer there
            vanished.append(key)
            start[key[0]] = min(key[1], start.get(key[0], key[1]))  # later sessions look back at it
            continue
        now = _fingerprint(row)
        old = None if row[-1] is None else Fingerprint.decode(row[-1])
        what = now.changed_since(old)
        if not now.chain and CHAIN in what:  # a bar or a failed run without a computed session: only the views
            # reading those show it
            what = frozenset(INPUTS)
            if old is not None and old.chain:  # ... but it was computed when recorded: its rows go everywhere
                uncomputed.append(key)
                start[key[0]] = min(key[1], start.get(key[0], key[1]))  # and later sessions look back at it
        current[key], changed[key] = now, what
        if CHAIN in what:
            start[key[0]] = min(key[1], start.get(key[0], key[1]))
    asked = list(sessions or ())
    if asked:  # asked for as if recomputed: only those that are computed
        for u, s in con.execute(
                "SELECT DISTINCT underlying, session FROM mart.regime_daily "
                "SEMI JOIN (SELECT unnest($us) AS underlying, unnest($ss) AS session) USING (underlying, session)",
                {"us": [u for u, _ in asked], "ss": [s for _, s in asked]}).fetchall():
            start[u] = min(s, start.get(u, s))
    pairs: tuple[tuple[str, dt.date], ...] = ()
    if start:
        pairs = tuple(sorted((u, s) for u, s in con.execute(
            "SELECT DISTINCT r.underlying, r.session FROM mart.regime_daily AS r "
            "JOIN (SELECT unnest($us) AS underlying, unnest($ss) AS since) AS k USING (underlying) "
            "WHERE r.session >= k.since",
            {"us": list(start), "ss": list(start.values())}).fetchall()))
    return ExportPlan(pairs, changed, current, tuple(sorted(vanished)), tuple(sorted(uncomputed)))
