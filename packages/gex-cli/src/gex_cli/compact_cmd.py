"""``gex compact``: give back the space a warehouse file keeps after deletes and upgrades.

DuckDB reuses freed blocks but never shrinks a file; this copies the warehouse's rows into a fresh file, checks
every table against the original, and swaps it in with one rename (:mod:`gex_warehouse.compact`). Worth running
once after an upgrade that rebuilt tables (migration 0010: ~4x smaller marts) or after deleting much data.

Exit codes (:mod:`gex_cli.errors`): 0 done (or nothing worth reclaiming); 1 no warehouse, locked, not enough disk
space, objects that are not gex's, a copy that did not check out (the warehouse is unchanged in every case);
130/143 interrupted (the copy is deleted, the warehouse unchanged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT
from gex_cli.errors import fail as _fail


def compact(
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Copy even when less than 10% (or 32 MiB) of the file is free.")] = False,
    lock_wait: Annotated[float, typer.Option(
        "--lock-wait", help="Seconds to wait for another job to release the warehouse before failing (default 0).")] = 0.0,
) -> None:
    """Compact the warehouse file: copy its rows into a fresh file, check them, swap it in (needs free disk space
    about the size of the data). Nothing is lost or changed; readers of the published snapshot are unaffected."""
    from gex_warehouse.config import ingest_memory_limit, warehouse_path

    from gex_cli.interrupts import long_command

    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: nothing to compact", EXIT_BAD_INPUT)
    with long_command():  # Ctrl-C: the copy is deleted, the warehouse unchanged; exit 130
        _compact(target, force, lock_wait, ingest_memory_limit())


def _compact(target: Path, force: bool, lock_wait: float, memory_limit: str | None) -> None:
    from gex_warehouse.compact import compact as compact_warehouse
    from gex_warehouse.connect import WarehouseError
    from gex_warehouse.writer import busy

    from pipelines import runtime

    def waiting(refused: WarehouseError) -> None:
        typer.echo(f"gex: {refused}; waiting up to {lock_wait:.0f} s", err=True)

    def copied(name: str, done: int, total: int) -> None:
        if done == 1:
            runtime.tally.plan("tables copied", total)
        runtime.tally.done("tables copied")

    def stop() -> bool:
        runtime.check_stop()  # raises when Ctrl-C asked to stop: the copy is deleted on the way out
        return False

    runtime.tally.step("compacted warehouse")
    try:
        result = compact_warehouse(target, force=force, wait_seconds=lock_wait, on_wait=waiting, on_table=copied,
                                   should_stop=stop, connection_wrapper=busy, memory_limit=memory_limit)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except OSError as exc:
        raise _fail(f"cannot compact {target}: {exc.strerror or type(exc).__name__}"
                    f"{f' ({exc.filename})' if exc.filename else ''}; the warehouse is unchanged", EXIT_BAD_INPUT) from None
    runtime.tally.step("compacted warehouse", finished=True)
    mib = 2**20
    if result.skipped:
        typer.echo(f"{target}: {result.bytes_before / mib:,.1f} MiB, {result.free_share_before:.0%} free: nothing worth "
                   "reclaiming (--force copies anyway)")
        return
    typer.echo(f"compacted {target}: {result.bytes_before / mib:,.1f} MiB -> {result.bytes_after / mib:,.1f} MiB "
               f"({result.tables} tables, {result.rows:,} rows copied and checked) in {result.seconds:.1f} s")
