"""`gex analyze FILE --expiries ...` as a user runs it: exit codes, stdout and stderr (the command in this process,
:mod:`tests.gex_runner`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_analyze_cli import gex


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("expiries") / "sample.csv"
    done = gex("sample", "--out", str(out), "--session", "2024-03-14", "--spot", "5100", "--seed", "4", "--contracts", "3000")
    assert done.returncode == 0, done.stderr
    return out


def test_the_cli_knows_the_cores_filters():
    from gex.expiry_views import EXPIRY_FILTERS

    from gex_cli.options import EXPIRY_FILTER_NAMES

    assert EXPIRY_FILTER_NAMES == EXPIRY_FILTERS


def test_all_views_json_has_every_filter_and_the_partition_holds(chain):
    done = gex("analyze", str(chain), "--expiries", "all-views", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    views = {v["expiries"]: v for v in out["expiry_views"]}
    assert list(views) == ["all", "0dte", "ex-0dte", "ex-next-expiry", "ex-next-monthly", "monthly"]
    assert views["all"]["total_gex"] == out["total_gex"] and views["all"]["gamma_flip"] == out["gamma_flip"]
    assert views["0dte"]["total_gex"] + views["ex-0dte"]["total_gex"] == pytest.approx(out["total_gex"], rel=1e-9)
    assert views["0dte"]["gross_gex_share"] == pytest.approx(out["zero_dte_gamma_share"], rel=1e-12)
    # Thursday evening before the March 2024 monthly: the next monthly is the Friday's AM series
    assert views["ex-next-monthly"]["excluded_expiration"] == "2024-03-15"
    assert views["monthly"]["contracts"] > 0
    assert len(views["0dte"]["profile"]["spot_level"]) == len(views["0dte"]["profile"]["gex_usd_per_1pct"]) > 0


def test_repeated_filters_print_one_table_row_each(chain):
    done = gex("analyze", str(chain), "--expiries", "0dte", "-e", "monthly", "-e", "0dte")
    assert done.returncode == 0, done.stderr
    assert "Expiry views" in done.stdout and "Total GEX" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.lstrip("│ ").startswith(("0dte", "monthly", "ex-"))]
    assert [r.lstrip("│ ").split()[0] for r in rows] == ["0dte", "monthly"]


def test_json_without_expiries_is_unchanged(chain):
    done = gex("analyze", str(chain), "--json")
    assert done.returncode == 0, done.stderr
    assert "expiry_views" not in json.loads(done.stdout)


def test_an_unknown_filter_is_a_usage_error(chain):
    done = gex("analyze", str(chain), "--expiries", "weekly")
    assert done.returncode == 2
    assert "--expiries 'weekly' is not a filter" in done.stderr and "all-views" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
