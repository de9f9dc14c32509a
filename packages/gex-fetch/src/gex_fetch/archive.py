"""The landing archive: one bundle file per successful fetch, one manifest line per fetch attempt.

Layout (BUNDLE_SPEC.md)::

    <landing>/fetch/.manifest.jsonl
    <landing>/fetch/<source>/<SYMBOL>/<session>/<SYMBOL>_<session>_<received %Y%m%dT%H%M%SZ>.<source>.zip

Rates bundles (symbol null) are filed under the series they were asked for (``DGS3MO``, the year ``2024``).
Every path component is validated before use and the result is checked to stay under ``<landing>/fetch``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

from gex_sources.bundle import FetchBundle, read_bundle
from gex_sources.errors import SourceError

from gex_fetch.redact import redact
from gex_fetch.symbols import normalise

FETCH_DIR = "fetch"
#: The manifest is a *hidden* file on purpose: ``gex ingest <landing>`` (and the nightly ingest of the landing
#: folder) reads every file except hidden ones, and a JSON-lines log is not data to load (a visible
#: ``manifest.jsonl`` failed every ingest as "not a Cboe chain").
MANIFEST = ".manifest.jsonl"
_manifest_lock = threading.Lock()


def archive_root(landing: str | os.PathLike[str]) -> Path:
    return Path(landing) / FETCH_DIR


def manifest_path(landing: str | os.PathLike[str]) -> Path:
    return archive_root(landing) / MANIFEST


def bundle_folder(landing: str | os.PathLike[str], source: str, symbol: str, session: dt.date | None) -> Path:
    """``<landing>/fetch/<source>/<SYMBOL>/<session>`` (session ``unknown`` when the source could not tell)."""
    root = archive_root(landing)
    folder = root / source / normalise(symbol) / (session.isoformat() if session else "unknown")
    if not folder.resolve().is_relative_to(root.resolve()):  # defence in depth: components are validated
        raise ValueError(f"archive folder {folder} leaves {root}")
    return folder


def bundle_path(folder: Path, source: str, symbol: str, session: dt.date | None, received: dt.datetime) -> Path:
    """A new bundle's file name in ``folder``; a second fetch in the same second gets ``-2``, ``-3``..."""
    stamp = received.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{normalise(symbol)}_{session.isoformat() if session else 'unknown'}_{stamp}"
    path, n = folder / f"{base}.{source}.zip", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.{source}.zip"
    return path


def latest_bundle(folder: Path, source: str) -> Path | None:
    """The most recent bundle in ``folder`` (names sort by receipt instant), or None."""
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.glob(f"*.{source}.zip") if not p.name.startswith("."))
    return files[-1] if files else None


def latest_content_sha256(folder: Path, source: str) -> tuple[Path, str] | None:
    """(path, content sha256) of the latest readable bundle in ``folder``; an unreadable one counts as absent
    (so the new fetch is written rather than declared unchanged against a corrupt file)."""
    path = latest_bundle(folder, source)
    if path is None:
        return None
    try:
        return path, read_bundle(path).content_sha256()
    except (SourceError, OSError):
        return None


def append_manifest(landing: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """Append one JSON line to ``<landing>/fetch/.manifest.jsonl`` (one write per line, under a lock; the line
    goes through :func:`redact` as a last guard)."""
    path = manifest_path(landing)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = redact(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)) + "\n"
    with _manifest_lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_manifest(landing: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every row of the manifest (an absent manifest is empty)."""
    path = manifest_path(landing)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bundle_summary(bundle: FetchBundle) -> dict[str, Any]:
    """Manifest fields describing the responses of ``bundle``."""
    return {
        "requests": len(bundle.responses),
        "bytes": sum(r.bytes for r in bundle.responses),
        "status": bundle.responses[-1].status if bundle.responses else None,
        "content_sha256": bundle.content_sha256(),
    }
