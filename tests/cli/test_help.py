"""Every `gex` subcommand answers --help (exit 0, a usage line) without importing Prefect or touching data."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from gex_cli.main import app

COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_the_expected_commands_exist():
    assert set(COMMANDS) >= {"analyze", "sample", "ingest", "generate", "compute", "nightly", "backfill", "publish",
                             "demo", "serve", "advise", "simulate", "report", "sql", "compact"}


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    out = CliRunner().invoke(app, [command, "--help"])
    assert out.exit_code == 0, out.output
    assert "Usage:" in out.output and f"gex {command}" in out.output.replace("  ", " ")


def test_the_cli_knows_the_cores_presets():
    from gex.conventions import PRESETS

    from gex_cli.options import PRESET_NAMES

    assert PRESET_NAMES == tuple(PRESETS)
