"""A per-source request rate: a thread-safe token bucket shared by every fetch of that source in a process.

Why a bucket and not a fixed pause: a burst of a few requests (Tradier's expirations then its first chains)
goes out at once, and the long-run rate stays at ``rate_per_s``, which is what vendors' limits count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate_per_s`` tokens per second, at most ``burst`` stored; :meth:`acquire` takes one, waiting if needed.

    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests see the waits without sleeping.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate_per_s > 0 and burst >= 1 (got {rate_per_s}, {burst})")
        self.rate_per_s = float(rate_per_s)
        self.burst = int(burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token; returns the seconds waited for it (0 when one was available)."""
        with self._lock:  # serialises waiters: each reserves the next token in arrival order
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate_per_s)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate_per_s
        if wait > 0:
            self._sleep(wait)
        return wait


_buckets: dict[str, TokenBucket] = {}
_registry_lock = threading.Lock()


def bucket_for(source: str, rate_per_s: float, burst: int) -> TokenBucket:
    """The process-wide bucket of ``source`` (created on first use; later calls share it)."""
    with _registry_lock:
        b = _buckets.get(source)
        if b is None or (b.rate_per_s, b.burst) != (float(rate_per_s), int(burst)):
            b = _buckets[source] = TokenBucket(rate_per_s, burst)
        return b
