"""The ``gex`` command line.

Exit codes (stable, for schedulers): 0 success; 1 bad input data (unreadable or invalid file);
2 usage error (bad option or argument); 3 unexpected internal error (a bug: please report it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gex_cli import render

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(
    name="gex",
    help="Dealer gamma exposure (GEX) analytics: greeks, dealer GEX per 1% move, exact gamma flip, walls, regime.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PRESET_NAMES = ("native", "perfiliev", "perfiliev-early", "gflows")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"gex: error: {message}", err=True)
    return typer.Exit(code)


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
) -> None:
    """Analyse one option-chain snapshot: total dealer GEX ($ per 1% move), flip, walls and regime."""
    from gex.analysis import analyze as run_analysis
    from gex.conventions import preset as get_preset
    from gex_sources import read_chain
    from gex_sources.errors import SourceError

    if preset not in PRESET_NAMES:
        raise _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    if rate is not None and not (-0.05 <= rate <= 0.5):
        raise _fail(f"--rate {rate} looks wrong: give a decimal per year such as 0.045 for 4.5%", EXIT_USAGE)
    try:
        snapshot = read_chain(path, format=fmt)
        result = run_analysis(snapshot, get_preset(preset), rate=rate)
    except SourceError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except (ValueError, KeyError) as exc:
        raise _fail(f"{path}: {exc}", EXIT_BAD_INPUT) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        render.print_analysis(result)


def run() -> None:
    """Entry point that turns unexpected exceptions into exit code 3 with a one-line message."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last-resort guard, reported as a bug
        typer.echo(f"gex: internal error: {type(exc).__name__}: {exc} (this is a bug; please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
