"""Run the ``gex`` command in the tests: in this process (the command's Typer app under Typer's runner) or as a
real ``python -m gex_cli`` process, with one result type.

Why both: a ``gex`` process costs ~1.3-2 s of CPU before its first line (Python, polars, DuckDB and, for the
writers, numba's kernels; ``gex sql`` measured), and the suite ran the command a few hundred times. The command in this process
gives the same exit code, stdout and stderr for what these tests check (messages, tables, JSON, files); what
only a process shows stays a process: the entry point's internal-error guard, signals and Ctrl-C, a second
process holding the warehouse (DuckDB shares one file between the connections of one process, so a lock is
only a lock between processes), the flows and their temporary Prefect API, environment a command sets. Each
file that runs the command in-process keeps at least one real process run of it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import NamedTuple

#: Environment every run gets: a wide terminal (tables are not wrapped) and no progress bars.
BASE_ENV = {"COLUMNS": "200", "GEX_PROGRESS": "0"}


class Done(NamedTuple):
    """The fields of :class:`subprocess.CompletedProcess` the tests read."""

    returncode: int
    stdout: str
    stderr: str


def gex_in_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Done:
    """``gex *args`` in this process. An exception escaping the command fails the test with its traceback (as a
    process, ``gex`` would report it as an internal error, exit 3: a bug either way)."""
    from typer.testing import CliRunner

    from gex_cli.main import app

    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = CliRunner().invoke(app, list(args), env={**BASE_ENV, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("".join(traceback.format_exception(result.exception)))
    return Done(result.exit_code, result.stdout, result.stderr)


def gex_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> Done:
    """``gex *args`` as a user runs it: a new ``python -m gex_cli`` process."""
    done = subprocess.run([sys.executable, "-m", "gex_cli", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **BASE_ENV, **(env or {})}, cwd=cwd)
    return Done(done.returncode, done.stdout, done.stderr)
