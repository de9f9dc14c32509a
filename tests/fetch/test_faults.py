"""Every fault case ends in its documented outcome, with one-line reasons, no traceback, the right number
of requests and delays, and the other symbols fetched (docs/sources.md, "Fetching: retries and faults")."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from pathlib import Path

import pytest
from gex_fetch import RetryPolicy, Timeouts, fetch_many
from gex_fetch.archive import read_manifest
from gex_fetch.replay import Reply

from tests.fetch.conftest import CBOE_PATH, body, cboe_doc, fast_settings

OK = Reply(body=body(cboe_doc("AAPL")))
FIXED_NOW = dt.datetime(2024, 7, 15, 23, 5, tzinfo=dt.timezone.utc)

# name: (replies for AAPL, status, kind, words in the reason, requests made, retry delays asked for or None to skip)
CASES = {
    "429 with Retry-After then 200": ([Reply.too_many("7"), OK], "fetched", None, [], 2, [7.0]),
    "429 Retry-After as HTTP date then 200": (
        [Reply.too_many(email.utils.format_datetime(FIXED_NOW + dt.timedelta(seconds=12), usegmt=True)), OK],
        "fetched", None, [], 2, [12.0]),
    "429 without Retry-After then 200": ([Reply.too_many(), OK], "fetched", None, [], 2, None),
    "429 asking to wait past the cap": ([Reply.too_many("3600")], "failed", "rate_limited", ["3600 s", "fetch again later"], 1, []),
    "500 three times then 200": ([Reply.server_error()] * 3 + [OK], "fetched", None, [], 4, None),
    "500 for ever": ([Reply.server_error()], "failed", "server", ["HTTP 500", "after 4 attempts"], 4, None),
    "503 with Retry-After then 200": ([Reply(503, b"busy", headers=(("Retry-After", "2"),)), OK], "fetched", None, [], 2, [2.0]),
    "403 from the CDN": ([Reply(403, b"Forbidden", "text/plain")], "failed", "forbidden",
                         ["CDN refused", "not retried", "do not hammer"], 1, []),
    "401": ([Reply(401, b"{}")], "failed", "auth", ["401"], 1, []),
    "unknown symbol 404": ([Reply(404, b'{"error":"not found"}')], "failed", "not_found", ["404", "AAPL", "check the symbol"], 1, []),
    "HTML error page with 200": ([Reply.html_page()], "failed", "invalid", ["HTML page", "status 200"], 1, []),
    "empty options list": ([Reply(body=body(cboe_doc("AAPL", contracts=0)))], "failed", "invalid", ["options list is empty"], 1, []),
    "a body for another symbol": ([Reply(body=body(cboe_doc("MSFT")))], "failed", "invalid", ["'MSFT'", "not AAPL"], 1, []),
    "opening reset (all-zero chain)": ([Reply(body=body(cboe_doc("AAPL", zero=True)))], "failed", "not_ready",
                                       ["opening reset", "fetch again later"], 1, []),
    "not JSON at all": ([Reply(body=b"UnavailableUnavailableUnavailable")], "failed", "invalid", ["not JSON"], 1, []),
    "truncated body then 200": ([Reply(body=OK.body, truncate_to=40), OK], "fetched", None, [], 2, None),
    "truncated body for ever": ([Reply(body=OK.body, truncate_to=40)], "failed", "connection", ["truncated", "after 4 attempts"], 4, None),
    "redirect loop": ([Reply.redirect(CBOE_PATH.format("AAPL"))], "failed", "redirect", ["redirect loop"], 6, []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fault_outcome_and_the_others_fetched(case, server, landing, sleeps):
    replies, status, kind, words, hits, delays = CASES[case]
    server.add(CBOE_PATH.format("SPY"), Reply(body=body(cboe_doc("SPY"))))
    server.add(CBOE_PATH.format("AAPL"), replies)
    server.add(CBOE_PATH.format("_SPX"), Reply(body=body(cboe_doc("SPX", index=True))))
    settings = fast_settings(server.base_url, sleeps, now=lambda: FIXED_NOW)
    out = fetch_many([("cboe", "SPY"), ("cboe", "AAPL"), ("cboe", "SPX")], landing, settings={"cboe": settings}, concurrency=3)

    assert [o.symbol for o in out] == ["SPY", "AAPL", "SPX"]
    assert out[0].status == "fetched" and out[2].status == "fetched"
    fault = out[1]
    assert fault.status == status, fault.reason
    assert fault.kind == kind
    for w in words:
        assert w in fault.reason
    if fault.reason:
        assert "\n" not in fault.reason and "Traceback" not in fault.reason
    assert server.hits(CBOE_PATH.format("AAPL")) == hits
    if delays is not None:
        assert sleeps.delays == pytest.approx(delays)
    rows = {r["symbol"]: r for r in read_manifest(landing)}
    assert rows["AAPL"]["outcome"] == status
    if status == "failed":
        assert rows["AAPL"]["reason"] == fault.reason and rows["AAPL"]["reason_kind"] == kind
        assert not (landing / "fetch" / "cboe" / "AAPL").exists()  # no bundle for a failed fetch
    else:
        assert Path(fault.path).is_file()


def test_backoff_delays_double_with_jitter(server, landing, sleeps):
    server.add(CBOE_PATH.format("SPY"), [Reply.server_error()] * 3 + [Reply(body=body(cboe_doc("SPY")))])
    settings = fast_settings(server.base_url, sleeps, retry=RetryPolicy(base_delay_s=2.0, max_delay_s=30.0))
    assert fetch_many([("cboe", "SPY")], landing, settings={"cboe": settings})[0].status == "fetched"
    assert len(sleeps.delays) == 3
    for d, full in zip(sleeps.delays, (2.0, 4.0, 8.0)):
        assert full / 2 <= d <= full


def test_timeout_then_success_and_timeout_for_ever(server, landing, sleeps):
    slow = Reply(body=body(cboe_doc("SPY")), delay_s=1.5)
    server.add(CBOE_PATH.format("SPY"), [slow, Reply(body=body(cboe_doc("SPY")))])
    server.add(CBOE_PATH.format("QQQ"), slow)
    settings = fast_settings(server.base_url, sleeps, timeouts=Timeouts(connect_s=1.0, read_s=0.3),
                             retry=RetryPolicy(max_attempts=2))
    spy, qqq = fetch_many([("cboe", "SPY"), ("cboe", "QQQ")], landing, settings={"cboe": settings})
    assert spy.status == "fetched"
    assert qqq.status == "failed" and qqq.kind == "timeout"
    assert "no complete answer within 0.3 s" in qqq.reason and "after 2 attempts" in qqq.reason


def test_manifest_line_of_a_failure_names_url_and_reason(server, landing, sleeps):
    server.add(CBOE_PATH.format("SPY"), Reply(403, b"no"))
    fetch_many([("cboe", "SPY")], landing, settings={"cboe": fast_settings(server.base_url, sleeps)})
    (row,) = [json.loads(x) for x in (landing / "fetch" / ".manifest.jsonl").read_text().splitlines()]
    assert row["outcome"] == "failed" and row["status"] == 403
    assert row["url"] == f"{server.base_url}/api/global/delayed_quotes/options/SPY.json"
    assert row["requested_at"].endswith("Z") and row["received_at"].endswith("Z")
