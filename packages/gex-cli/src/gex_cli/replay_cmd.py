"""``gex replay UNDERLYING SESSION``: walk a session's snapshots in the terminal, one frame per snapshot.

Each frame: the snapshot's time (New York) and kind (intraday / end of day), spot, total GEX, gamma flip and
its distance from spot, regime, call and put walls, 0-DTE GEX and share, and a bar chart of net GEX per
strike for the strikes nearest spot (one scale for the whole session, so bars compare across frames).

Reads ``main.regime_snapshots`` and ``main.gex_strike_snapshots`` through the same read-only path as
``gex report`` (the published snapshot, else the warehouse read-only). ``--speed`` is seconds per frame on a
terminal (frames replace each other); ``--speed 0``, or output that is not a terminal, prints every frame
at once. ``--json`` prints one JSON object per snapshot, one per line (JSON Lines).

Exit codes (:mod:`gex_cli.errors`): 0 shown (also when the session has only its end-of-day snapshot: a note
on stderr says there is no intraday one); 1 no warehouse / locked / views missing / underlying or session
not loaded; 2 usage error; 130 Ctrl-C (quietly).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES

if TYPE_CHECKING:
    import polars as pl
    from rich.console import RenderableType

    from gex_report.intraday_data import IntradayData

#: Strike bars per frame by default (the strikes nearest the frame's spot).
DEFAULT_STRIKES = 15
#: Characters of the longest bar (each side of the zero line).
BAR_WIDTH = 20
BN = 1e9


def replay(
    underlying: Annotated[str, typer.Argument(help="Underlying, e.g. SPX.")],
    session: Annotated[str, typer.Argument(help="Session, YYYY-MM-DD.")],
    speed: Annotated[
        float, typer.Option("--speed", help="Seconds per frame on a terminal; 0 prints every frame at once "
                                            "(always, when the output is not a terminal).")
    ] = 1.0,
    preset: Annotated[str, typer.Option("--preset", "-p", help=f"Rows of this preset: {', '.join(PRESET_NAMES)}.")] = "native",
    strikes: Annotated[int, typer.Option("--strikes", help="Strike bars per frame: the strikes nearest spot.")] = DEFAULT_STRIKES,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per snapshot, one per line (JSON Lines).")] = False,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb).")
    ] = None,
) -> None:
    """Replay a session's snapshots: spot, GEX, flip, regime, walls, 0-DTE and GEX by strike, frame by frame."""
    try:
        day = dt.date.fromisoformat(session)
    except ValueError:
        raise _fail(f"SESSION {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    if not (math.isfinite(speed) and speed >= 0):
        raise _fail(f"--speed {speed} must be a number of seconds >= 0", EXIT_USAGE)
    if not 1 <= strikes <= 200:
        raise _fail(f"--strikes {strikes} must be between 1 and 200", EXIT_USAGE)
    try:
        _run(underlying, day, preset, speed, strikes, as_json, warehouse)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None  # quietly: the reader stopped watching


def _run(underlying: str, day: dt.date, preset: str, speed: float, strikes: int, as_json: bool, warehouse: Any) -> None:
    from rich.console import Console

    from gex_report import data as report_data
    from gex_report import intraday_data as idd
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError

    target = warehouse_path(warehouse)
    try:
        con = report_data.open_read_only(target)
    except WarehouseError as exc:  # missing, not a database, locked before any published snapshot
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        try:
            loaded = idd.load(con, underlying, day, preset, window=1.0)
        except report_data.ReportInputError as exc:
            raise _fail(f"{exc} ({target})", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    if loaded.intraday_count == 0:
        typer.echo(f"gex: note: {loaded.underlying} {loaded.session} has no intraday snapshot (preset {preset}); "
                   f"showing its daily row", err=True)
    frames = frame_records(loaded, strikes)
    if as_json:
        from gex_cli import jsonout

        for record in frames:
            typer.echo(jsonout.dumps(record, indent=None))
        return
    console = Console(highlight=False)
    scale = max((abs(b["net_gex_usd_per_1pct"]) for f in frames for b in f["strikes"]
                 if b["net_gex_usd_per_1pct"] is not None), default=0.0)
    if speed == 0 or not console.is_terminal or len(frames) == 1:
        for i, record in enumerate(frames):
            if i:
                console.rule(style="grey50")
            console.print(render_frame(record, i, len(frames), scale))
        return
    from rich.live import Live

    with Live(render_frame(frames[0], 0, len(frames), scale), console=console, auto_refresh=False,
              vertical_overflow="visible") as live:
        for i, record in enumerate(frames):
            live.update(render_frame(record, i, len(frames), scale), refresh=True)
            if i + 1 < len(frames):
                time.sleep(speed)


def _f(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def frame_records(data: IntradayData, strikes: int) -> list[dict[str, Any]]:
    """One dict per snapshot (what ``--json`` prints): the regime row's fields and the ``strikes`` nearest spot,
    highest strike first, each with its call, put and net GEX (dollars per 1% move)."""
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    by_ts = _strikes_by_snapshot(data.strikes)
    out = []
    for row in data.snapshots.iter_rows(named=True):
        spot = float(row["spot"])
        ladder = by_ts.get(row["valuation_ts"], [])
        near = sorted(sorted(ladder, key=lambda s: abs(s[0] - spot))[:strikes], key=lambda s: -s[0])
        out.append({
            "underlying": row["underlying"],
            "session": row["session"],
            "snapshot_ts": row["snapshot_ts"],
            "valuation_ts": row["valuation_ts"],
            "time_new_york": row["snapshot_ts"].astimezone(ny).strftime("%H:%M:%S") if row["snapshot_ts"] else None,
            "intraday": row["intraday"],
            "spot": spot,
            "total_gex_usd_per_1pct": _f(row["total_gex_usd_per_1pct"]),
            "call_gex_usd_per_1pct": _f(row["call_gex_usd_per_1pct"]),
            "put_gex_usd_per_1pct": _f(row["put_gex_usd_per_1pct"]),
            "gamma_flip": _f(row["gamma_flip"]),
            "flip_distance_pct": _f(row["flip_distance_pct"]),
            "regime": row["regime"],
            "call_wall": _f(row["call_wall"]),
            "put_wall": _f(row["put_wall"]),
            "abs_gamma_strike": _f(row["abs_gamma_strike"]),
            "zero_dte_gex_usd_per_1pct": _f(row["zero_dte_gex_usd_per_1pct"]),
            "zero_dte_gamma_share": _f(row["zero_dte_gamma_share"]),
            "oi_note": row["oi_note"],
            "preset": row["preset"],
            "strikes": [{"strike": k, "call_gex_usd_per_1pct": c, "put_gex_usd_per_1pct": p, "net_gex_usd_per_1pct": n}
                        for k, c, p, n in near],
        })
    return out


def _strikes_by_snapshot(frame: pl.DataFrame) -> dict[dt.datetime, list[tuple[float, Any, Any, Any]]]:
    out: dict[dt.datetime, list[tuple[float, Any, Any, Any]]] = {}
    for ts, strike, call, put, net in frame.select("valuation_ts", "strike", "call_gex_usd_per_1pct",
                                                   "put_gex_usd_per_1pct", "net_gex_usd_per_1pct").iter_rows():
        out.setdefault(ts, []).append((float(strike), _f(call), _f(put), _f(net)))
    return out


def _level(value: float | None, digits: int = 2) -> str:
    return "none" if value is None else f"{value:,.{digits}f}"


def _bar(value: float | None, scale: float) -> tuple[str, str]:
    """(left, right) halves of a bar: negative GEX grows left of the zero line, positive right."""
    if value is None or scale <= 0:
        return "", ""
    n = min(BAR_WIDTH, round(abs(value) / scale * BAR_WIDTH))
    return ("█" * n, "") if value < 0 else ("", "█" * n)


def render_frame(record: dict[str, Any], index: int, count: int, scale: float) -> RenderableType:
    """One frame (a rich renderable): the summary lines and the strike bars (``scale``: |net GEX| of a full bar)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    kind = "intraday" if record["intraday"] else "end of day"
    regime = record["regime"] or "n/a"
    colour = {"positive": "green", "negative": "red"}.get(regime, "white")
    spot = record["spot"]
    head = Text.assemble(
        (f"{record['underlying']} {record['session']}  ", "bold"),
        (f"{record['time_new_york'] or '?'} ET", "bold"), f"  {kind} snapshot {index + 1}/{count}  ",
        (f"{regime} gamma", f"bold {colour}"),
    )
    total = record["total_gex_usd_per_1pct"]
    flip = record["gamma_flip"]
    share = record["zero_dte_gamma_share"]
    zero = record["zero_dte_gex_usd_per_1pct"]
    lines = Table.grid(padding=(0, 2))
    lines.add_row("spot", f"{spot:,.2f}", "total GEX",
                  "n/a" if total is None else f"{total / BN:+,.3f} $bn per 1% move")
    lines.add_row("gamma flip", _level(flip) + ("" if flip is None else f" ({record['flip_distance_pct']:+.2f}% from spot)"),
                  "0-DTE GEX", ("n/a" if zero is None else f"{zero / BN:+,.3f} $bn")
                  + ("" if share is None else f", {100 * share:.1f}% of gamma"))
    lines.add_row("call wall", _level(record["call_wall"], 0), "put wall", _level(record["put_wall"], 0))
    bars = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 1))
    bars.add_column("strike", justify="right", no_wrap=True, min_width=7)
    bars.add_column("net $bn", justify="right", no_wrap=True, min_width=7)
    bars.add_column("", justify="right", width=BAR_WIDTH, no_wrap=True)
    bars.add_column("", justify="left", width=BAR_WIDTH, no_wrap=True)
    bars.add_column("", no_wrap=True, min_width=18)
    ladder = record["strikes"]
    nearest = min(ladder, key=lambda s: abs(s["strike"] - spot))["strike"] if ladder else None
    for bar in ladder:
        net = bar["net_gex_usd_per_1pct"]
        left, right = _bar(net, scale)
        marks = []
        if bar["strike"] == nearest:
            marks.append("< spot")
        if record["call_wall"] == bar["strike"]:
            marks.append("call wall")
        if record["put_wall"] == bar["strike"]:
            marks.append("put wall")
        if flip is not None and nearest is not None and _nearest_to(ladder, flip) == bar["strike"]:
            marks.append("~ flip")
        bars.add_row(f"{bar['strike']:,.0f}", "n/a" if net is None else f"{net / BN:+.3f}",
                     Text(left, style="red"), Text(right, style="green"), ", ".join(marks))
    note = Text(record["oi_note"] or "", style="grey50")
    return Group(head, lines, bars, note)


def _nearest_to(ladder: list[dict[str, Any]], level: float) -> float | None:
    """The ladder's strike nearest ``level`` when the level lies within the ladder's span, else ``None``."""
    strikes = [s["strike"] for s in ladder]
    if not strikes or not min(strikes) <= level <= max(strikes):
        return None
    return min(strikes, key=lambda k: abs(k - level))

