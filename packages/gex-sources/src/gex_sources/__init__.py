"""Readers from vendor files to the canonical chain schema (:mod:`gex.chain`) and reference data
(:mod:`gex.reference`).

::

    from gex_sources import iter_chains, read_chain, read_reference
    snap = read_chain("spx_quotedata.csv")  # format detected from the content, not the extension
    for snap in iter_chains("UnderlyingOptionsEODCalcs_2024-01-05.csv"):  # one per (underlying, session)
        ...
    dix = read_reference("DIX.csv")  # ReferenceData(kind="external_gex", ...)

Chain formats: ``cboe_csv``, ``cboe_dat``, ``cboe_json`` (one snapshot per file); ``cboe_datashop``,
``ivydb_option_price``, ``canonical`` (any number). Reference formats: ``occ_oi``, ``rates``, ``closes``,
``ivydb_security_price``, ``squeezemetrics_dix``, ``gflows_derived``. :data:`FORMAT_KINDS` tells which is
which; new formats plug in with :func:`register_format`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterator
from os import PathLike
from typing import Any

from gex.chain import ChainSnapshot
from gex.reference import ReferenceData

from gex_sources.detect import detect_format
from gex_sources.errors import SourceError
from gex_sources.registry import FORMAT_KINDS, FORMATS, SourceFormat, register_format
from gex_sources.snapshots import ChainBatch
from gex_sources.squeezemetrics import closes_from_external

__all__ = [
    "ChainBatch",
    "FORMATS",
    "FORMAT_KINDS",
    "ReferenceData",
    "SourceError",
    "SourceFormat",
    "closes_from_external",
    "detect_format",
    "iter_chain_batches",
    "iter_chains",
    "read_chain",
    "read_reference",
    "register_format",
]


def _format(path: str | PathLike[str], format: str | None, kind: str) -> SourceFormat:
    name = format if format is not None else detect_format(path)
    if name not in FORMATS:
        raise ValueError(f"unknown source format {name!r}; known: {', '.join(FORMATS)}")
    fmt = FORMATS[name]
    if fmt.kind != kind:
        use = "read_reference()" if fmt.kind == "reference" else "read_chain() or iter_chains()"
        raise SourceError(path, f"is a {fmt.kind} file ({name}), not a {kind} file: read it with {use}")
    return fmt


def _check(fn: Callable[..., Any], name: str, path: str | PathLike[str], options: dict[str, Any]) -> None:
    """Refuse options the reader does not take, with a clear message (rather than a TypeError from inside
    it, or silently ignoring them)."""
    if options:
        try:
            inspect.signature(fn).bind(path, **options)
        except TypeError:
            raise ValueError(f"the {name} reader does not take option(s) {', '.join(sorted(options))}") from None


def _call(fn: Callable[..., Any], name: str, path: str | PathLike[str], options: dict[str, Any]) -> Any:
    _check(fn, name, path, options)
    return fn(path, **options)


def read_chain(path: str | PathLike[str], format: str | None = None, **options: Any) -> ChainSnapshot:
    """Read a single-snapshot option-chain file into a :class:`gex.chain.ChainSnapshot`.

    Parameters
    ----------
    path:
        The file.
    format:
        A registered chain format name (see :data:`FORMATS`); ``None`` detects it from the content.
    **options:
        Reader options (e.g. ``security_prices=`` for IvyDB, ``spill_bytes=`` for large files).

    Raises
    ------
    SourceError
        For file-level problems (missing, empty, binary, no table, unreadable header...), a reference file,
        or a multi-snapshot file holding more than one snapshot (use :func:`iter_chains`). Row-level
        problems never raise: they are listed in ``snapshot.rejects``.
    ValueError
        For an unknown ``format`` name.
    """
    fmt = _format(path, format, "chain")
    if fmt.iterate is not None:  # its read() wraps iterate(): the options are iterate's
        _check(fmt.iterate, fmt.name, path, options)
        return fmt.read(path, **options)  # type: ignore[no-any-return]
    return _call(fmt.read, fmt.name, path, options)  # type: ignore[no-any-return]


def iter_chains(path: str | PathLike[str], format: str | None = None, **options: Any) -> Iterator[ChainSnapshot]:
    """Every snapshot of an option-chain file: one per (underlying, session) for end-of-day files, one
    per (underlying, instant) for canonical ones; single-snapshot formats yield one.

    Large files stream: see :mod:`gex_sources.csvtable`. Rejected lines that belong to no snapshot (their
    underlying or date does not parse) are attached to the last snapshot yielded, with a warning.

    Returns a generator (its ``close()`` removes temporary files at once). The format is resolved at the
    call (an unknown format, or a reference file, raises here); reading happens as it is consumed.

    Raises
    ------
    SourceError
        As :func:`read_chain`, except that several snapshots are fine.
    """
    fmt = _format(path, format, "chain")
    if fmt.iterate is not None:
        return _call(fmt.iterate, fmt.name, path, options)  # type: ignore[no-any-return]
    _check(fmt.read, fmt.name, path, options)
    return _one(fmt, path, options)


def iter_chain_batches(
    path: str | PathLike[str], format: str | None = None, **options: Any
) -> Iterator[ChainBatch]:
    """The snapshots of an option-chain file as :class:`ChainBatch` es: many snapshots per batch for the
    formats that stream them so (DataShop: a bucket of whole snapshots at a time), else one per snapshot of
    :func:`iter_chains`. The same snapshots, rows, rejects and warnings as :func:`iter_chains` in any case.

    Returns a generator (``close()`` removes temporary files at once).

    Raises
    ------
    SourceError
        As :func:`iter_chains`.
    """
    fmt = _format(path, format, "chain")
    if fmt.batches is not None:
        return _call(fmt.batches, fmt.name, path, options)  # type: ignore[no-any-return]
    return _each_as_batch(iter_chains(path, fmt.name, **options))


def _each_as_batch(snapshots: Iterator[ChainSnapshot]) -> Generator[ChainBatch, None, None]:
    try:
        for snap in snapshots:
            yield ChainBatch.of(snap)
    finally:
        snapshots.close()  # type: ignore[attr-defined]


def _one(fmt: SourceFormat, path: str | PathLike[str], options: dict[str, Any]) -> Generator[ChainSnapshot, None, None]:
    yield fmt.read(path, **options)


def read_reference(path: str | PathLike[str], format: str | None = None, **options: Any) -> ReferenceData:
    """Read a reference-data file into a :class:`gex.reference.ReferenceData`.

    Raises
    ------
    SourceError
        For file-level problems, or a chain file (use :func:`read_chain`).
    ValueError
        For an unknown ``format`` name.
    """
    fmt = _format(path, format, "reference")
    return _call(fmt.read, fmt.name, path, options)  # type: ignore[no-any-return]
