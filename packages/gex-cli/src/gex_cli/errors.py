"""Exit codes of every ``gex`` command and the one way they report a user's mistake.

Stable, for schedulers: 0 success; 1 bad input data (unreadable or invalid file, a warehouse held by another
job, a failed session); 2 usage error (bad option or argument); 3 unexpected internal error (a bug);
130 interrupted by Ctrl-C (SIGINT, 128 + 2) and 143 stopped by SIGTERM (128 + 15), after saying what
finished (:mod:`gex_cli.interrupts`): a rerun resumes.
"""

from __future__ import annotations

import typer

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: Shell convention 128 + signal number: Ctrl-C (SIGINT) and a service manager's stop (SIGTERM).
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


def fail(message: str, code: int) -> typer.Exit:
    """Print ``gex: error: message`` on stderr and return the ``typer.Exit(code)`` to raise (no traceback)."""
    typer.echo(f"gex: error: {message}", err=True)
    return typer.Exit(code)
