"""Every ``--json`` output of every command parses with a strict JSON parser (no NaN/Infinity tokens), and
``gex analyze`` answers a file it cannot analyse with one line and exit 1 (issue 10, defects 4, 10, 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from gex_cli import jsonout
from gex_fetch.replay import Reply, ReplayServer
from gex_cli.main import app
from tests.warehouse.helpers import chain_csv, chain_json

runner = CliRunner()


def strict(text: str) -> object:
    """Parse ``text`` refusing the NaN/Infinity/-Infinity tokens Python's json module would accept."""

    def refuse(token: str) -> object:
        raise ValueError(f"non-JSON token {token}")

    return json.loads(text, parse_constant=refuse)


#: Commands whose --json prints JSON Lines (one strict object per line) rather than one document.
JSON_LINES = {"replay"}


def json_commands() -> set[str]:
    """Commands that can print JSON: a ``--json`` flag, or a ``--format`` option offering json."""
    group = get_command(app)
    found = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            if "--json" in getattr(param, "opts", ()):
                found.add(name)
            if "--format" in getattr(param, "opts", ()) and "json" in (param.help or ""):
                found.add(name)
    return found


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    return chain_csv(tmp_path_factory.mktemp("json") / "spx.csv")


def _run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.parametrize("preset", ["native", "perfiliev", "perfiliev-early", "gflows"])
def test_analyze_json_is_strict(chain, preset):
    out = strict(_run("analyze", str(chain), "--preset", preset, "--json"))
    assert isinstance(out, dict) and out["preset"] == preset
    if preset == "gflows":  # its IV cap is infinite: no cap, written as null (was the token Infinity)
        assert out["conventions"]["iv_max"] is None


def test_every_json_command_is_checked(chain, tmp_path):
    checked = {
        "analyze": ["analyze", str(chain), "--json"],
        "advise": ["advise", "--spot", "100", "--strike", "100", "--dte", "30", "--iv", "0.2", "--right", "call",
                   "--contracts", "4", "--json"],  # fmt: skip
        "simulate": ["simulate", "--paths", "20", "--days", "5", "--steps-per-day", "13", "--seed", "1",
                     "--strategies", "advisor,clock:60", "--json"],  # fmt: skip
        "sql": ["sql", "SELECT 'NaN'::DOUBLE AS nan_value, 'Infinity'::DOUBLE AS inf_value, 1.5::DOUBLE AS x",
                "--format", "json", "--warehouse", str(tmp_path / "gex.duckdb")],  # fmt: skip
    }
    checked["stats"] = ["stats", "--external", "squeezemetrics", "--file", str(_dix(tmp_path)), "--n-boot", "100", "--json"]
    from tests.warehouse.scanner_market import build_scanner_warehouse

    checked["scan"] = ["scan", "--warehouse", str(build_scanner_warehouse(tmp_path / "scan.duckdb")), "--json"]
    from tests.report.intraday_fixture import SESSION, snapshot_rows, write_published

    regime, strikes = snapshot_rows(SESSION, [5, 10, 15])
    (tmp_path / "replay").mkdir()
    write_published(tmp_path / "replay" / "gex.published.duckdb", regime, strikes)
    checked["replay"] = ["replay", "SPX", str(SESSION), "-w", str(tmp_path / "replay" / "gex.duckdb"), "--json"]
    server = ReplayServer().__enter__()
    try:
        server.add("/api/global/delayed_quotes/options/_SPX.json", Reply(body=_cboe_body(), content_type="application/json"))
        checked["fetch"] = ["fetch", "cboe", "SPX", "--landing", str(tmp_path / "landing"), "--base-url", server.base_url,
                            "--json"]
        assert json_commands() == set(checked), "a command gained JSON output: add it here"
        _check_all(checked, tmp_path, chain)
    finally:
        server.__exit__(None, None, None)


def _dix(tmp_path: Path) -> Path:
    """A small SqueezeMetrics-shaped DIX.csv (a random walk, GEX noise): enough sessions for every horizon."""
    import datetime as dt

    import numpy as np
    from gex import calendar

    sessions = calendar.sessions_between(dt.date(2020, 1, 2), dt.date(2020, 12, 31))
    rng = np.random.default_rng(1)
    price = 3000 * np.exp(np.cumsum(0.01 * rng.normal(size=len(sessions))))
    path = tmp_path / "DIX.csv"
    path.write_text("date,price,dix,gex\n" + "".join(
        f"{d.isoformat()},{p:.6f},0.42,{g:.4f}\n" for d, p, g in zip(sessions, price, rng.normal(3e9, 2e9, len(sessions)))))
    return path


def _cboe_body() -> bytes:
    from gex_market import generate_chain
    from gex_market.api_shapes import render_responses

    import datetime as dt

    [response] = render_responses(generate_chain(dt.date(2025, 1, 6), 5000.0, seed=2, max_contracts=300), "cboe")
    return response.body


def _check_all(checked: dict[str, list[str]], tmp_path: Path, chain: Path) -> None:
    """Run every JSON command and parse its output strictly."""
    if not (tmp_path / "gex.duckdb").exists():
        assert runner.invoke(app, ["ingest", str(chain), "--warehouse", str(tmp_path / "gex.duckdb")]).exit_code == 0
    for name, args in checked.items():
        text = _run(*args)
        if name in JSON_LINES:
            assert text.strip()
            for line in text.splitlines():
                strict(line)
        else:
            strict(text)
    sql_rows = strict(_run(*checked["sql"]))
    assert sql_rows == [{"nan_value": None, "inf_value": None, "x": 1.5}]


def test_helper_maps_non_finite_and_refuses_nothing_else():
    import numpy as np

    text = jsonout.dumps({"a": float("nan"), "b": np.float64("inf"), "c": [np.int64(3), -float("inf")], "d": (1,)})
    assert strict(text) == {"a": None, "b": None, "c": [3, None], "d": [1]}


# --- gex analyze on files it cannot analyse: one line, exit 1 ----------------------------------------------


def _analyze_fails(path: Path, *fragments: str) -> None:
    res = runner.invoke(app, ["analyze", str(path)])
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gex: error: "), res.stderr
    assert "Traceback" not in res.output + res.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_squeezemetrics_file(tmp_path):
    path = tmp_path / "DIX.csv"
    path.write_text("date,price,dix,gex\n2024-01-05,4697.24,0.41,1897312571.4\n")
    _analyze_fails(path, str(path), "SqueezeMetrics DIX/GEX", "reference data, not an option chain", "gex ingest")


def test_open_interest_file(tmp_path):
    path = tmp_path / "oi.csv"
    path.write_text("date,symbol,open_interest\n2024-01-05,SPXW240119C04700000,5\n")
    _analyze_fails(path, "open interest", "not an option chain")


def test_json_nested_100k_deep(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _analyze_fails(path, str(path), "invalid JSON: nested too deeply")


def test_huge_numbers_are_rejected_rows_not_a_crash(tmp_path):
    doc = chain_json(tmp_path / "spx.json")
    doc["data"]["options"][3]["open_interest"] = 10**30
    doc["data"]["options"][4]["volume"] = 10**400
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    out = strict(_run("analyze", str(path), "--json"))
    assert isinstance(out, dict) and out["underlying"] == "SPX"


def test_corrupt_header_year(tmp_path, chain):
    path = tmp_path / "y1990.csv"
    path.write_text(chain.read_text().replace("January 5, 2024", "January 5, 1990"))
    _analyze_fails(path, "implausible header date: session 1990-01-05")


def test_reader_bug_is_one_line_exit_1(tmp_path, chain, monkeypatch):
    import gex_sources

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(gex_sources, "read_chain", broken)
    _analyze_fails(chain, str(chain), "cannot read the file: RuntimeError: boom second line")
