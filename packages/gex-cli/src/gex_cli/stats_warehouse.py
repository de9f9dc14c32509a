"""``gex stats`` without ``--external``: the warehouse's own levels measured against what followed them.

Reads the published view ``main.level_outcomes`` (one row per computed session: the levels, the next
session's high/low/close, the wall-held flags, forward realised vols and returns over 1/5/21 sessions)
through the sandboxed read-only path every read command uses (:func:`gex_warehouse.published.open_published`:
the published snapshot, never locked by a writer), one underlying and preset at a time, and computes every
figure with :func:`gex.evidence.outcome_stats` (bucket statistics with moving-block bootstrap intervals and
small-sample flags). Method: ``docs/evidence.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Sessions with a next-session outcome an underlying needs before its figures are computed at all (below
#: this every bucket would be flagged small anyway; the command says so instead of printing noise).
MIN_SESSIONS = 10
#: The view read (docs/sql-contract.md).
VIEW = "level_outcomes"

#: Units of each statistic, for the JSON objects.
UNITS = {
    "forward_rv": "decimal per year",
    "forward_rv_parkinson": "decimal per year",
    "forward_rv_residual": "decimal per year (vol points / 100)",
    "forward_return_std": "decimal (log return over horizon_days sessions)",
    "forward_return_q05": "decimal (log return over horizon_days sessions)",
    "forward_return_q95": "decimal (log return over horizon_days sessions)",
    "call_wall_held_high": "share 0..1",
    "call_wall_held_close": "share 0..1",
    "put_wall_held_low": "share 0..1",
    "put_wall_held_close": "share 0..1",
}


class StatsInputError(ValueError):
    """The warehouse cannot give the statistics asked for (one line for people; exit code 1)."""


def read_outcomes(con: Any, preset: str, underlying: str | None) -> dict[str, Any]:
    """``{underlying: polars frame of main.level_outcomes}`` for ``preset`` (every underlying, or one).

    ``con`` is a sandboxed read-only connection (its ``preset`` variable is set here: the published views
    filter on it). Raises :class:`StatsInputError` when the view is missing or holds nothing asked for.
    """
    import polars as pl

    present = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ?", [VIEW]).fetchall()[0][0]
    if not present:
        raise StatsInputError(
            f"the warehouse has no published view main.{VIEW}: it predates it; open it once with a writer "
            "(e.g. `gex compute --all`, then `gex publish`) to apply the migrations and refresh the snapshot")
    # the preset name was checked against the known presets by the caller
    con.execute(f"SET VARIABLE preset = '{preset}'")
    frame = pl.from_arrow(con.sql(
        f"SELECT * FROM main.{VIEW} WHERE (CAST($u AS VARCHAR) IS NULL OR underlying = $u) ORDER BY underlying, session",
        params={"u": underlying}).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    if frame.is_empty():
        known = [r[0] for r in con.execute(f"SELECT DISTINCT underlying FROM main.{VIEW} ORDER BY 1").fetchall()]
        if underlying is not None:
            raise StatsInputError(f"no computed session of {underlying!r} under preset {preset}; the warehouse has "
                                  f"{', '.join(known) or 'none'}")
        raise StatsInputError(f"no computed session under preset {preset}: run `gex ingest` then `gex compute --all` first")
    return {str(key[0]): part for key, part in frame.partition_by("underlying", as_dict=True, maintain_order=True).items()}


def measure(frames: dict[str, Any], settings: Any, warn: Any) -> list[tuple[str, Any, Any]]:
    """``[(underlying, its level_outcomes frame, outcome_stats frame)]``; an underlying with fewer than
    :data:`MIN_SESSIONS` sessions having a next-session outcome is skipped with one ``warn(text)`` line."""
    from gex.evidence import outcome_stats

    out = []
    for underlying, frame in frames.items():
        usable = int(frame["forward_rv_1d"].is_not_null().sum())
        if usable < MIN_SESSIONS:
            warn(f"{underlying}: {frame.height} computed sessions, {usable} with the next session's close; at least "
                 f"{MIN_SESSIONS} are needed to measure anything (skipped)")
            continue
        out.append((underlying, frame, outcome_stats(frame, settings=settings)))
    return out


def warning_text(row: dict[str, Any]) -> str | None:
    """The warning a figure carries: too few days in its bucket (``small_sample``), or no interval."""
    from gex.evidence import min_bucket_days

    if row["small_sample"]:
        return (f"only {row['n']} days (fewer than {min_bucket_days(row['horizon_days'])} = about ten non-overlapping "
                f"{row['horizon_days']}-session windows): too few to mean anything")
    if row["ci_low"] is None or row["ci_high"] is None:
        return "no interval (too few bootstrap replicates had days in the bucket)"
    return None


def json_rows(results: Sequence[tuple[str, Any, Any]], preset: str) -> list[dict[str, object]]:
    """One object per figure: underlying, preset, horizon_days, statistic, grouping, bucket, n, value,
    ci_low, ci_high, level, small_sample, warning, block_length, n_boot, units."""
    out: list[dict[str, object]] = []
    for underlying, frame, stats in results:
        first, last = frame["session"].min(), frame["session"].max()
        for row in stats.iter_rows(named=True):
            obj = {"underlying": underlying, "preset": preset, "first_session": first.isoformat(),
                   "last_session": last.isoformat(), **{k: row[k] for k in (
                       "horizon_days", "statistic", "grouping", "bucket", "n", "value", "ci_low", "ci_high", "level",
                       "small_sample")},
                   "warning": warning_text(row), "block_length": row["block_length"], "n_boot": row["n_boot"],
                   "units": UNITS.get(row["statistic"], "")}
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in obj.items()})
    return out


# ---------------------------------------------------------------------------------------------
# readable tables

#: Columns of the per-horizon table: statistic, header, scale, signed.
_HORIZON_COLUMNS = (
    ("forward_rv", "fwd RV %", 100.0, False),
    ("forward_rv_parkinson", "Parkinson %", 100.0, False),
    ("forward_rv_residual", "beyond trailing RV, pp", 100.0, True),
    ("forward_return_std", "return std %", 100.0, False),
    ("forward_return_q05", "return 5% q, %", 100.0, True),
    ("forward_return_q95", "return 95% q, %", 100.0, True),
)
_WALL_COLUMNS = (
    ("call_wall_held_high", "call wall held (high) %"),
    ("call_wall_held_close", "call wall held (close) %"),
    ("put_wall_held_low", "put wall held (low) %"),
    ("put_wall_held_close", "put wall held (close) %"),
)
_GROUP_ORDER = {"all": 0, "regime": 1, "flip_distance": 2, "gex_quintile": 3}


def figure(row: dict[str, Any] | None, scale: float = 100.0, signed: bool = False) -> str:
    """``"19.9 [16.3,24.9]"`` (scaled), ``*`` after a small bucket's figure; ``""`` without the figure."""
    if row is None or row["value"] is None:
        return ""
    pattern = "{:+.1f}" if signed else "{:.1f}"

    def f(x: float | None) -> str:
        return "n/a" if x is None else pattern.format(scale * x)

    flag = "*" if row["small_sample"] else ""
    return f"{f(row['value'])} [{f(row['ci_low'])},{f(row['ci_high'])}]{flag}"


def print_tables(results: Sequence[tuple[str, Any, Any]], preset: str, source: Path) -> None:
    """Per underlying: one table per horizon (rows: buckets; columns: statistics) and the wall-hold table."""
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    if not con.is_terminal:  # a file or a pipe: wide enough that no figure wraps
        con = Console(highlight=False, width=max(con.width, 190))
    for underlying, frame, stats in results:
        level = stats["level"][0] if stats.height else 0.95
        con.print(f"[bold]{underlying} ({preset}): what followed the levels[/bold]   {frame.height} computed sessions "
                  f"{frame['session'].min()} .. {frame['session'].max()}; source: {source}")
        con.print(f"vols in % per year; figure [{level:.0%} moving-block bootstrap interval]; * = bucket too small "
                  "to mean anything; n = days with the horizon's full forward window")
        rows = stats.to_dicts()
        index = {(r["horizon_days"], r["statistic"], r["grouping"], r["bucket"]): r for r in rows}
        for h in sorted({r["horizon_days"] for r in rows if r["statistic"] == "forward_rv"}):
            buckets = sorted({(r["grouping"], r["bucket"]) for r in rows
                              if r["horizon_days"] == h and r["statistic"] == "forward_rv"},
                             key=lambda gb: (_GROUP_ORDER.get(gb[0], 9), _bucket_key(gb[1])))
            block = next(r["block_length"] for r in rows if r["horizon_days"] == h and r["statistic"] == "forward_rv")
            t = Table(title=f"{h}-session forward (block {block} sessions)", title_justify="left")
            t.add_column("grouping")
            t.add_column("bucket")
            t.add_column("n", justify="right")
            shown = [c for c in _HORIZON_COLUMNS if any(r["statistic"] == c[0] and r["horizon_days"] == h for r in rows)]
            for _, header, _, _ in shown:
                t.add_column(header, justify="right")
            for grouping, bucket in buckets:
                rv = index[(h, "forward_rv", grouping, bucket)]
                t.add_row(grouping, bucket, f"{rv['n']:,}",
                          *(figure(index.get((h, stat, grouping, bucket)), scale, signed) for stat, _, scale, signed in shown))
            con.print(t)
        walls = [(g, b) for (h, s, g, b) in index if s == "call_wall_held_high"]
        if walls:
            t = Table(title="walls of session t over session t+1 (share of sessions, %)", title_justify="left")
            for name in ("grouping", "bucket", "n"):
                t.add_column(name, justify="right" if name == "n" else "left")
            for _, header in _WALL_COLUMNS:
                t.add_column(header, justify="right")
            for grouping, bucket in sorted(walls, key=lambda gb: (_GROUP_ORDER.get(gb[0], 9), _bucket_key(gb[1]))):
                first = index[(1, "call_wall_held_high", grouping, bucket)]
                t.add_row(grouping, bucket, f"{first['n']:,}",
                          *(figure(index.get((1, stat, grouping, bucket))) for stat, _ in _WALL_COLUMNS))
            con.print(t)


def _bucket_key(bucket: str) -> tuple[int, str]:
    """Differences (``A - B``) after the buckets; otherwise the name (Q1..Q5 and regimes sort readably)."""
    from gex.evidence.buckets import FLIP_BUCKETS, REGIMES

    if " - " in bucket:
        return (2, bucket)
    for order in (REGIMES, FLIP_BUCKETS):
        if bucket in order:
            return (0, f"{order.index(bucket):02d}")
    return (1, bucket)
