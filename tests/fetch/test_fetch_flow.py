"""The Prefect flow ``fetch``: one task per (source, symbol), a failing symbol never stops the others,
outcomes in watchlist order, an artifact table with no secret. One flow run (on the session's temporary API,
fixture ``prefect_api``)."""

from __future__ import annotations

import pytest
from gex_fetch.replay import Reply
from gex_fetch.watchlist import parse_watchlist

from tests.fetch.conftest import CBOE_PATH, body, cboe_doc


def test_task_wrapper_without_prefect(server, landing):
    from pipelines.fetch import fetch_symbol

    server.add(CBOE_PATH.format("SPY"), Reply(body=body(cboe_doc("SPY"))))
    out = fetch_symbol.fn("cboe", "SPY", str(landing), base_url=server.base_url)
    assert out.status == "fetched"


@pytest.mark.slow
def test_flow_fetches_every_symbol_and_reports(prefect_api, server, tmp_path, monkeypatch):
    from pipelines.fetch import fetch_watchlist, outcome_table

    secret = "flow-SECRET-token-9876"
    monkeypatch.setenv("POLYGON_API_KEY", secret)
    server.add(CBOE_PATH.format("_SPX"), Reply(body=body(cboe_doc("SPX", index=True))))
    server.add(CBOE_PATH.format("SPY"), Reply.html_page())
    server.add(CBOE_PATH.format("QQQ"), Reply(body=body(cboe_doc("QQQ"))))
    server.add("/v3/snapshot/options/IWM", Reply(403, b"plan"))
    wl = parse_watchlist({"concurrency": 2, "watch": [
        {"source": "cboe", "symbols": ["SPX", "SPY", "QQQ"]},
        {"source": "polygon", "symbols": ["IWM"], "token_env": "POLYGON_API_KEY"}]})
    out = fetch_watchlist(wl, tmp_path / "landing", base_urls={"cboe": server.base_url, "polygon": server.base_url})
    assert [(o.source, o.symbol, o.status) for o in out] == [
        ("cboe", "SPX", "fetched"), ("cboe", "SPY", "failed"), ("cboe", "QQQ", "fetched"), ("polygon", "IWM", "failed")]
    assert "HTML page" in out[1].reason and out[3].kind == "forbidden"
    table = outcome_table(out)
    assert secret not in repr(table) and table[1]["status"] == "failed"
