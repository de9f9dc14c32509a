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

The JSON holds the same figures unrounded: ``{"schema": 1, "symbol", "date", "regime", "spot",
"total_gex_usd_bn_per_1pct", "levels": {name: price or null}, "futures": {...} or null, "preset"}``.

Only native-preset rows are published (the published views' default). Expected-move bands are **not** in
the feed: ``mart.regime_daily`` has no expected-move column yet.

Every file is written to a temporary file beside it and renamed (``os.replace``): a reader sees the old or
the new file, never half of one; identical rows give identical bytes. Every path goes through
:func:`gex_warehouse.paths.safe_child`.
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
from gex_warehouse.paths import safe_child

#: Folder of the feed under the exports root.
FOLDER = "levels"
SCHEMA_VERSION = 1
CSV_HEADER = ("symbol", "date", "level_name", "price", "note")
#: Level rows of the CSV, in file order, each a ``mart.regime_daily`` column.
LEVELS = ("spot", "gamma_flip", "call_wall", "put_wall", "abs_gamma_strike")
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


def feed_csv(row: Mapping[str, object], basis: Mapping[str, tuple[str, float]] | None = None) -> str:
    """The CSV text of one ``mart.regime_daily`` row (keys: the columns), see the module docstring."""
    symbol = str(row["underlying"])
    date = _date(row["session"])
    lines = [",".join(CSV_HEADER)]
    levels = [(name, p) for name in LEVELS if (p := _num(row.get(name))) is not None]
    for name, price in levels:
        lines.append(f"{symbol},{date},{name},{price:.2f},{_note(name, price, row)}")
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
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


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


def native_rows(con: duckdb.DuckDBPyConnection, underlying: str) -> list[dict[str, object]]:
    """Native-preset ``mart.regime_daily`` rows of ``underlying``, oldest session first."""
    cur = con.execute(
        f"SELECT * FROM {DAILY_REGIME} WHERE underlying = ? AND preset = ? ORDER BY session", [underlying, NATIVE_PRESET]
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


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
    files = 0
    for underlying in sorted(wanted):
        rows = native_rows(con, underlying)
        for row in rows:
            if row["session"] in wanted[underlying]:
                files += _write_pair(root, underlying, str(row["session"]), row, basis)
        if rows:
            files += _write_pair(root, underlying, "latest", rows[-1], basis)
    return FeedResult(root, files)


def _write_pair(root: Path, underlying: str, stem: str, row: Mapping[str, object],
                basis: Mapping[str, tuple[str, float]] | None) -> int:
    write_atomic(safe_child(root, underlying, f"{stem}.csv"), feed_csv(row, basis))
    write_atomic(safe_child(root, underlying, f"{stem}.json"), feed_json(row, basis))
    return 2


def basis_from_env() -> dict[str, tuple[str, float]]:
    """:func:`parse_basis` of ``$GEX_LEVELS_BASIS``; a malformed value raises ValueError naming the item."""
    return parse_basis(os.environ.get(ENV_BASIS))
