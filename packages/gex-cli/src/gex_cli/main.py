"""The ``gex`` command line.

Exit codes (stable, for schedulers, :mod:`gex_cli.errors`): 0 success; 1 bad input data (unreadable or
invalid file); 2 usage error (bad option or argument); 3 unexpected internal error (a bug: please report it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gex_cli import jsonout
from gex_cli import advise_cmd, compute_cmd, demo_cmd, flows_cmd, generate_cmd, ingest_cmd, report_cmd, serve_cmd, sql_cmd, stats_cmd
from gex_cli import compact_cmd, fetch_cmd, intraday_cmd, replay_cmd, scan_cmd
from gex_cli.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES, expiry_filters

app = typer.Typer(
    name="gex",
    help="Dealer gamma exposure (GEX) analytics: greeks, dealer GEX per 1% move, exact gamma flip, walls, regime.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main() -> None:
    """Dealer gamma exposure (GEX) analytics."""


@app.command()
def analyze(
    path: Annotated[Path, typer.Argument(help="Option-chain file: Cboe quote table (.csv), legacy .dat or delayed-quotes JSON.")],
    preset: Annotated[
        str,
        typer.Option(
            "--preset",
            "-p",
            help="Conventions: native (default: calendar time to settlement, parity forwards, exact flip) "
            "or a compatibility preset reproducing a popular script: perfiliev, perfiliev-early, gflows.",
        ),
    ] = "native",
    rate: Annotated[
        float | None,
        typer.Option("--rate", "-r", help="Risk-free rate, decimal per year, continuous (0.045 = 4.5%). Default: the preset's (0)."),
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Force the file format: cboe_csv, cboe_dat or cboe_json.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the readable summary.")] = False,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw GEX by strike and the profile (flip, walls): out.html (interactive, "
                     "self-contained) or out.png."),
    ] = None,
    expiries: Annotated[
        list[str] | None,
        typer.Option("--expiries", "-e", help="Also show expiry-filtered views (repeatable): all, 0dte, ex-0dte, "
                     "ex-next-expiry, ex-next-monthly, monthly; all-views for every one (docs/conventions.md)."),
    ] = None,
) -> None:
    """Analyse one option-chain snapshot: total dealer GEX ($ per 1% move), flip, walls and regime."""
    if chart is not None and chart.suffix.lower() not in (".html", ".htm", ".png"):
        raise _fail(f"--chart {chart}: give a file ending in .html or .png", EXIT_USAGE)
    from gex.analysis import analyze as run_analysis
    from gex.conventions import preset as get_preset
    from gex_sources.errors import SourceError

    if preset not in PRESET_NAMES:
        raise _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    filters = expiry_filters(expiries or [])
    if rate is not None and not (-0.05 <= rate <= 0.5):
        raise _fail(f"--rate {rate} looks wrong: give a decimal per year such as 0.045 for 4.5%", EXIT_USAGE)
    snapshot = _read_for_analysis(path, fmt)
    try:
        result = run_analysis(snapshot, get_preset(preset), rate=rate)
    except SourceError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except (ValueError, KeyError) as exc:
        raise _fail(f"{path}: {exc}", EXIT_BAD_INPUT) from None
    views = []
    if filters:
        from gex.expiry_views import expiry_views

        views = expiry_views(result, filters)
    if as_json:
        from gex.early_exercise import screen_chain

        doc = result.to_dict()
        doc["early_exercise"] = screen_chain(result.contracts, result.forwards, result.spot).summary()
        if filters:
            doc["expiry_views"] = [v.to_dict(with_profile=True) for v in views]
        jsonout.echo(doc)
    else:
        from gex_cli.render import print_analysis, print_expiry_views

        print_analysis(result)
        if views:
            print_expiry_views(views)
    if chart is not None:
        from gex_cli.render import write_chart

        write_chart(result, chart)


def _read_for_analysis(path: Path, fmt: str | None):  # -> gex.chain.ChainSnapshot (lazy import)
    """The one snapshot of ``path`` for ``gex analyze``, or exit 1 with one line naming the file.

    A reference file (open interest, rates, a SqueezeMetrics DIX/GEX series...) is named as such, with the
    command that loads it. Any other exception while *reading* the file is reported as a bad input (exit
    1) naming the file, never a traceback: the file is what differs from run to run; a reader bug shows
    its exception type in the message (see ``gex_warehouse.load`` for the same rule in ``gex ingest``).
    """
    from gex_sources import FORMATS, detect_format, read_chain
    from gex_sources.errors import SourceError

    try:
        name = fmt if fmt is not None else detect_format(path)
        known = FORMATS.get(name)
        if known is not None and known.kind == "reference":
            raise _fail(
                f"{path}: this is {known.description} ({name}): reference data, not an option chain; "
                "load it into the warehouse with `gex ingest`",
                EXIT_BAD_INPUT,
            )
        return read_chain(path, format=fmt)
    except typer.Exit:
        raise
    except SourceError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except (ValueError, KeyError) as exc:
        raise _fail(f"{path}: {exc}", EXIT_BAD_INPUT) from None
    except FileNotFoundError:
        raise _fail(f"{path}: file not found (deleted or moved while being read?)", EXIT_BAD_INPUT) from None
    except Exception as exc:  # noqa: BLE001 - a bad file gets one line and exit 1, whatever broke
        text = " ".join(str(exc).split())[:300]
        raise _fail(f"{path}: cannot read the file: {type(exc).__name__}: {text}", EXIT_BAD_INPUT) from None


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the Cboe quote-table CSV.")] = Path("warehouse/sample_spx.csv"),
    session: Annotated[
        str | None, typer.Option("--session", help="Trading session YYYY-MM-DD (default: the latest completed session).")
    ] = None,
    spot: Annotated[float, typer.Option("--spot", help="Closing index level, points.")] = 5000.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same file.")] = 7,
    contracts: Annotated[int | None, typer.Option("--contracts", help="Thin the chain to about this many contracts.")] = None,
) -> None:
    """Write a realistic SPX-like option chain (the project's seeded generator) as a Cboe quote table."""
    import datetime as dt

    from gex import calendar
    from gex_market import generate_chain, write_cboe_quote_table

    if session is None:
        now = dt.datetime.now(dt.timezone.utc)
        day = calendar.as_of_session(now)
        day = day if not calendar.is_intraday(now) else calendar.previous_session(day)
    else:
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None
        if not calendar.is_session(day):
            raise _fail(f"--session {day} is not an NYSE trading session", EXIT_USAGE)
    if spot <= 0:
        raise _fail("--spot must be positive", EXIT_USAGE)
    if out.is_dir():
        raise _fail(f"--out {out} is a folder; give the CSV file to write, e.g. {out / 'sample_spx.csv'}", EXIT_USAGE)
    snapshot = generate_chain(day, spot, seed=seed, max_contracts=contracts)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_cboe_quote_table(snapshot, out)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or type(exc).__name__}", EXIT_BAD_INPUT) from None
    typer.echo(f"wrote {snapshot.frame.height:,} contracts of a synthetic {snapshot.underlying} chain for session {day} "
               f"(seed {seed}) to {out}")


app.command("ingest")(ingest_cmd.ingest)
app.command("generate")(generate_cmd.generate)
app.command("compute")(compute_cmd.compute)
app.command("nightly")(flows_cmd.nightly)
app.command("intraday")(intraday_cmd.intraday)
app.command("backfill")(flows_cmd.backfill)
app.command("publish")(flows_cmd.publish)
app.command("demo")(demo_cmd.demo)
app.command("serve")(serve_cmd.serve)
app.command("advise")(advise_cmd.advise)
app.command("simulate")(advise_cmd.simulate)
app.command("report")(report_cmd.report)
app.command("sql")(sql_cmd.sql)
app.command("fetch")(fetch_cmd.fetch)
app.command("stats")(stats_cmd.stats)
app.command("replay")(replay_cmd.replay)
app.command("scan")(scan_cmd.scan)
app.command("compact")(compact_cmd.compact)


def run() -> None:
    """Entry point that turns unexpected exceptions into exit code 3 with a one-line message."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last-resort guard, reported as a bug
        import duckdb

        if isinstance(exc, duckdb.OutOfMemoryException):  # the machine's limit, not a bug: say what to change
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            typer.echo(f"gex: error: DuckDB ran out of memory ({first}); what was committed is kept: raise the "
                       f"warehouse's limit (GEX_WAREHOUSE_MEMORY_LIMIT, e.g. 2GB) or free memory, and run the "
                       f"command again", err=True)
            sys.exit(EXIT_BAD_INPUT)
        typer.echo(f"gex: internal error: {type(exc).__name__}: {exc} (this is a bug; please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
