"""Human-readable rendering of analysis results for the terminal (rich)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # keep `gex --help` fast: the models load only when a command needs them
    from gex.analysis import Analysis
    from gex.expiry_views import ExpiryView


def bn(usd: float) -> str:
    """Dollars as signed $bn with 4 decimals, e.g. ``-10.9987``."""
    return f"{usd / 1e9:+,.4f}"


def price(x: float | None) -> str:
    return "none" if x is None else f"{x:,.2f}"


def print_analysis(a: Analysis, console: Console | None = None) -> None:
    """Print the summary of one analysis."""
    from gex.calendar import NEW_YORK

    con = console or Console(highlight=False)
    c = a.conventions
    valued = a.valuation_ts.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")
    con.print(f"[bold]{a.underlying}[/bold] as of session [bold]{a.as_of}[/bold]  (valued at {valued})   source: {a.source}")
    con.print(f"preset [bold]{c.name}[/bold]: dealers {c.dealer_positioning}, r = {c.rate:.4f}, day count {c.day_count}, "
              f"spot total from {c.spot_gamma} gamma")

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("Spot", price(a.spot))
    t.add_row("Total GEX", f"{bn(a.total_gex)} $bn per 1% move  (calls {bn(a.call_gex)}, puts {bn(a.put_gex)})")
    if c.spot_gamma == "vendor":
        t.add_row("", f"model profile at spot: {bn(a.gex_at_spot_model)} $bn (vendor gamma differs from the model)")
    meaning = {"positive": "dealers long gamma: they dampen moves", "negative": "dealers short gamma: they amplify moves",
               "neutral": "exactly zero"}[a.regime]
    t.add_row("Regime", f"{a.regime} ({meaning})")
    if a.gamma_flip is None:
        t.add_row("Gamma flip", f"none in {price(a.flip_window[0])} - {price(a.flip_window[1])}")
    else:
        t.add_row("Gamma flip", f"{price(a.gamma_flip)}  ({a.flip_distance_pct:+.2f}% from spot)")
    if len(a.flip_crossings) > 1 or (a.flip_crossings and a.gamma_flip is None):
        t.add_row("All crossings", ", ".join(price(x) for x in a.flip_crossings))
    lv = a.levels
    t.add_row("Call wall", f"{price(lv.call_wall)}  (strike >= spot with the largest call GEX)")
    t.add_row("Put wall", f"{price(lv.put_wall)}  (strike <= spot with the most negative put GEX)")
    t.add_row("Abs gamma strike", f"{price(lv.abs_gamma_strike)}  (largest |call| + |put| GEX)")
    t.add_row("DEX / VEX / CEX", f"{bn(a.dex_usd)} $bn delta, {bn(a.vex_usd_per_volpt)} $bn per vol pt, "
              f"{bn(a.cex_usd_per_day)} $bn per day")
    t.add_row("0-DTE share", f"{100 * a.zero_dte_gamma_share:.1f}% of gross gamma settles by the next close")
    if a.vendor_model_gamma_gap is not None:
        t.add_row("Vendor vs model", f"{100 * a.vendor_model_gamma_gap:.1f}% exposure-weighted gamma gap")
    _expected_move_rows(t, a)
    _early_exercise_row(t, a)
    excl = a.excluded_counts()
    detail = ", ".join(f"{k}: {v}" for k, v in excl.items()) or "none"
    t.add_row("Contracts", f"{a.contracts.height:,} used; {sum(excl.values()):,} excluded ({detail})")
    con.print(t)
    for w in a.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")


def _early_exercise_row(t: Table, a: Analysis) -> None:
    """American (or mixed) chains only: how many contracts the early-exercise screen flags and their share of
    |GEX| (gex.early_exercise.screen_chain; European index chains print nothing)."""
    from gex.early_exercise import screen_chain

    screen = screen_chain(a.contracts, a.forwards, a.spot)
    if screen.exercise_style == "european":
        return
    n = screen.expiries_without_carry
    no_carry = f"; {n} expir{'y' if n == 1 else 'ies'} without a parity forward screened without dividends" if n else ""
    t.add_row("Early exercise", f"{screen.exercise_style} options: {screen.flagged.height:,} of "
              f"{screen.american_contracts:,} contracts flagged, {100 * screen.gex_share:.1f}% of |GEX| "
              f"(European gamma is an approximation there){no_carry}")


#: Width the expiry-views table is laid out at (a narrower terminal wraps lines rather than truncating cells).
EXPIRY_TABLE_WIDTH = 140


def print_expiry_views(views: list[ExpiryView], console: Console | None = None) -> None:
    """``gex analyze --expiries``: one table row per expiry filter (GEX in $bn per 1% move, levels in points)."""
    con = console or Console(highlight=False, width=max(Console().width, EXPIRY_TABLE_WIDTH))
    t = Table(title="Expiry views ($bn per 1% move; filters: docs/conventions.md)", title_justify="left", box=None,
              pad_edge=False)
    for col in ("expiries", "contracts", "total", "calls", "puts", "flip", "regime", "call wall", "put wall",
                "abs gamma", "|GEX| share", "dropped"):
        t.add_column(col, justify="left" if col in ("expiries", "regime", "dropped") else "right", no_wrap=True)
    for v in views:
        flip = "none" if v.gamma_flip is None else f"{price(v.gamma_flip)} ({v.flip_distance_pct:+.2f}%)"
        t.add_row(v.expiries, f"{v.contracts:,}", bn(v.total_gex), bn(v.call_gex), bn(v.put_gex),
                  "-" if v.contracts == 0 else flip, v.regime or "-", price(v.call_wall), price(v.put_wall),
                  price(v.abs_gamma_strike), f"{100 * v.gross_gex_share:.1f}%",
                  "" if v.excluded_expiration is None else str(v.excluded_expiration))
    con.print(t)
    if any(v.contracts == 0 for v in views):
        con.print("[yellow]note:[/yellow] a filter with 0 contracts has no flip, levels or regime (nothing to value)")


#: Expiries listed in the readable expected-move line (the JSON has them all).
EXPECTED_MOVE_EXPIRIES = 3


def _expected_move_rows(t: Table, a: Analysis) -> None:
    """IV-implied 1/5-session moves and the nearest expiries' straddle-implied moves (gex.expected_move)."""
    one, five = a.implied_move(1), a.implied_move(5)
    if one[0] is not None and five[0] is not None and a.atm_iv_30d is not None:
        t.add_row("Implied move", f"±{one[0]:,.2f} ({one[1]:.2f}%) 1 session, ±{five[0]:,.2f} ({five[1]:.2f}%) 5 sessions "
                  f"(ATM IV 30d {100 * a.atm_iv_30d:.1f}%)")
    moves = a.expected_move.head(EXPECTED_MOVE_EXPIRIES)
    if moves.height:
        text = ", ".join(f"{r['expiration']} {r['settlement']} ±{r['straddle_points']:,.2f} ({r['straddle_pct']:.2f}%)"
                         for r in moves.iter_rows(named=True))
        t.add_row("Straddle move", f"{text}  (ATM straddle at the forward)")


def write_chart(a: Analysis, out: Path) -> None:
    """``gex analyze --chart``: write the chart file and say so on stderr (stdout may carry JSON); a file that
    cannot be written is a one-line error with exit code 1."""
    import typer

    from gex_cli.errors import EXIT_BAD_INPUT, fail
    from gex_report.single_chart import write_chart as write

    try:
        size = write(a, out)
    except OSError as exc:
        raise fail(f"{out}: cannot write the chart: {exc.strerror or exc}", EXIT_BAD_INPUT) from None
    typer.echo(f"wrote the chart to {out} ({size / 1e3:,.0f} kB)", err=True)
