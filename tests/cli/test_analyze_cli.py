"""`gex analyze` and `gex sample` as a user runs them: exit codes, stdout and stderr (the command in this process,
:mod:`tests.gex_runner`; the readable summary also from a real ``gex`` process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_file
from tests.gex_runner import Done, gex_in_process, gex_process

REQUIRED_KEYS = {"as_of", "underlying", "spot", "total_gex", "call_gex", "put_gex", "gamma_flip", "flip_crossings",
                 "call_wall", "put_wall", "abs_gamma_strike", "regime", "preset", "contracts_used", "contracts_excluded"}


def gex(*args: str) -> Done:
    """``gex *args`` in this process (:mod:`tests.gex_runner`); ``gex_process`` runs a real one."""
    return gex_in_process(*args)


@pytest.fixture(scope="module")
def sample_chain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "sample.csv"
    done = gex("sample", "--out", str(out), "--session", "2024-01-05", "--spot", "4700", "--seed", "3", "--contracts", "4000")
    assert done.returncode == 0, done.stderr
    assert "session 2024-01-05" in done.stdout
    return out


def test_json_output_has_the_contract(sample_chain):
    done = gex("analyze", str(sample_chain), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert REQUIRED_KEYS <= out.keys()
    assert out["as_of"] == "2024-01-05" and out["underlying"] == "SPX" and out["preset"] == "native"
    assert out["total_gex"] == pytest.approx(out["call_gex"] + out["put_gex"])
    assert out["regime"] == ("positive" if out["gex_at_spot_model"] > 0 else "negative")
    assert out["contracts_excluded"].get("expired", 0) > 0  # the 0-DTE rows of an evening snapshot
    assert out["conventions"]["day_count"] == "act365"


@pytest.mark.parametrize("run", [gex, gex_process], ids=["in-process", "process"])
def test_readable_summary(sample_chain, run):
    done = run("analyze", str(sample_chain), "--preset", "perfiliev")
    assert done.returncode == 0, done.stderr
    for text in ("as of session 2024-01-05", "Total GEX", "$bn per 1% move", "Gamma flip", "Call wall", "Put wall", "preset perfiliev"):
        assert text in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("\x00\x01\x02garbage\xff" * 20, ""),
        ("just,some,csv\n1,2,3\n", ""),
    ],
    ids=["empty", "binary", "not-a-chain"],
)
def test_bad_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="latin-1")
    done = gex("analyze", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gex: error:") and "bad.csv" in lines[0] and message in lines[0]


def test_missing_file_and_usage_errors(tmp_path):
    done = gex("analyze", str(tmp_path / "nope.csv"))
    assert done.returncode == 1 and "Traceback" not in done.stderr and "nope.csv" in done.stderr
    done = gex("analyze", str(tmp_path / "nope.csv"), "--preset", "squeeze")
    assert done.returncode == 2 and "unknown preset" in done.stderr
    done = gex("analyze", str(tmp_path / "nope.csv"), "--rate", "4.5")
    assert done.returncode == 2 and "decimal" in done.stderr


def test_corrupt_header_date_is_quoted(tmp_path, sample_chain):
    lines = sample_chain.read_text().splitlines(keepends=True)
    lines[2] = '"Date: 4 June 4, 3:15 PM EDT",Bid: 0,Ask: 0,Size: 0*0,Volume: 0\n'
    bad = tmp_path / "corrupt.csv"
    bad.write_text("".join(lines))
    done = gex("analyze", str(bad))
    assert done.returncode == 1 and "corrupt.csv:3" in done.stderr and "4 June 4" in done.stderr


def test_gflows_json_on_real_file():
    path = shared_file("cboe_json/SPY_2025-06-06_eod__osamanoman_tradingforcast.json")
    done = gex("analyze", str(path), "--preset", "gflows", "--rate", "0.0451", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert round(out["total_gex"] / 1e9, 10) == 3.3807484206 and round(out["gamma_flip"], 7) == 592.8292492
