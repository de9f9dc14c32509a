"""``gex stats``: does dealer gamma say anything about the next sessions?

Without ``--external``: the warehouse's own levels against what followed them (published view
``main.level_outcomes``, read through the published snapshot; :mod:`gex_cli.stats_warehouse`): walls held,
forward realised vol by regime, flip distance and GEX quintile, forward return spread by regime.

``--external squeezemetrics``: forward realised vol of SPX by quintile of SqueezeMetrics' GEX. Reads SqueezeMetrics' ``DIX.csv`` (``date,price,dix,gex``), computes with :func:`gex.evidence.external_gex_evidence`
(forward 1-, 5- and 21-session realised vol per GEX quintile, the residual beyond trailing 21-session
realised vol, moving-block bootstrap intervals) and prints a table, or with ``--json`` one JSON array with
one object per (horizon, quintile). Method and measured results: ``docs/evidence.md``.

Exit codes (:mod:`gex_cli.errors`): 0 done; 1 the file or warehouse is missing, unreadable or too short (no
underlying has enough history), the warehouse is locked with no snapshot yet; 2 usage error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES

#: External series ``--external`` accepts.
EXTERNAL_SOURCES = ("squeezemetrics",)
#: Default file: the name SqueezeMetrics serves it under, in the current directory.
DEFAULT_DIX = Path("DIX.csv")
#: Sessions a history needs at the least (a 21-session forward window and a 21-session trailing one, twice over).
MIN_SESSIONS = 100


def stats(
    external: Annotated[
        str | None,
        typer.Option("--external", help="External GEX history to measure: squeezemetrics (their DIX.csv)."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="SqueezeMetrics' DIX.csv (default: ./DIX.csv).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array, one object per (horizon, quintile).")] = False,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 2000,
    level: Annotated[float, typer.Option("--level", help="Confidence level of the intervals, e.g. 0.95.")] = 0.95,
    block: Annotated[
        int | None,
        typer.Option("--block", help="Bootstrap block length, sessions (default: max(h, n^(1/3), Politis-White)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Bootstrap seed (default: fixed, so runs repeat).")] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    underlying: Annotated[
        str | None, typer.Option("--underlying", "-u", help="Only this underlying (default: every one computed).")
    ] = None,
    preset: Annotated[
        str, typer.Option("--preset", help="Levels of this preset: native (default), perfiliev, perfiliev-early, gflows.")
    ] = "native",
) -> None:
    """Does GEX say anything about the next sessions? Figures with sample sizes and bootstrap intervals.

    Without --external: the warehouse's own levels (published view level_outcomes): call/put walls held
    over the next session (high/low and close), forward 1/5/21-session realised vol (close-to-close and
    Parkinson) by regime, flip-distance bucket and GEX quintile, forward return std and 5%/95% quantiles by
    regime. With --external squeezemetrics: SPX forward realised vol by SqueezeMetrics' GEX quintile and what
    GEX adds beyond trailing 21-session realised vol. Method and measured results: docs/evidence.md.
    """
    if external is None:
        if file is not None:
            raise _fail("--file is the external series' file: give --external squeezemetrics with it", EXIT_USAGE)
        _check_bootstrap_options(n_boot, level, block)
        _warehouse_stats(warehouse, underlying, preset, as_json, n_boot, level, block, seed)
        return
    if warehouse is not None or underlying is not None or preset != "native":
        raise _fail("--warehouse, --underlying and --preset measure the warehouse: leave out --external", EXIT_USAGE)
    if external not in EXTERNAL_SOURCES:
        raise _fail(f"unknown --external {external!r}; choose one of {', '.join(EXTERNAL_SOURCES)}", EXIT_USAGE)
    _check_bootstrap_options(n_boot, level, block)
    path = file if file is not None else DEFAULT_DIX
    if not path.is_file():
        hint = "" if file is not None else " (download SqueezeMetrics' DIX.csv and pass --file)"
        raise _fail(f"{path}: no such file{hint}", EXIT_BAD_INPUT)

    from gex import calendar
    from gex.evidence import BootstrapSettings, external_gex_evidence
    from gex.evidence.bootstrap import DEFAULT_SEED
    from gex_sources.errors import SourceError
    from gex_sources.squeezemetrics import read_dix

    try:
        data = read_dix(path)
    except SourceError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    for line in data.rejects.head(5).iter_rows(named=True):
        typer.echo(f"gex: warning: {path}: {_reject_text(line)}", err=True)
    if data.rejects.height > 5:
        typer.echo(f"gex: warning: {path}: {data.rejects.height - 5} more rejected rows", err=True)
    frame = data.frame.sort("session").unique("session", keep="first", maintain_order=True)
    if frame.height < MIN_SESSIONS:
        raise _fail(f"{path}: {frame.height} usable sessions; at least {MIN_SESSIONS} are needed", EXIT_BAD_INPUT)
    first, last = frame["session"][0], frame["session"][-1]
    missing = len(calendar.sessions_between(first, last)) - frame.height
    if missing > 0:
        typer.echo(f"gex: warning: {path}: {missing} NYSE sessions between {first} and {last} are missing; "
                   "forward windows span them", err=True)
    settings = BootstrapSettings(n_boot=n_boot, level=level, seed=DEFAULT_SEED if seed is None else seed, block=block)
    evidence = external_gex_evidence(frame["underlying_close"].to_numpy(), frame["gex_usd"].to_numpy(), settings=settings)
    if as_json:
        typer.echo(json.dumps(json_rows(evidence), indent=2, allow_nan=False))
    else:
        _print_table(evidence, path, first, last, frame.height)


def _check_bootstrap_options(n_boot: int, level: float, block: int | None) -> None:
    if n_boot < 100:
        raise _fail(f"--n-boot {n_boot} is too few replicates for an interval (give at least 100)", EXIT_USAGE)
    if not 0.5 <= level < 1:
        raise _fail(f"--level {level} must be in [0.5, 1), e.g. 0.95", EXIT_USAGE)
    if block is not None and block < 1:
        raise _fail("--block must be a positive number of sessions", EXIT_USAGE)


def _warehouse_stats(warehouse: Path | None, underlying: str | None, preset: str, as_json: bool, n_boot: int,
                     level: float, block: int | None, seed: int | None) -> None:
    """The warehouse's own levels (``main.level_outcomes``) measured; see :mod:`gex_cli.stats_warehouse`."""
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    if underlying is not None:
        underlying = underlying.strip().upper().lstrip("^")
        if not underlying or len(underlying) > 16 or not all(ch.isalnum() or ch in "._" for ch in underlying):
            raise _fail(f"--underlying {underlying!r} is not a ticker (letters, digits, '.', '_')", EXIT_USAGE)

    import duckdb
    from gex.evidence import BootstrapSettings
    from gex.evidence.bootstrap import DEFAULT_SEED
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError, WarehouseLockedError
    from gex_warehouse.published import open_published, opened_file

    from gex_cli import stats_warehouse as sw
    from gex_cli.sql_cmd import _locked_message

    target = warehouse_path(warehouse)
    try:
        con = open_published(target)
    except WarehouseLockedError as exc:
        raise _fail(_locked_message(str(exc), target), EXIT_BAD_INPUT) from None
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        source = opened_file(con)
        frames = sw.read_outcomes(con, preset, underlying)
    except sw.StatsInputError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except duckdb.Error as exc:
        raise _fail(f"{target}: cannot read main.{sw.VIEW}: {' '.join(str(exc).split())}", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    settings = BootstrapSettings(n_boot=n_boot, level=level, seed=DEFAULT_SEED if seed is None else seed, block=block)
    results = sw.measure(frames, settings, lambda text: typer.echo(f"gex: warning: {text}", err=True))
    if not results:
        raise _fail(f"{source}: no underlying has at least {sw.MIN_SESSIONS} computed sessions followed by a close; "
                    "nothing to measure yet", EXIT_BAD_INPUT)
    if as_json:
        typer.echo(json.dumps(sw.json_rows(results, preset), indent=2, allow_nan=False))
    else:
        sw.print_tables(results, preset, source)


def _reject_text(row: dict[str, object]) -> str:
    where = f"line {row['source_line']}: " if row.get("source_line") is not None else ""
    return f"{where}{row.get('reason', 'rejected')}"


def _clean(value: object) -> object:
    """JSON-safe value: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_rows(evidence: object) -> list[dict[str, object]]:
    """One object per (horizon, quintile): the table's columns (GEX range in USD as SqueezeMetrics publish it),
    plus the OLS fit of that horizon and the Q1 - Q5 differences with their intervals."""
    from gex.evidence import ExternalEvidence

    assert isinstance(evidence, ExternalEvidence)
    fits = {r["horizon_days"]: r for r in evidence.fits.iter_rows(named=True)}
    diffs = {(r["horizon_days"], r["statistic"]): r for r in evidence.contrasts.iter_rows(named=True)}
    out = []
    for row in evidence.table.iter_rows(named=True):
        h = row["horizon_days"]
        fit = fits.get(h, {})
        d_rv = diffs.get((h, "forward_rv"), {})
        d_res = diffs.get((h, "forward_rv_residual"), {})
        obj = {
            "horizon_days": h,
            "quintile": row["quintile"],
            "n": row["n"],
            "gex_min_usd": row["gex_min"],
            "gex_max_usd": row["gex_max"],
            "forward_rv": row["forward_rv"],
            "forward_rv_ci_low": row["forward_rv_ci_low"],
            "forward_rv_ci_high": row["forward_rv_ci_high"],
            "residual_rv": row["residual_rv"],
            "residual_rv_ci_low": row["residual_rv_ci_low"],
            "residual_rv_ci_high": row["residual_rv_ci_high"],
            "residual_n": row["residual_n"],
            "small_sample": row["small_sample"],
            "trailing_fit_intercept": fit.get("intercept"),
            "trailing_fit_slope": fit.get("slope"),
            "trailing_fit_r2": fit.get("r2"),
            "q1_minus_q5_rv": d_rv.get("value"),
            "q1_minus_q5_rv_ci_low": d_rv.get("ci_low"),
            "q1_minus_q5_rv_ci_high": d_rv.get("ci_high"),
            "q1_minus_q5_residual": d_res.get("value"),
            "q1_minus_q5_residual_ci_low": d_res.get("ci_low"),
            "q1_minus_q5_residual_ci_high": d_res.get("ci_high"),
            "block_length": row["block_length"],
            "n_boot": row["n_boot"],
            "level": row["level"],
            "units": "vols and residuals decimal per year; gex USD per 1% move (SqueezeMetrics)",
        }
        out.append({k: _clean(v) for k, v in obj.items()})
    return out


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def _print_table(evidence: object, path: Path, first: object, last: object, sessions: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from gex.evidence import ExternalEvidence

    assert isinstance(evidence, ExternalEvidence)
    con = Console(highlight=False)
    level = evidence.table["level"][0]
    con.print(f"[bold]SPX forward realised vol by SqueezeMetrics GEX quintile[/bold]   source: {path}")
    con.print(f"{sessions:,} sessions {first} .. {last}; Q1 = lowest GEX; vols in % per year (zero-mean close-to-close); "
              f"[{level:.0%} moving-block bootstrap interval]")
    for h in evidence.table["horizon_days"].unique(maintain_order=True).to_list():
        part = evidence.table.filter(evidence.table["horizon_days"] == h)
        fit = evidence.fits.filter(evidence.fits["horizon_days"] == h).row(0, named=True)
        t = Table(title=f"{h}-session forward vol (block {part['block_length'][0]} sessions)", title_justify="left")
        for name in ("quintile", "n", "GEX ($bn)", f"forward RV % [{level:.0%}]", f"beyond trailing RV, pp [{level:.0%}]"):
            t.add_column(name, justify="right")
        for r in part.iter_rows(named=True):
            flag = " small" if r["small_sample"] else ""
            t.add_row(f"Q{r['quintile']}", f"{r['n']:,}{flag}", f"{r['gex_min'] / 1e9:+.1f} .. {r['gex_max'] / 1e9:+.1f}",
                      f"{_pct(r['forward_rv'])} [{_pct(r['forward_rv_ci_low'])}, {_pct(r['forward_rv_ci_high'])}]",
                      f"{_pct(r['residual_rv'], True)} [{_pct(r['residual_rv_ci_low'], True)}, "
                      f"{_pct(r['residual_rv_ci_high'], True)}]")
        con.print(t)
        for r in evidence.contrasts.filter(evidence.contrasts["horizon_days"] == h).iter_rows(named=True):
            what = "forward RV" if r["statistic"] == "forward_rv" else "beyond trailing RV"
            con.print(f"  Q1 - Q5 {what}: {_pct(r['value'], True)} vol pts [{_pct(r['ci_low'], True)} .. "
                      f"{_pct(r['ci_high'], True)}]")
        con.print(f"  OLS forward RV = {fit['intercept']:.3f} + {fit['slope']:.3f} x trailing 21-session RV "
                  f"(R^2 {fit['r2']:.2f}, n {fit['n']:,})")
