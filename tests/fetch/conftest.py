"""Fixtures of the fetch tests: a local replay server (127.0.0.1 only), a landing folder, settings whose
retry sleeps are recorded instead of slept, and small hand-made API bodies."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from gex_fetch import FetchSettings, RetryPolicy, Timeouts
from gex_fetch.ratelimit import TokenBucket
from gex_fetch.replay import ReplayServer

REPO = Path(__file__).resolve().parents[2]
SHARED_API = (REPO / ".." / "shared" / "data" / "api").resolve()
CBOE_PATH = "/api/global/delayed_quotes/options/{}.json"


def shared_api(relative: str) -> Path:
    """A recorded API response under ../shared/data/api, skipping the test when absent."""
    path = SHARED_API / relative
    if not path.is_file():
        pytest.skip(f"recorded API data not available: {path} (the ../shared folder is not part of a clone)")
    return path


class Sleeps:
    """Records the delays asked for (seconds) instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s


@pytest.fixture
def landing(tmp_path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def fast_settings(base_url: str, sleeps: Sleeps | None = None, **kw: Any) -> FetchSettings:
    """Settings against ``base_url`` whose waits are recorded (no real sleeps), a short read timeout and an
    unlimited private rate bucket (rate tests build their own)."""
    sleep = sleeps if sleeps is not None else Sleeps()
    kw.setdefault("timeouts", Timeouts(connect_s=2.0, read_s=2.0))
    return FetchSettings(base_url=base_url, sleep=sleep, rng=random.Random(1), retry=kw.pop("retry", RetryPolicy()),
                         bucket=TokenBucket(1000.0, 1000, sleep=sleep), **kw)


def cboe_doc(symbol: str = "SPY", *, index: bool = False, contracts: int = 4, timestamp: str = "2024-07-15 23:03:20",
             zero: bool = False) -> dict[str, Any]:
    """A small Cboe delayed-quotes document (the real shape, few contracts)."""
    root = f"{symbol}W" if index else symbol
    options = []
    for i in range(contracts):
        strike = 500 + 5 * (i // 2)
        right = "C" if i % 2 == 0 else "P"
        v = 0.0 if zero else 1.0
        options.append({"option": f"{root}240719{right}{strike * 1000:08d}", "bid": 1.0 * v, "bid_size": 10.0, "ask": 1.2 * v,
                        "ask_size": 10.0, "iv": 0.2 * v, "open_interest": 100.0 + i, "volume": 5.0, "delta": 0.5 * v,
                        "gamma": 0.01 * v, "theta": -0.1 * v, "vega": 0.3 * v, "rho": 0.01 * v, "theo": 1.1 * v,
                        "change": 0.0, "open": 1.0, "high": 1.0, "low": 1.0, "tick": "no_change", "last_trade_price": 1.1,
                        "last_trade_time": None, "percent_change": 0.0, "prev_day_close": 1.0})
    data = {"options": options, "symbol": f"^{symbol}" if index else symbol, "security_type": "index" if index else "stock",
            "current_price": 500.0, "close": 500.0, "prev_day_close": 499.0}
    return {"timestamp": timestamp, "data": data, "symbol": f"_{symbol}" if index else symbol}


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()
