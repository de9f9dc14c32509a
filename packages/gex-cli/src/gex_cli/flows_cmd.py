"""``gex nightly`` and ``gex backfill``: run the Prefect flows of ``pipelines/`` in this process.

The flows run on Prefect's temporary local API (no server to start; set ``PREFECT_API_URL`` to use a real
one). Prefect and the flows are imported only when a command runs, so ``gex --help`` stays fast.

Exit codes follow :mod:`gex_cli.main`: 0 every session computed (or nothing to do); 1 a session failed (the
others are still written), a file failed to load, the warehouse is missing or held by another process;
2 usage error (bad date, empty range, unknown preset).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2
PRESET_NAMES = ("native", "perfiliev", "perfiliev-early", "gflows")

#: Prefect settings these commands default (an environment that sets them wins): a startup timeout the
#: temporary API server meets on 2 cores, and no telemetry (docs/flows.md).
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"gex: error: {message}", err=True)
    return typer.Exit(code)


def prefect_env() -> None:
    """Set :data:`PREFECT_DEFAULTS` where the environment leaves them unset (before Prefect is imported)."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def _run(flow: Any, **kwargs: Any) -> Any:
    """Run a flow in-process; a warehouse held by another writer is one line and exit 1."""
    from gex_warehouse.connect import WarehouseError

    try:
        return flow(**kwargs)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except FileNotFoundError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None


def _report(outcomes: list[Any], target: str) -> list[str]:
    failures = [f"{o.underlying} {o.session}: {o.message}" for o in outcomes if o.status != "ok"]
    typer.echo(f"{len(outcomes)} session{'s' if len(outcomes) != 1 else ''} computed ({len(failures)} failed) -> {target}")
    return failures


def nightly(
    landing: Annotated[
        Path | None,
        typer.Option("--landing", "-l", help="Landing folder of vendor files (default: $GEX_LANDING, else landing/)."),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
) -> None:
    """Nightly flow: ingest the landing folder, compute the latest session of each underlying, publish the day's regimes.

    Runs the Prefect flow pipelines.nightly in this process (temporary local API unless PREFECT_API_URL is
    set); the regimes also go to the Prefect table artifact gex-nightly-regimes.
    """
    folder = landing or Path(os.environ.get("GEX_LANDING", "landing"))
    if not folder.is_dir():
        raise _fail(f"no landing folder at {folder}: pass --landing DIR (or set GEX_LANDING)", EXIT_BAD_INPUT)
    prefect_env()
    from gex_warehouse.config import warehouse_path

    from pipelines.nightly import nightly as nightly_flow

    target = str(warehouse_path(warehouse))
    result = _run(nightly_flow, landing=str(folder), warehouse=target)
    bad_files = [f"{r.path.name}: {r.message or r.status}" for r in result.loads if not r.ok]
    for row in result.regimes:
        flip = "none" if row["gamma_flip"] is None else f"{row['gamma_flip']:,.2f}"
        typer.echo(f"{row['session']} {row['underlying']}: spot {row['spot']:,.2f}, total GEX "
                   f"{row['total_gex_bn_per_1pct']:+,.3f} $bn/1%, flip {flip}, {row['regime']}")
    failures = _report(result.outcomes, target)
    for line in bad_files + failures:
        typer.echo(f"gex: error: {line}", err=True)
    if bad_files or failures:
        raise typer.Exit(EXIT_BAD_INPUT)


def backfill(
    start: Annotated[str, typer.Option("--start", help="First session (YYYY-MM-DD), inclusive.")],
    end: Annotated[str, typer.Option("--end", help="Last session (YYYY-MM-DD), inclusive.")],
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    underlying: Annotated[str | None, typer.Option("--underlying", "-u", help="Only this underlying (SPX, NDX, ...).")] = None,
    preset: Annotated[str, typer.Option("--preset", "-p", help="Conventions: native, perfiliev, perfiliev-early, gflows.")] = "native",
    force: Annotated[bool, typer.Option("--force", help="Recompute sessions already computed.")] = False,
) -> None:
    """Backfill flow: compute every loaded session from --start to --end (inclusive), in parallel.

    Sessions already computed are skipped (so a stopped backfill resumes) unless --force. Runs the Prefect
    flow pipelines.backfill in this process.
    """
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise _fail(f"--start {start!r} / --end {end!r}: dates look like 2024-01-05", EXIT_USAGE) from None
    if last < first:
        raise _fail(f"--end {last} is before --start {first}", EXIT_USAGE)
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    from gex_warehouse.config import warehouse_path

    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    prefect_env()
    from pipelines.backfill import backfill as backfill_flow

    outcomes = _run(backfill_flow, warehouse=str(target), start=first, end=last, underlying=underlying,
                    force=force, preset=preset)
    failures = _report(outcomes, str(target))
    for line in failures:
        typer.echo(f"gex: error: {line}", err=True)
    if failures:
        raise typer.Exit(EXIT_BAD_INPUT)
