"""Worker processes for the pure, CPU-bound steps of a large run (the analysis of thousands of chains in
``gex compute``, the hedging advice of thousands of sessions in ``gex publish``).

Why processes: those steps are mostly Python and polars per-call overhead, which threads do not run in
parallel. Workers are spawned (not forked: the parent holds DuckDB's and Prefect's threads) when the first task
is submitted, ignore Ctrl-C (the parent stops the run and says what resumes) and are shut down when the
``with`` block ends, queued tasks cancelled, so none outlives the command. Results are the bytes an inline call
gives: the steps are deterministic.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

#: ``map_chunks(fn, chunks)`` -> ``[fn(chunk) for chunk in chunks]``, in order (:func:`chunk_mapper`).
ChunkMap = Callable[[Callable[[T], R], Sequence[T]], list[R]]


def _quiet_worker() -> None:
    """Worker processes leave Ctrl-C to the command (it stops the run and says what resumes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def cores() -> int:
    """Cores this process may run on (the affinity mask: a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def spawned_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool of ``workers`` spawned processes (see the module docstring)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context, initializer=_quiet_worker) as pool:
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def chunk_mapper(workers: int) -> Iterator[ChunkMap]:
    """A :data:`ChunkMap` over ``workers`` spawned processes. The pool is made on the first call (a caller
    that maps nothing starts nothing: not even multiprocessing's resource tracker, which a pool's queues
    start) and shut down when the block ends. ``fn`` must be importable (a module-level function) and the
    chunks and results picklable. A chunk that raises re-raises its exception from the call; keep chunks
    short (about a second), so that Ctrl-C, which waits for the chunks already running, stops within seconds.

    A worker that dies (killed: out of memory, ``kill -9``) breaks the pool; the chunks are then computed in
    this process (the same results: ``fn`` is deterministic), with a warning, and later calls stay here: a
    publish ends complete instead of failing on a dead helper (its work is small: nothing is lost but time).
    """
    with ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None
        broken = False

        def map_chunks(fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
            nonlocal pool, broken
            if not broken:
                if pool is None:
                    pool = stack.enter_context(spawned_pool(workers))
                try:
                    return list(pool.map(fn, chunks))
                except BrokenProcessPool as exc:
                    broken = True
                    log.warning("a worker process died (%s); computing the %d chunks in this process", exc, len(chunks))
            return [fn(chunk) for chunk in chunks]

        yield map_chunks
