"""Shared helpers for the on-demand benchmarks in ``bench/``.

Each benchmark writes its own marked section of ``docs/performance.md`` (between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``), so benchmarks can be re-run one at a time
without disturbing the others. Timings are best-of-N wall-clock times; every speed claim is a ratio
against a naive baseline measured in the same run, on the same machine.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERF_DOC = ROOT / "docs" / "performance.md"

_HEADER = """# Performance

Measured on demand with the scripts in `bench/` (`uv run python bench/<name>.py`); never asserted as
timings in the test suite. Each section is rewritten by its own script and states the machine it ran on.
Ratios compare against a naive baseline measured in the same run.

"""


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Best wall-clock seconds per call of ``fn`` over ``repeat`` rounds of ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def machine_line() -> str:
    """One line describing where the numbers were measured."""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, measured {time.strftime('%Y-%m-%d')}"
    )


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the ``name`` section of docs/performance.md with ``markdown``."""
    PERF_DOC.parent.mkdir(parents=True, exist_ok=True)
    PERF_DOC.touch()
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}\n"
    with open(PERF_DOC, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read() or _HEADER
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
        fh.seek(0)
        fh.write(text)
        fh.truncate()
