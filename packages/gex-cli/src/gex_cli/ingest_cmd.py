"""``gex ingest PATH...``: load chain and reference files into the DuckDB warehouse.

Exit codes follow :mod:`gex_cli.main`: 0 every file is in the warehouse (loaded now or already), 1 some file
failed or had every record rejected (one line per such file on stderr, naming it and the problem), or the
warehouse is held by another process; 2 usage error (unknown ``--format``, no path).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.interrupts import long_command

if TYPE_CHECKING:
    from gex_warehouse.load import LoadResult


def _notes(r: LoadResult) -> str:
    notes: list[str] = []
    if r.status == "already loaded":
        notes.append(r.message or "already loaded")
    elif r.status == "failed":
        notes.append("FAILED (see below)")
    elif r.status == "rejected":
        notes.append(f"REJECTED: {r.message}")
    notes += [f"partial chain: {p.split(': ', 1)[-1]}" for p in r.partial]
    if r.status == "loaded" and r.rows_excluded:
        notes.append(f"{r.rows_excluded:,} expired excluded")
    notes += [f"replaced {x}" for x in r.replaced]
    notes += [w for w in r.warnings if not w.endswith("(see snapshot.rejects)")]
    return "; ".join(notes)


def _summary_table(results: list[LoadResult]):
    from rich.table import Table

    table = Table(title="gex ingest", title_justify="left", show_lines=False)
    for name, justify in (
        ("file", "left"),
        ("format", "left"),
        ("underlying", "left"),
        ("session", "left"),
        ("loaded", "right"),
        ("rejected", "right"),
        ("excluded", "right"),
        ("warnings", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        if r.session is not None:
            session = str(r.session)
        elif r.sessions:
            session = f"{min(r.sessions)}..{max(r.sessions)}"
        else:
            session = ""
        table.add_row(
            r.path.name,
            r.format or "",
            r.underlying or "",
            session,
            f"{r.rows_loaded:,}",
            f"{r.rows_rejected:,}",
            f"{r.rows_excluded:,}",
            _notes(r),
        )
    return table


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders (every file inside, recursively, sorted) to load.", show_default=False),
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Force the source format (default: detected from each file's content)."),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            "-w",
            help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb under the current directory).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Load files again even when their content is already in the warehouse.")
    ] = False,
) -> None:
    """Load option chains and reference data (OI, rates, closes, external GEX) into the DuckDB warehouse.

    Each file loads in one transaction: a file already loaded (same content) is skipped, a new file for a
    session already in the warehouse replaces it, bad rows go to raw.quarantine with their line and reason.
    """
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.load import expand_paths
    from gex_warehouse.sources import known_formats

    if fmt is not None and fmt not in known_formats():
        raise _fail(f"unknown --format {fmt!r}; choose one of {', '.join(known_formats())}", EXIT_USAGE)
    files = expand_paths(paths)
    if not files:
        raise _fail("no files to ingest (the folders given are empty)", EXIT_USAGE)
    target = warehouse_path(warehouse)
    with long_command():  # Ctrl-C: stop between files (or roll the current one back), say so, exit 130
        _ingest(files, fmt, force, target)


def _ingest(files: list[Path], fmt: str | None, force: bool, target: Path) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gex_warehouse.config import ingest_memory_limit
    from gex_warehouse.connect import WarehouseError, connect
    from gex_warehouse.load import checkpoint, ingest_file
    from gex_warehouse.writer import busy

    from pipelines import runtime

    try:
        con = connect(target, memory_limit=ingest_memory_limit())
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None

    out = Console(highlight=False)
    if not out.is_terminal:  # piped or logged: no terminal width to fit, keep one line per file
        out = Console(highlight=False, width=220)
    err = Console(stderr=True)
    results: list[LoadResult] = []
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TextColumn("{task.fields[records]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("ingest", total=len(files), records="")
            runtime.tally.plan("files ingested", len(files))
            for file in files:

                def progress(stage: str, records: int, name: str = file.name) -> None:
                    runtime.check_stop()  # a stop request ends the load at its next chain, rolled back
                    bar.update(task, description=f"{name}: {stage}", records=f"{records:,} records" if records else "")

                runtime.check_stop()
                with runtime.stoppable(), busy(con):
                    results.append(ingest_file(con, file, format=fmt, force=force, progress=progress))
                    runtime.tally.done("files ingested")  # still busy: no Ctrl-C between commit and count
                bar.advance(task)
        checkpoint(con)
    finally:
        con.close()

    out.print(_summary_table(results))
    loaded = sum(r.status == "loaded" for r in results)
    already = sum(r.status == "already loaded" for r in results)
    bad = [r for r in results if not r.ok]
    out.print(
        f"{len(results)} file{'s' if len(results) != 1 else ''}: {loaded} loaded, {already} already loaded, {len(bad)} failed or rejected "
        f"-> {target}"
    )
    for r in bad:
        message = r.message or "failed"
        typer.echo(f"gex: error: {message}" if str(r.path) in message else f"gex: error: {r.path}: {message}", err=True)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)
