"""Each source's requests (paths, parameters, credentials), multi-request flows, base URL overrides, the
archive (bundle readable by gex_sources.bundle, manifest) and 'unchanged' for identical content."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from gex_fetch import fetch_one
from gex_fetch.archive import read_manifest
from gex_fetch.fetcher import resolve_base_url
from gex_fetch.replay import Reply
from gex_fetch.sources import get_source
from gex_sources.bundle import read_bundle

from tests.fetch.conftest import CBOE_PATH, body, cboe_doc, fast_settings


def test_cboe_bundle_manifest_and_unchanged(server, landing, sleeps):
    doc = body(cboe_doc("SPX", index=True))
    server.add(CBOE_PATH.format("_SPX"), Reply(body=doc))
    settings = fast_settings(server.base_url, sleeps)
    first = fetch_one("cboe", "^SPX", landing, settings)
    assert first.status == "fetched" and first.as_of_session == dt.date(2024, 7, 15)
    bundle = read_bundle(first.path)
    assert (bundle.source, bundle.symbol, bundle.as_of_session) == ("cboe", "SPX", dt.date(2024, 7, 15))
    (resp,) = bundle.responses
    assert resp.body == doc and resp.role == "chain" and resp.status == 200 and resp.params == {}
    assert resp.url == f"{server.base_url}/api/global/delayed_quotes/options/_SPX.json"
    rel = f"fetch/cboe/SPX/2024-07-15/"
    assert first.path.startswith(str(landing / rel)) and first.path.endswith(".cboe.zip")

    second = fetch_one("cboe", "SPX", landing, settings)  # identical content: a no-op
    assert second.status == "unchanged" and second.path == first.path
    assert len(list((landing / rel).glob("*.zip"))) == 1

    server.add(CBOE_PATH.format("_SPX"), Reply(body=body(cboe_doc("SPX", index=True, contracts=6))))
    third = fetch_one("cboe", "SPX", landing, settings)  # new content, same session: a second bundle
    assert third.status == "fetched" and third.path != first.path
    rows = read_manifest(landing)
    assert [r["outcome"] for r in rows] == ["fetched", "unchanged", "fetched"]
    for r in rows:
        assert {"source", "url", "requested_at", "received_at", "status", "bytes", "as_of_session", "outcome"} <= set(r)
    assert rows[0]["sha256"] and rows[0]["content_sha256"] == bundle.content_sha256()
    assert rows[0]["path"].startswith("fetch/cboe/SPX/2024-07-15/")


def test_base_url_keeps_the_documented_path_and_env_override(server, landing, sleeps, monkeypatch):
    src = get_source("cboe")
    assert resolve_base_url(src, None) == "https://cdn.cboe.com"
    monkeypatch.setenv("GEX_CBOE_BASE_URL", "http://proxy.local:8080/cboe")
    assert resolve_base_url(src, None) == "http://proxy.local:8080/cboe"
    assert resolve_base_url(src, "http://127.0.0.1:9") == "http://127.0.0.1:9"  # --base-url beats the env
    monkeypatch.setenv("GEX_CBOE_BASE_URL", server.base_url + "/prefix")
    server.add("/prefix" + CBOE_PATH.format("QQQ"), Reply(body=body(cboe_doc("QQQ"))))
    s = fast_settings(None, sleeps)  # no explicit base URL: the env var is used
    assert fetch_one("cboe", "QQQ", landing, s).status == "fetched"
    assert [r.path for r in server.requests] == ["/prefix/api/global/delayed_quotes/options/QQQ.json"]
    bad = fetch_one("cboe", "QQQ", landing, fast_settings("ftp://x", sleeps))
    assert bad.status == "failed" and bad.kind == "config" and "http(s)://" in bad.reason


def test_cboe_sends_a_browser_user_agent(server, landing, sleeps):
    server.add(CBOE_PATH.format("SPY"), Reply(body=body(cboe_doc("SPY"))))
    fetch_one("cboe", "SPY", landing, fast_settings(server.base_url, sleeps))
    assert server.requests[0].headers["User-Agent"].startswith("Mozilla/5.0")


def _tradier_routes(server, symbol="SPX", dates=("2024-07-19", "2024-07-22")):
    server.add("/v1/markets/quotes", Reply.json_body({"quotes": {"quote": {"symbol": symbol, "last": 5600.0}}}))
    server.add("/v1/markets/options/expirations",
               Reply.json_body({"expirations": {"date": list(dates) if len(dates) > 1 else dates[0]}}))
    for i, d in enumerate(dates):
        one = {"symbol": f"{symbol}W240719C05600000", "underlying": symbol, "root_symbol": f"{symbol}W", "strike": 5600.0}
        server.add("/v1/markets/options/chains",
                   Reply.json_body({"options": {"option": one if i == 0 else [one, one]}}), query={"expiration": d})


def test_tradier_quote_expirations_then_one_chain_per_expiry(server, landing, sleeps, monkeypatch):
    monkeypatch.setenv("TRADIER_TOKEN", "tradier-test-token-123")
    _tradier_routes(server)
    out = fetch_one("tradier", "SPX", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "fetched", out.reason
    paths = [(r.path, r.query) for r in server.requests]
    assert paths[0] == ("/v1/markets/quotes", {"symbols": "SPX"})
    assert paths[1] == ("/v1/markets/options/expirations", {"symbol": "SPX", "includeAllRoots": "true", "strikes": "false"})
    assert paths[2:] == [("/v1/markets/options/chains", {"symbol": "SPX", "expiration": d, "greeks": "true", "includeAllRoots": "true"})
                         for d in ("2024-07-19", "2024-07-22")]
    for r in server.requests:
        assert r.headers["Authorization"] == "Bearer tradier-test-token-123"
        assert r.headers["Accept"] == "application/json"
    bundle = read_bundle(out.path)
    assert [r.role for r in bundle.responses] == ["quote", "expirations", "chain", "chain"]
    assert bundle.responses[2].params["expiration"] == "2024-07-19"


def test_tradier_etf_has_no_include_all_roots_on_chains_and_a_null_chain_is_kept(server, landing, sleeps, monkeypatch):
    monkeypatch.setenv("TRADIER_TOKEN", "tradier-test-token-123")
    _tradier_routes(server, "SPY", ("2024-07-19", "2024-07-22"))
    server.add("/v1/markets/options/chains", Reply.json_body({"options": None}), query={"expiration": "2024-07-22"})
    out = fetch_one("tradier", "SPY", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "fetched" and out.requests == 4
    assert all("includeAllRoots" not in r.query for r in server.requests if r.path.endswith("/chains"))


def test_tradier_unknown_symbol_and_missing_token(server, landing, sleeps, monkeypatch):
    monkeypatch.delenv("TRADIER_TOKEN", raising=False)
    out = fetch_one("tradier", "SPX", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "failed" and out.kind == "config" and "TRADIER_TOKEN" in out.reason
    assert server.requests == []
    monkeypatch.setenv("TRADIER_TOKEN", "tradier-test-token-123")
    server.add("/v1/markets/quotes", Reply.json_body({"quotes": {"unmatched_symbols": {"symbol": "ZZZZ"}}}))
    out = fetch_one("tradier", "ZZZZ", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "failed" and out.kind == "not_found" and "ZZZZ" in out.reason
    server.add("/v1/markets/quotes", Reply(401, b"Invalid Access Token", "text/plain"))
    out = fetch_one("tradier", "SPX", landing, fast_settings(server.base_url, sleeps))
    assert out.kind == "auth" and "$TRADIER_TOKEN" in out.reason


def test_polygon_follows_next_url_on_the_base_url_re_adding_the_key(server, landing, sleeps, monkeypatch):
    key = "polygon-test-key-456"
    monkeypatch.setenv("POLYGON_API_KEY", key)
    row = {"details": {"ticker": "O:SPY240719C00500000"}, "underlying_asset": {"ticker": "SPY", "price": 550.0}}
    path = "/v3/snapshot/options/SPY"
    # next_url points at the real host (as Polygon sends it) and carries no key
    server.add(path, Reply.json_body({"status": "OK", "results": [row], "next_url": f"https://api.polygon.io{path}?cursor=PAGE2"}))
    server.add(path, Reply.json_body({"status": "OK", "results": [row, row]}), query={"cursor": "PAGE2"})
    out = fetch_one("polygon", "SPY", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "fetched" and out.requests == 2, out.reason
    assert [r.query for r in server.requests] == [{"limit": "250", "apiKey": key}, {"cursor": "PAGE2", "apiKey": key}]
    bundle = read_bundle(out.path)
    assert [r.role for r in bundle.responses] == ["chain", "page"]
    assert all("apiKey" not in r.url and key not in r.url for r in bundle.responses)


def test_polygon_pagination_loop_is_refused(server, landing, sleeps, monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", "polygon-test-key-456")
    row = {"underlying_asset": {"ticker": "SPY"}}
    path = "/v3/snapshot/options/SPY"
    server.add(path, Reply.json_body({"status": "OK", "results": [row], "next_url": f"https://api.polygon.io{path}?cursor=A"}))
    server.add(path, Reply.json_body({"status": "OK", "results": [row], "next_url": f"https://api.polygon.io{path}?cursor=A"}),
               query={"cursor": "A"})
    out = fetch_one("polygon", "SPY", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "failed" and "pagination loop" in out.reason


def test_schwab_index_symbol_and_truncated_chain(server, landing, sleeps, monkeypatch):
    monkeypatch.setenv("SCHWAB_ACCESS_TOKEN", "schwab-test-token-789")
    chain = {"symbol": "$SPX", "status": "SUCCESS", "isChainTruncated": False,
             "callExpDateMap": {"2024-07-19:4": {"5600.0": [{"putCall": "CALL"}]}}, "putExpDateMap": {}}
    server.add("/marketdata/v1/chains", Reply.json_body(chain))
    out = fetch_one("schwab", "SPX", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "fetched", out.reason
    assert server.requests[0].query["symbol"] == "$SPX"
    assert server.requests[0].headers["Authorization"] == "Bearer schwab-test-token-789"
    server.add("/marketdata/v1/chains", Reply.json_body({**chain, "isChainTruncated": True}))
    out = fetch_one("schwab", "SPX", landing, fast_settings(server.base_url, sleeps))
    assert out.status == "failed" and "isChainTruncated" in out.reason


def test_occ_treasury_fred_requests(server, landing, sleeps):
    occ = b"Series Search Results for SPY\n\nProducts...\n\nProductSymbol\tyear\n" \
          b"SPY   \t\t2023\t01\t19\t320\t000\tC P \t0\t49\t360000000\t\n"
    server.add("/series-search", Reply(body=occ, content_type="text/plain"))
    t = b'Date,"1 Mo","3 Mo"\n10/21/2022,3.55,4.09\n'
    server.add("/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/2022/all", Reply(body=t, content_type="text/csv"))
    server.add("/graph/fredgraph.csv", Reply(body=b"observation_date,DGS3MO\n2024-07-15,5.25\n", content_type="text/csv"))
    s = fast_settings(server.base_url, sleeps, session=dt.date(2024, 7, 15))
    o, tr, fr = (fetch_one("occ", "SPY", landing, s), fetch_one("treasury", "2022", landing, s), fetch_one("fred", "DGS3MO", landing, s))
    assert (o.status, tr.status, fr.status) == ("fetched", "fetched", "fetched"), (o.reason, tr.reason, fr.reason)
    assert server.requests[0].query == {"symbolType": "U", "symbol": "SPY"}
    assert server.requests[1].query["type"] == "daily_treasury_yield_curve" and server.requests[1].query["_format"] == "csv"
    assert server.requests[2].query == {"id": "DGS3MO", "cosd": "2023-01-01"}
    assert read_bundle(tr.path).symbol is None and read_bundle(fr.path).symbol is None  # rates
    assert read_bundle(o.path).responses[0].role == "open_interest"
    assert "/fetch/fred/DGS3MO/" in fr.path and "/fetch/treasury/2022/" in tr.path
    server.add("/graph/fredgraph.csv", Reply(body=b"DATE,DGS10\n2024-07-15,4.2\n", content_type="text/csv"))
    wrong = fetch_one("fred", "DGS3MO", landing, s)
    assert wrong.status == "failed" and "DGS10" in wrong.reason
    assert fetch_one("fred", "SPY", landing, s).kind == "config"


@pytest.mark.parametrize("symbol", ["../etc", "SP X", "", "A" * 17, "a/b"])
def test_bad_symbols_never_become_paths(symbol, landing, sleeps):
    out = fetch_one("cboe", symbol, landing, fast_settings("http://127.0.0.1:9", sleeps))
    assert out.status == "failed" and out.kind == "config"
    assert not (landing / "fetch" / "cboe").exists()
