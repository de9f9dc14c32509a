"""The nightly flow fetches its own data: watchlist -> local replay server (Cboe's shape, generated) -> landing
archive -> ingest -> compute -> publish; a symbol that fails is reported and the others go on."""

from __future__ import annotations

import datetime as dt

from gex_fetch.replay import Reply, ReplayServer
from gex_fetch.watchlist import parse_watchlist
from gex_market import generate_chain
from gex_market.api_shapes import render_responses

SESSION = dt.date(2025, 1, 6)


def test_nightly_fetches_ingests_computes_and_reports_a_failed_symbol(prefect_api, tmp_path):
    from pipelines.nightly import nightly

    snapshot = generate_chain(SESSION, 5000.0, seed=3, max_contracts=1500)
    landing, warehouse = tmp_path / "landing", tmp_path / "gex.duckdb"
    landing.mkdir()
    with ReplayServer() as server:
        for r in render_responses(snapshot, "cboe", base_url=server.base_url):
            server.add(r.path, Reply(body=r.body, content_type=r.content_type))
        server.add("/api/global/delayed_quotes/options/QQQ.json", Reply(404, b"Not Found"))
        wl = parse_watchlist({"watch": [{"source": "cboe", "symbols": ["SPX", "QQQ"]}]})
        result = nightly(str(landing), str(warehouse), watchlist=wl, base_urls={"cboe": server.base_url})
    assert [(f.symbol, f.status) for f in result.fetches] == [("SPX", "fetched"), ("QQQ", "failed")]
    assert [f.symbol for f in result.failed_fetches] == ["QQQ"]
    assert [(o.underlying, o.session, o.status) for o in result.outcomes] == [("SPX", SESSION, "ok")]
    assert [(r["underlying"], r["session"]) for r in result.regimes] == [("SPX", SESSION.isoformat())]
    assert result.exports is not None and result.exports.sessions == (("SPX", SESSION),)
