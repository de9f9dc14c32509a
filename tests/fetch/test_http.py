"""The HTTP layer alone: Retry-After parsing, backoff, the token bucket, redaction."""

from __future__ import annotations

import datetime as dt
import logging
import random

import pytest
from gex_fetch.http import RetryPolicy, parse_retry_after
from gex_fetch.ratelimit import TokenBucket
from gex_fetch.redact import public_url, redact, remember

UTC = dt.timezone.utc


def test_retry_after_seconds_and_http_date():
    now = dt.datetime(2024, 7, 15, 23, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after("Mon, 15 Jul 2024 23:00:42 GMT", now) == 42.0
    assert parse_retry_after("Mon, 15 Jul 2024 22:59:00 GMT", now) == 0.0  # in the past: no wait
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_grows_is_jittered_and_capped():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(3)
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        d = policy.backoff_s(attempt, rng)
        assert full / 2 <= d <= full  # equal jitter: never immediate, never above the cap


def test_token_bucket_paces_after_the_burst():
    t = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        t[0] += s

    bucket = TokenBucket(2.0, burst=2, clock=lambda: t[0], sleep=sleep)
    got = [bucket.acquire() for _ in range(5)]
    assert got[:2] == [0.0, 0.0]  # the burst goes out at once
    assert got[2:] == pytest.approx([0.5, 0.5, 0.5])  # then 2 per second
    t[0] += 10.0  # idle: the bucket refills up to the burst only
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_token_bucket_refuses_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_redaction_of_urls_headers_and_remembered_values(caplog):
    secret = "s3cr3t-TOKEN-value-42"
    remember(secret)
    assert secret not in redact(f"refused {secret} twice: {secret}")
    assert public_url(f"https://h/v3/x?cursor=c1&apiKey={secret}") == "https://h/v3/x?cursor=c1"
    assert "Bearer ***" in redact("Authorization: Bearer abc.def-ghi")
    from gex_fetch.redact import install_log_filters

    install_log_filters()
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("HTTP Request: GET %s", f"https://h/x?apiKey={secret}&a=1")
    assert secret not in caplog.text and "apiKey=***" in caplog.text
