"""The registry of source formats: name -> reader and content sniffer.

Adding a format is one :func:`register_format` call with a reader ``path -> ChainSnapshot`` and a sniffer
that recognises the format from the first lines of a file. Sniffers are tried in registration order, so a
more specific format must be registered before a more permissive one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike

from gex.chain import ChainSnapshot

from gex_sources import cboe_json, cboe_quote_table

Reader = Callable[[str | PathLike[str]], ChainSnapshot]


@dataclass(frozen=True)
class FileHead:
    """What sniffers see: the decoded start of a file (BOM removed) and its complete lines."""

    text: str
    lines: list[str]


@dataclass(frozen=True)
class SourceFormat:
    """A readable source format.

    Attributes
    ----------
    name:
        Registry key and ``ChainSnapshot.source_format`` value ("cboe_csv").
    read:
        Reader turning a path into a :class:`gex.chain.ChainSnapshot`.
    sniff:
        Whether a file head is in this format.
    description:
        One line for help texts.
    """

    name: str
    read: Reader
    sniff: Callable[[FileHead], bool]
    description: str


#: Registered formats, in sniffing order.
FORMATS: dict[str, SourceFormat] = {}


def register_format(fmt: SourceFormat, *, replace: bool = False) -> SourceFormat:
    """Add ``fmt`` to :data:`FORMATS` (``replace=True`` to override an existing name)."""
    if fmt.name in FORMATS and not replace:
        raise ValueError(f"source format {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt
    return fmt


register_format(
    SourceFormat(
        cboe_json.FORMAT_JSON,
        cboe_json.read_cboe_json,
        lambda head: cboe_json.sniff_json(head.text),
        "Cboe delayed-quotes option chain JSON",
    )
)
register_format(
    SourceFormat(
        cboe_quote_table.FORMAT_DAT,
        cboe_quote_table.read_cboe_dat,
        lambda head: cboe_quote_table.sniff_quote_table(head.lines) == cboe_quote_table.FORMAT_DAT,
        "legacy Cboe quotedata.dat quote table (about 2014-2020)",
    )
)
register_format(
    SourceFormat(
        cboe_quote_table.FORMAT_CSV,
        cboe_quote_table.read_cboe_csv,
        lambda head: cboe_quote_table.sniff_quote_table(head.lines) == cboe_quote_table.FORMAT_CSV,
        "Cboe quotedata.csv quote table (2021 onward)",
    )
)
