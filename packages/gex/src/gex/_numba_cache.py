"""numba on-disk cache that is invalidated when ANY compiled source of the core changes (private).

numba keys a cached kernel on its own file only (content hash of the file that defines it). The core's
kernels inline helpers from other files (:mod:`gex._fastmath`, the flip package's bound tables and
cell logic), so after an edit of a helper numba would happily load a kernel compiled with the old
helper. This module registers a cache locator, used for the files listed in :data:`COMPILED_SOURCES`
only, whose freshness stamp covers all of them: touching any one recompiles every core kernel once
(the cost of a cold start, ~10-20 s), and stale code can never be mixed in.

Registered on import; every module that defines a ``cache=True`` kernel imports :mod:`gex._fastmath`
(which imports this) before its first ``@njit``, because numba picks the locator when a function is
decorated. Works with and without ``NUMBA_CACHE_DIR``. No files are read: the stamp is ``os.stat``
(mtime in ns and size) of each listed file, as numba itself uses to decide when to re-hash a source.
"""

from __future__ import annotations

import os
from pathlib import Path

from numba.core import caching, config

_CORE = Path(__file__).resolve().parent

#: Files whose kernels (or inlined helpers) share one cache stamp, relative to the ``gex`` package.
COMPILED_SOURCES = (
    "_fastmath.py",
    "_bs_kernels.py",
    "flip/_bounds.py",
    "flip/_coeffs.py",
    "flip/_evaluate.py",
    "flip/_scan.py",
)
_PATHS = frozenset(str(_CORE / p) for p in COMPILED_SOURCES)


def source_stamp() -> tuple[tuple[str, int, int], ...]:
    """(file, mtime ns, size) of every compiled source: changes when any of them is edited."""
    out = []
    for rel in COMPILED_SOURCES:
        st = os.stat(_CORE / rel)
        out.append((rel, st.st_mtime_ns, st.st_size))
    return tuple(out)


class _SharedStampMixin:
    """Replaces numba's per-file stamp by :func:`source_stamp` for the core's compiled sources."""

    def get_source_stamp(self) -> object:
        return ("gex-core", source_stamp())

    @classmethod
    def from_function(cls, py_func, py_file):  # type: ignore[no-untyped-def]
        if os.path.abspath(py_file) not in _PATHS:
            return None  # any other file: numba's own locators
        return super().from_function(py_func, py_file)


class SharedStampUserCacheLocator(_SharedStampMixin, caching.UserProvidedCacheLocator):
    """``NUMBA_CACHE_DIR`` set: the user's directory, shared stamp."""

    @classmethod
    def from_function(cls, py_func, py_file):  # type: ignore[no-untyped-def]
        if not config.CACHE_DIR:
            return None
        return super().from_function(py_func, py_file)


class SharedStampInTreeCacheLocator(_SharedStampMixin, caching.InTreeCacheLocator):
    """Default: ``__pycache__`` beside the source, shared stamp."""


def register() -> None:
    """Put the shared-stamp locators first in numba's list (idempotent)."""
    classes = caching.CacheImpl._locator_classes
    for cls in (SharedStampInTreeCacheLocator, SharedStampUserCacheLocator):
        if cls not in classes:
            classes.insert(0, cls)


register()
