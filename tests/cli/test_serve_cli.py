"""``gex serve`` as a user runs it: no server configured, a server that does not answer, ``--dry-run``, and
usage errors. Nothing here needs a Prefect server (the real one is in tests/flows/test_serve.py).

The server cases run ``gex`` in a subprocess with a private ``PREFECT_HOME``: Prefect reads its settings (the
environment and the profile) once per process, and real exit codes and stderr are what a scheduler sees.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gex_cli.main import app
from typer.testing import CliRunner

UTC = dt.timezone.utc


def gex(*args: str, home: Path, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")}
    env.update(PREFECT_HOME=str(home), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run([sys.executable, "-m", "gex_cli", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


def test_no_server_configured_says_what_to_do(tmp_path, landing):
    done = gex("serve", "--landing", str(landing), home=tmp_path / "prefect")
    assert done.returncode == 1
    assert done.stdout == ""
    err = done.stderr
    assert err.startswith("gex: error: no Prefect server is configured (PREFECT_API_URL is not set)")
    for step in ("uv run prefect server start", "uv run prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api",
                 "uv run gex serve", "`gex nightly` runs the same flow once", "docs/scheduling.md"):
        assert step in err
    assert "Traceback" not in err


def test_unreachable_server_is_one_line(tmp_path, landing):
    url = closed_port_url()
    done = gex("serve", "--landing", str(landing), home=tmp_path / "prefect", api_url=url)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"gex: error: no Prefect server answers at {url} ({url}/health: ")
    assert "uv run prefect server start" in lines[0]


def test_the_url_set_in_the_prefect_profile_counts(tmp_path, landing):
    """`prefect config set PREFECT_API_URL=...` writes the active profile, not the environment: it counts too."""
    url = closed_port_url()
    home = tmp_path / "prefect"
    home.mkdir()
    (home / "profiles.toml").write_text(f'active = "local"\n\n[profiles.local]\nPREFECT_API_URL = "{url}"\n')
    done = gex("serve", "--landing", str(landing), home=home)
    assert done.returncode == 1
    assert f"no Prefect server answers at {url}" in done.stderr


def test_dry_run_contacts_no_server(tmp_path, landing):
    from tests.flows.test_serve import weekday_runs  # here, not at collection: it imports Prefect

    before = dt.datetime.now(UTC).replace(microsecond=0)
    done = gex("serve", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"), "-u", "spx", "-u", "^NDX",
               "--dry-run", home=tmp_path / "prefect", api_url=closed_port_url())
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "dry run: nothing registered, no server contacted"
    assert "deployment: nightly/gex-nightly (flow pipelines.nightly.nightly)" in out
    assert "schedule:   cron '0 22 * * 1-5' in America/New_York" in out
    assert (f"parameters: landing={landing.resolve()}, warehouse={(tmp_path / 'w.duckdb').resolve()}, "
            "underlyings=SPX,NDX, presets=native + those the warehouse holds, "
            "watchlist=none (files dropped into the landing folder)") in out
    runs = [line.strip() for line in out[out.index("next 5 runs (America/New_York = UTC):") + 1:]]
    assert len(runs) == 5
    expected = weekday_runs(22, 0, "America/New_York", before, 5)
    utc = [dt.datetime.strptime(r.split(" = ")[1], "%a %Y-%m-%d %H:%M UTC").replace(tzinfo=UTC) for r in runs]
    assert utc == expected
    assert [r.split(" = ")[0] for r in runs] == [f"{e:%a %Y-%m-%d 22:00 %Z}" for e in expected]


def test_dry_run_with_another_schedule_shows_new_york_and_utc(landing):
    """A London schedule is still shown in New York time (the market's clock) and UTC."""
    out = CliRunner().invoke(app, ["serve", "-l", str(landing), "--cron", "30 23 * * *", "--tz", "Europe/London",
                                   "--name", "late", "--check"])
    assert out.exit_code == 0, out.output
    assert "deployment: nightly/late (flow pipelines.nightly.nightly)" in out.output
    assert "schedule:   cron '30 23 * * *' in Europe/London" in out.output
    runs = [line.strip() for line in out.output.splitlines() if line.startswith("  ")]
    assert len(runs) == 5
    for run in runs:
        utc = dt.datetime.strptime(run.split(" = ")[1], "%a %Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
        assert utc.astimezone(ZoneInfo("Europe/London")).time() == dt.time(23, 30)
        assert run.split(" = ")[0] == f"{utc.astimezone(ZoneInfo('America/New_York')):%a %Y-%m-%d %H:%M %Z}"


@pytest.mark.parametrize(("args", "message"), [
    (["--cron", "61 22 * * 1-5"], 'gex: error: --cron: Invalid cron string: "61 22 * * 1-5"'),
    (["--cron", "H 22 * * *"], "gex: error: --cron: Invalid cron string"),
    (["--timezone", "Mars/Olympus"], 'gex: error: --timezone: Invalid timezone: "Mars/Olympus"'),
    (["--tz", "New York"], 'gex: error: --timezone: Invalid timezone: "New York"'),
    (["--cron", "0 0 30 2 *"], 'gex: error: --cron: "0 0 30 2 *" never fires'),
    (["--underlying", " "], "gex: error: --underlying: give a symbol"),
    (["--name", ""], "gex: error: --name ''"),
    (["--name", "a/b"], "gex: error: --name 'a/b'"),
])
def test_usage_errors_exit_2(landing, args, message):
    out = CliRunner().invoke(app, ["serve", "-l", str(landing), "--dry-run", *args])
    assert out.exit_code == 2
    assert out.stderr.startswith(message) and len(out.stderr.strip().splitlines()) == 1


def test_missing_landing_folder_exits_1(tmp_path):
    out = CliRunner().invoke(app, ["serve", "-l", str(tmp_path / "nope"), "--dry-run"])
    assert out.exit_code == 1
    assert out.stderr.startswith("gex: error: no landing folder at ")


def test_cli_import_does_not_import_prefect():
    code = ("import sys, gex_cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pipelines')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cli_defaults_are_the_flow_module_defaults():
    """serve_cmd repeats the defaults so that `gex --help` does not import Prefect: they must agree."""
    from gex_cli import serve_cmd

    from pipelines import serve as serving

    assert (serve_cmd.DEFAULT_CRON, serve_cmd.DEFAULT_TIMEZONE, serve_cmd.DEFAULT_NAME) == (
        serving.DEFAULT_CRON, serving.DEFAULT_TIMEZONE, serving.DEFAULT_NAME)
