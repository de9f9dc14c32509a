"""The levels feed: each computed (underlying, session)'s levels as a small CSV and JSON for charting tools.

Written by the publish flow (``pipelines.tasks.export_views``) for the sessions an export rewrote::

    <exports>/levels/<UNDERLYING>/<session>.csv | .json     one file pair per session
    <exports>/levels/<UNDERLYING>/latest.csv | .json        a copy of the underlying's newest session

The CSV (schema version 1; TradingView's "import levels" and most charting scripts read it) has the header
``symbol,date,level_name,price,note`` and one row per level, in this fixed order: ``spot``, ``gamma_flip``,
``call_wall``, ``put_wall``, ``abs_gamma_strike``. Prices are in index points with two decimals; a level the
session does not have (no flip in the profile's window) has no row. ``note`` is the level's distance from
spot in percent (``+1.23% vs spot``); the spot row's note carries the regime and the total dealer GEX in
billions of dollars per 1% move (``regime positive; total GEX +3.210 $bn per 1%``). With a futures basis
(:func:`parse_basis`, ``GEX_LEVELS_BASIS="SPX=ES:+12.5,NDX=NQ:+40"``) every level row is repeated under the
future's symbol at ``price + basis`` (note ``SPX level + basis 12.50``).

After those five, the expected-move bands (``mart.expected_move`` of the same snapshot), in this order:
``expected_move_1d_upper``, ``expected_move_1d_lower`` (spot +- the 1-session move from the 30-day ATM
implied vol) and ``straddle_move_upper``, ``straddle_move_lower`` (spot +- the ATM straddle of the nearest
expiry settling after the snapshot); notes ``+-0.67% 1-session move (ATM IV 10.7%)`` and ``+-0.49% ATM
straddle, expiry 2025-01-03 PM``. A band the snapshot lacks (no usable smile, no quoted straddle) has no row.

The JSON holds the same figures unrounded: ``{"schema": 1, "symbol", "date", "preset", "regime", "spot",
"total_gex_usd_bn_per_1pct", "levels": {name: price or null}, "futures": {...} or null, "expected_move":
{"iv_1d": {"points", "pct", "lower", "upper", "atm_iv"} or null, "straddle": {"points", "pct", "lower",
"upper", "expiration", "settlement"} or null}}`` (``expected_move`` added at the end in the same schema 1:
readers of the earlier keys are unaffected).

Only native-preset rows are published (the published views' default).

Every file is written to a temporary file beside it and renamed (``os.replace``): a reader sees the old or
the new file, never half of one; identical rows give identical bytes. Every path goes through
:func:`gex_warehouse.paths.safe_child` (each underlying's folder; the file names by
:func:`gex_warehouse.paths.check_part`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import duckdb

from gex_warehouse.compute import DAILY_REGIME
from gex_warehouse.paths import check_part, safe_child

#: Folder of the feed under the exports root.
FOLDER = "levels"
SCHEMA_VERSION = 1
CSV_HEADER = ("symbol", "date", "level_name", "price", "note")
#: Level rows of the CSV, in file order, each a ``mart.regime_daily`` column.
LEVELS = ("spot", "gamma_flip", "call_wall", "put_wall", "abs_gamma_strike")
#: Expected-move band rows of the CSV, after :data:`LEVELS`, in file order.
BANDS = ("expected_move_1d_upper", "expected_move_1d_lower", "straddle_move_upper", "straddle_move_lower")
#: Keys :func:`native_rows` adds to a row from ``mart.expected_move`` (None when the snapshot has no such move).
MOVE_KEYS = ("iv_move_1d_points", "iv_move_1d_pct", "atm_iv_30d", "straddle_move_points", "straddle_move_pct",
             "straddle_expiration", "straddle_settlement")
#: The preset whose rows are published (the published views' default).
NATIVE_PRESET = "native"
#: Environment variable holding the optional futures basis (:func:`parse_basis`).
ENV_BASIS = "GEX_LEVELS_BASIS"

_BASIS_ITEM = re.compile(r"^([A-Z0-9_.^]{1,16})=([A-Z0-9_.]{1,16}):([+-]?\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class FeedResult:
    """Files the feed wrote (CSV and JSON counted apart) and the folder."""

    root: Path
    files: int


def parse_basis(text: str | None) -> dict[str, tuple[str, float]]:
    """``"SPX=ES:+12.5,NDX=NQ:-3"`` -> ``{"SPX": ("ES", 12.5), "NDX": ("NQ", -3.0)}``: future = index + basis
    (index points). Empty or None -> no mapping.

    >>> parse_basis("SPX=ES:+12.5, NDX=NQ:40")
    {'SPX': ('ES', 12.5), 'NDX': ('NQ', 40.0)}
    >>> parse_basis("SPX=ES")
    Traceback (most recent call last):
    ...
    ValueError: GEX_LEVELS_BASIS: 'SPX=ES' is not UNDERLYING=FUTURE:BASIS (e.g. SPX=ES:+12.5)
    """
    out: dict[str, tuple[str, float]] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        m = _BASIS_ITEM.match(item.upper())
        if not m:
            raise ValueError(f"{ENV_BASIS}: {item!r} is not UNDERLYING=FUTURE:BASIS (e.g. SPX=ES:+12.5)")
        out[m.group(1)] = (m.group(2), float(m.group(3)))
    return out


def _num(value: object) -> float | None:
    """A finite float or None (NULL, NaN)."""
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def _note(level: str, price: float, row: Mapping[str, object]) -> str:
    spot = _num(row.get("spot"))
    if level == "spot":
        gex = _num(row.get("total_gex_usd_per_1pct"))
        gex_txt = "n/a" if gex is None else f"{gex / 1e9:+.3f}"
        return f"regime {row.get('regime') or 'unknown'}; total GEX {gex_txt} $bn per 1%"
    if spot is None or spot == 0:
        return ""
    return f"{(price / spot - 1) * 100:+.2f}% vs spot"


def _bands(row: Mapping[str, object]) -> list[tuple[str, float, str]]:
    """``(band name, price, note)`` of the expected-move bands the row has, in :data:`BANDS` order."""
    spot = _num(row.get("spot"))
    if spot is None:
        return []
    out: list[tuple[str, float, str]] = []
    iv_move, iv_pct, atm_iv = (_num(row.get(k)) for k in ("iv_move_1d_points", "iv_move_1d_pct", "atm_iv_30d"))
    if iv_move is not None and iv_pct is not None:
        note = f"+-{iv_pct:.2f}% 1-session move" + ("" if atm_iv is None else f" (ATM IV {100 * atm_iv:.1f}%)")
        out += [("expected_move_1d_upper", spot + iv_move, note), ("expected_move_1d_lower", spot - iv_move, note)]
    straddle, straddle_pct = _num(row.get("straddle_move_points")), _num(row.get("straddle_move_pct"))
    if straddle is not None and straddle_pct is not None:
        note = (f"+-{straddle_pct:.2f}% ATM straddle, expiry {_date(row.get('straddle_expiration'))} "
                f"{row.get('straddle_settlement') or ''}").rstrip()
        out += [("straddle_move_upper", spot + straddle, note), ("straddle_move_lower", spot - straddle, note)]
    return out


def feed_csv(row: Mapping[str, object], basis: Mapping[str, tuple[str, float]] | None = None) -> str:
    """The CSV text of one ``mart.regime_daily`` row (keys: the columns, plus :data:`MOVE_KEYS` when the
    snapshot has expected moves), see the module docstring."""
    symbol = str(row["underlying"])
    date = _date(row["session"])
    lines = [",".join(CSV_HEADER)]
    levels = [(name, p) for name in LEVELS if (p := _num(row.get(name))) is not None]
    for name, price in levels:
        lines.append(f"{symbol},{date},{name},{price:.2f},{_note(name, price, row)}")
    bands = _bands(row)
    for name, price, note in bands:
        lines.append(f"{symbol},{date},{name},{price:.2f},{note}")
    levels += [(name, price) for name, price, _ in bands]
    if basis and symbol in basis:
        future, b = basis[symbol]
        for name, price in levels:
            lines.append(f"{future},{date},{name},{price + b:.2f},{symbol} level + basis {b:.2f}")
    return "\n".join(lines) + "\n"


def feed_json(row: Mapping[str, object], basis: Mapping[str, tuple[str, float]] | None = None) -> str:
    """The JSON text of one ``mart.regime_daily`` row, see the module docstring."""
    symbol = str(row["underlying"])
    gex = _num(row.get("total_gex_usd_per_1pct"))
    levels = {name: _num(row.get(name)) for name in LEVELS if name != "spot"}
    futures = None
    if basis and symbol in basis:
        future, b = basis[symbol]
        futures = {"symbol": future, "basis_points": b,
                   "levels": {k: (None if v is None else v + b) for k, v in {"spot": _num(row.get("spot")), **levels}.items()}}
    doc = {
        "schema": SCHEMA_VERSION,
        "symbol": symbol,
        "date": _date(row["session"]),
        "preset": row.get("preset"),
        "regime": row.get("regime"),
        "spot": _num(row.get("spot")),
        "total_gex_usd_bn_per_1pct": None if gex is None else gex / 1e9,
        "levels": levels,
        "futures": futures,
        "expected_move": _moves_json(row),
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _moves_json(row: Mapping[str, object]) -> dict[str, object]:
    """The ``expected_move`` object of the JSON (see the module docstring)."""
    spot = _num(row.get("spot"))
    out: dict[str, object] = {"iv_1d": None, "straddle": None}
    iv_move, iv_pct = _num(row.get("iv_move_1d_points")), _num(row.get("iv_move_1d_pct"))
    if spot is not None and iv_move is not None:
        out["iv_1d"] = {"points": iv_move, "pct": iv_pct, "lower": spot - iv_move, "upper": spot + iv_move,
                        "atm_iv": _num(row.get("atm_iv_30d"))}
    straddle = _num(row.get("straddle_move_points"))
    if spot is not None and straddle is not None:
        expiration = row.get("straddle_expiration")
        out["straddle"] = {"points": straddle, "pct": _num(row.get("straddle_move_pct")), "lower": spot - straddle,
                           "upper": spot + straddle, "expiration": None if expiration is None else _date(expiration),
                           "settlement": row.get("straddle_settlement")}
    return out


def _date(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: The expected moves of each regime row's own snapshot (same valuation_ts): the 1-session IV move and the
#: straddle of the nearest expiry (settling first after the snapshot; ties: AM before PM).
_MOVES = """
SELECT
    r.*,
    iv.move_points AS iv_move_1d_points, iv.move_pct AS iv_move_1d_pct, iv.atm_iv AS atm_iv_30d_move,
    st.move_points AS straddle_move_points, st.move_pct AS straddle_move_pct,
    st.target_date AS straddle_expiration, st.settlement AS straddle_settlement
FROM {daily} AS r
LEFT JOIN mart.expected_move AS iv
    ON iv.underlying = r.underlying AND iv.session = r.session AND iv.preset = r.preset
   AND iv.valuation_ts = r.valuation_ts AND iv.method = 'atm_iv' AND iv.sessions_ahead = 1
LEFT JOIN (
    SELECT * FROM mart.expected_move WHERE method = 'straddle'
    QUALIFY row_number() OVER (PARTITION BY underlying, session, valuation_ts, preset
                               ORDER BY target_date, settlement) = 1
) AS st
    ON st.underlying = r.underlying AND st.session = r.session AND st.preset = r.preset
   AND st.valuation_ts = r.valuation_ts
WHERE list_contains(?, r.underlying) AND r.preset = ?
ORDER BY r.underlying, r.session
"""


def native_rows(con: duckdb.DuckDBPyConnection, underlying: str) -> list[dict[str, object]]:
    """Native-preset ``mart.regime_daily`` rows of ``underlying``, oldest session first, each with the
    :data:`MOVE_KEYS` of its snapshot's ``mart.expected_move`` rows (None where it has none)."""
    return native_rows_many(con, [underlying]).get(underlying, [])


def native_rows_many(con: duckdb.DuckDBPyConnection, underlyings: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """:func:`native_rows` of many underlyings with one query (a whole-market night touches thousands):
    ``{underlying: rows}``, underlyings without rows left out."""
    cur = con.execute(_MOVES.format(daily=DAILY_REGIME), [sorted(set(underlyings)), NATIVE_PRESET])
    names = [d[0] for d in cur.description]
    out: dict[str, list[dict[str, object]]] = {}
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        row.pop("atm_iv_30d_move", None)  # the regime row's own atm_iv_30d is the vol behind the 1-session move
        out.setdefault(str(row["underlying"]), []).append(row)
    return out


def write_levels(
    con: duckdb.DuckDBPyConnection,
    exports: str | PathLike[str],
    sessions: Iterable[tuple[str, dt.date]],
    basis: Mapping[str, tuple[str, float]] | None = None,
) -> FeedResult:
    """Write the feed files of ``sessions`` (native rows; a session without one is skipped) and each
    touched underlying's ``latest`` pair (its newest native session) under ``<exports>/levels``."""
    root = safe_child(exports, FOLDER)
    wanted: dict[str, set[dt.date]] = {}
    for u, s in sessions:
        wanted.setdefault(u, set()).add(s)
    every = native_rows_many(con, wanted)

    def write_underlying(underlying: str) -> int:
        rows = every.get(underlying, [])
        if not rows:
            return 0
        # the underlying's folder resolved and checked once (safe_child walks the path: ~10 system calls);
        # the file names are checked as single names: os.replace onto a name never follows a link there
        folder = safe_child(root, underlying)
        files = 0
        for row in rows:
            if row["session"] in wanted[underlying]:
                files += _write_pair(folder, str(row["session"]), row, basis)
        return files + _write_pair(folder, "latest", rows[-1], basis)

    return FeedResult(root, sum(write_underlying(u) for u in sorted(wanted)))


def _write_pair(folder: Path, stem: str, row: Mapping[str, object],
                basis: Mapping[str, tuple[str, float]] | None) -> int:
    for name, text in ((f"{stem}.csv", feed_csv(row, basis)), (f"{stem}.json", feed_json(row, basis))):
        check_part(folder, name)
        write_atomic(folder / name, text)
    return 2


def basis_from_env() -> dict[str, tuple[str, float]]:
    """:func:`parse_basis` of ``$GEX_LEVELS_BASIS``; a malformed value raises ValueError naming the item."""
    return parse_basis(os.environ.get(ENV_BASIS))
