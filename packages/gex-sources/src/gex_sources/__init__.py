"""Readers from vendor chain files to the canonical chain schema (:mod:`gex.chain`).

::

    from gex_sources import read_chain
    snap = read_chain("spx_quotedata.csv")  # format detected from the content, not the extension
    snap.underlying, snap.session, snap.frame.height, snap.rejects.height

Formats: ``"cboe_csv"`` (Cboe quote-table CSV), ``"cboe_dat"`` (legacy quotedata.dat), ``"cboe_json"``
(Cboe delayed-quotes JSON). New formats plug in with :func:`register_format`.
"""

from __future__ import annotations

from os import PathLike

from gex.chain import ChainSnapshot

from gex_sources.detect import detect_format
from gex_sources.errors import SourceError
from gex_sources.registry import FORMATS, SourceFormat, register_format

__all__ = ["FORMATS", "SourceError", "SourceFormat", "detect_format", "read_chain", "register_format"]


def read_chain(path: str | PathLike[str], format: str | None = None) -> ChainSnapshot:
    """Read an option-chain file into a :class:`gex.chain.ChainSnapshot`.

    Parameters
    ----------
    path:
        The file.
    format:
        A registered format name (see :data:`FORMATS`); ``None`` detects it from the content.

    Raises
    ------
    SourceError
        For file-level problems (missing, empty, binary, no table, unreadable header...). Row-level problems
        never raise: they are listed in ``snapshot.rejects``.
    ValueError
        For an unknown ``format`` name.
    """
    name = format if format is not None else detect_format(path)
    if name not in FORMATS:
        raise ValueError(f"unknown source format {name!r}; known: {', '.join(FORMATS)}")
    return FORMATS[name].read(path)
