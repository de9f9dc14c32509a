"""A secret never appears in a file, a log line, a manifest row, an exception message or CLI output:
fetch with tokens through successes and every kind of failure, then grep everything that was written."""

from __future__ import annotations

import logging

from gex_fetch import fetch_many
from gex_fetch.replay import Reply
from typer.testing import CliRunner

from tests.fetch.conftest import fast_settings

TOKENS = {"TRADIER_TOKEN": "trd-SECRET-aaaa1111", "POLYGON_API_KEY": "pgn-SECRET-bbbb2222",
          "SCHWAB_ACCESS_TOKEN": "swb-SECRET-cccc3333"}


def _everything_written(root) -> bytes:
    import zipfile

    out = b""
    for f in root.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            out += data
            if f.suffix == ".zip":  # bundle entries are deflated: look inside too
                with zipfile.ZipFile(f) as z:
                    out += b"".join(z.read(n) for n in z.namelist())
    return out


def test_tokens_never_leak(server, landing, sleeps, monkeypatch, caplog):
    for k, v in TOKENS.items():
        monkeypatch.setenv(k, v)
    row = {"underlying_asset": {"ticker": "SPY"}}
    server.add("/v3/snapshot/options/SPY", Reply.json_body({"status": "OK", "results": [row],
                                                            "next_url": "https://api.polygon.io/v3/snapshot/options/SPY?cursor=X"}))
    server.add("/v3/snapshot/options/SPY", Reply.json_body({"status": "OK", "results": [row]}), query={"cursor": "X"})
    server.add("/v3/snapshot/options/QQQ", [Reply.too_many("1"), Reply(403, b"plan")])  # retried, then refused
    server.add("/v3/snapshot/options/IWM", Reply.redirect("/v3/snapshot/options/IWM"))  # loop, key in every hop
    server.add("/marketdata/v1/chains", Reply(401, b"expired"))
    server.add("/v1/markets/quotes", Reply(500, b"boom"))
    settings = {s: fast_settings(server.base_url, sleeps) for s in ("polygon", "schwab", "tradier")}
    with caplog.at_level(logging.DEBUG):
        out = fetch_many([("polygon", "SPY"), ("polygon", "QQQ"), ("polygon", "IWM"), ("schwab", "SPX"), ("tradier", "SPX")],
                         landing, settings=settings, concurrency=2)
    assert [o.status for o in out] == ["fetched", "failed", "failed", "failed", "failed"]
    # the server did receive the credentials (so the test can fail) ...
    assert any(r.query.get("apiKey") == TOKENS["POLYGON_API_KEY"] for r in server.requests)
    assert any(r.headers.get("Authorization") == f"Bearer {TOKENS['SCHWAB_ACCESS_TOKEN']}" for r in server.requests)
    # ... and nothing we wrote, logged or returned holds them
    written = _everything_written(landing)
    texts = [caplog.text, repr(out), *(o.reason or "" for o in out)]
    for value in TOKENS.values():
        assert value.encode() not in written
        for t in texts:
            assert value not in t
    assert "apiKey" not in written.decode("utf-8", "replace")


def test_cli_output_and_json_hold_no_token(server, landing, monkeypatch):
    from gex_cli.main import app

    monkeypatch.setenv("POLYGON_API_KEY", TOKENS["POLYGON_API_KEY"])
    server.add("/v3/snapshot/options/SPY", Reply(401, b"bad key"))
    for extra in ([], ["--json"]):
        res = CliRunner().invoke(app, ["fetch", "polygon", "SPY", "--landing", str(landing), "--base-url", server.base_url, *extra])
        assert res.exit_code == 1
        assert "POLYGON_API_KEY" in res.output and TOKENS["POLYGON_API_KEY"] not in res.output
