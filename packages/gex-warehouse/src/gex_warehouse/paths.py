"""Paths built from data stay under their root.

Every folder name the warehouse writes that comes from data (the levels feed's ``<exports>/levels/<U>/``)
is validated once at ingest (:mod:`gex_sources.limits`); :func:`safe_child` is the second, independent
guard at the moment of writing: whatever the parts hold, the result is inside ``root`` or an error. The
Parquet exports' folders (``<exports>/<view>/session=D/``) are checked the same way.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path


class UnsafePathError(ValueError):
    """A path built from data would leave its root folder."""


def safe_child(root: str | PathLike[str], *parts: str) -> Path:
    """``root / parts...``, resolved, refusing anything outside ``root``.

    Each part must be one non-empty path component: no separator, not ``.`` or ``..``, no NUL byte (that
    alone keeps the result under ``root``); the resolved result is then checked again against the resolved
    root, which also catches a symbolic link inside ``root`` that points elsewhere.

    Raises
    ------
    UnsafePathError
        Naming the root and the offending part.

    >>> safe_child("/data/exports", "levels", "SPX").as_posix()
    '/data/exports/levels/SPX'
    >>> safe_child("/data/exports", "levels", "x/../../../tmp")
    Traceback (most recent call last):
    ...
    gex_warehouse.paths.UnsafePathError: refusing to write outside /data/exports: path part 'x/../../../tmp' is not a single folder name
    """
    base = Path(root).resolve()
    for part in parts:
        check_part(root, part)
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError(f"refusing to write outside {root}: {'/'.join(parts)!r} resolves to {target}")
    return target


def check_part(root: str | PathLike[str], part: str) -> None:
    """Refuse ``part`` unless it is one non-empty path component: no separator, not ``.`` or ``..``, no NUL
    byte (``root`` is named in the error).

    >>> check_part("/data/exports", "session=2025-01-02")
    >>> check_part("/data/exports", "..")
    Traceback (most recent call last):
    ...
    gex_warehouse.paths.UnsafePathError: refusing to write outside /data/exports: path part '..' is not a single folder name
    """
    if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
        raise UnsafePathError(f"refusing to write outside {root}: path part {part!r} is not a single folder name")


def fsync(path: str | PathLike[str]) -> None:
    """Flush a file, or a folder's entries (after a rename in it), to the disk: what makes an ``os.replace`` of a
    finished file durable across a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
