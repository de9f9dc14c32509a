"""``gex fetch``: one line per symbol, exit codes, the exact paths asked with --base-url, --watchlist."""

from __future__ import annotations

import json

from gex_fetch.replay import Reply
from typer.testing import CliRunner

from tests.fetch.conftest import CBOE_PATH, REPO, body, cboe_doc


def _run(*args: str):
    from gex_cli.main import app

    return CliRunner().invoke(app, ["fetch", *args])


def test_fetch_cboe_paths_lines_and_exit_codes(server, landing):
    server.add(CBOE_PATH.format("_SPX"), Reply(body=body(cboe_doc("SPX", index=True))))
    server.add(CBOE_PATH.format("QQQ"), Reply(body=body(cboe_doc("QQQ"))))
    res = _run("cboe", "SPX", "QQQ", "--landing", str(landing), "--base-url", server.base_url)
    assert res.exit_code == 0, res.output
    assert sorted(r.path for r in server.requests) == ["/api/global/delayed_quotes/options/QQQ.json",
                                                       "/api/global/delayed_quotes/options/_SPX.json"]
    lines = res.output.splitlines()
    assert lines[0].startswith("cboe SPX 2024-07-15: fetched") and lines[1].startswith("cboe QQQ 2024-07-15: fetched")
    assert "2 fetches: 2 fetched, 0 unchanged, 0 failed" in lines[2]
    again = _run("cboe", "SPX", "--landing", str(landing), "--base-url", server.base_url, "--json")
    assert again.exit_code == 0 and json.loads(again.output)["outcomes"][0]["status"] == "unchanged"


def test_fetch_failure_is_one_line_exit_1_and_others_fetched(server, landing):
    server.add(CBOE_PATH.format("SPY"), Reply(body=body(cboe_doc("SPY"))))
    server.add(CBOE_PATH.format("QQQ"), Reply.html_page())
    res = _run("cboe", "SPY", "QQQ", "--landing", str(landing), "--base-url", server.base_url)
    assert res.exit_code == 1
    assert "cboe SPY 2024-07-15: fetched" in res.output
    assert "cboe QQQ: failed: " in res.output and "HTML page" in res.output
    assert "Traceback" not in res.output


def test_usage_errors_exit_2(landing, tmp_path):
    assert _run("yahoo", "SPY", "--landing", str(landing)).exit_code == 2
    assert _run("cboe", "--landing", str(landing)).exit_code == 2
    assert _run("cboe", "../x", "--landing", str(landing)).exit_code == 2
    assert _run("--landing", str(landing)).exit_code == 2
    bad = tmp_path / "w.toml"
    bad.write_text('[[watch]]\nsource = "cboe"\nsymbols = ["SPX"]\ntoken = "x"\n')
    res = _run("--watchlist", str(bad))
    assert res.exit_code == 2 and "credential" in res.output
    assert _run("cboe", "SPY", "--watchlist", str(REPO / "deploy" / "watchlist.example.toml")).exit_code == 2


def test_watchlist_with_base_url(server, landing):
    for s in ("_SPX", "SPY", "QQQ"):
        server.add(CBOE_PATH.format(s), Reply(body=body(cboe_doc(s.lstrip("_"), index=s.startswith("_")))))
    res = _run("--watchlist", str(REPO / "deploy" / "watchlist.example.toml"), "--landing", str(landing),
               "--base-url", server.base_url)
    assert res.exit_code == 0, res.output
    assert "3 fetches: 3 fetched" in res.output
