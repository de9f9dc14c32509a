"""The registry of source formats: name -> reader and content sniffer.

Adding a format is one :func:`register_format` call with a reader and a sniffer that recognises the format
from the start of a file. Sniffers are tried in registration order, so a more specific format must be
registered before a more permissive one.

Two kinds of formats:

- ``"chain"``: option chains. ``read(path, **options) -> ChainSnapshot``; formats that may hold several
  snapshots (DataShop, IvyDB, canonical) also give ``iterate(path, **options) -> Iterator[ChainSnapshot]``
  and their ``read`` refuses a file holding more than one;
- ``"reference"``: reference data (open interest, rates, closes, external GEX, third-party results).
  ``read(path, **options) -> gex.reference.ReferenceData``; ``reference_kind`` says which kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

from gex.chain import ChainSnapshot

from gex_sources import (
    canonical,
    cboe_json,
    cboe_quote_table,
    closes,
    datashop,
    gflows_derived,
    ivydb,
    occ_oi,
    rates,
    squeezemetrics,
)
from gex_sources.csvtable import header_names
from gex_sources.errors import SourceError
from gex_sources.snapshots import ChainBatch

Reader = Callable[..., Any]
Iterate = Callable[..., Iterator[ChainSnapshot]]


@dataclass(frozen=True)
class FileHead:
    """What sniffers see: the decoded start of a file (BOM removed) and its complete lines.

    Attributes
    ----------
    text, lines:
        Decoded head and its complete lines (empty for binary formats such as Parquet).
    path:
        The file, for sniffers that must look further (a Parquet footer).
    magic:
        The first bytes of the file, undecoded.
    """

    text: str
    lines: list[str]
    path: str | None = None
    magic: bytes = b""

    @property
    def names(self) -> list[str]:
        """Normalised CSV header names (first non-blank line), empty when there is none."""
        found = header_names(self.lines)
        return found[0] if found else []


@dataclass(frozen=True)
class SourceFormat:
    """A readable source format.

    Attributes
    ----------
    name:
        Registry key and ``source_format`` value ("cboe_csv").
    read:
        ``path -> ChainSnapshot`` (kind "chain") or ``path -> ReferenceData`` (kind "reference");
        keyword options are passed through.
    sniff:
        Whether a file head is in this format.
    description:
        One line for help texts.
    kind:
        ``"chain"`` or ``"reference"``.
    iterate:
        For multi-snapshot chain formats: ``path -> Iterator[ChainSnapshot]``.
    reference_kind:
        For reference formats: the ``ReferenceData.kind`` they produce.
    batches:
        For multi-snapshot chain formats that can: ``path -> Iterator[ChainBatch]``, many snapshots per
        item (what the warehouse loads a whole-market file with); ``iterate`` splits the same batches.
    """

    name: str
    read: Reader
    sniff: Callable[[FileHead], bool]
    description: str
    kind: str = "chain"
    iterate: Iterate | None = None
    reference_kind: str | None = None
    batches: Callable[..., Iterator[ChainBatch]] | None = None


#: Registered formats, in sniffing order.
FORMATS: dict[str, SourceFormat] = {}


class _Kinds(Mapping[str, str]):
    """Live view of :data:`FORMATS`: format name -> ``"chain"`` | ``"reference"``."""

    def __getitem__(self, name: str) -> str:
        return FORMATS[name].kind

    def __iter__(self) -> Iterator[str]:
        return iter(FORMATS)

    def __len__(self) -> int:
        return len(FORMATS)

    def __repr__(self) -> str:
        return repr(dict(self))


#: Format name -> ``"chain"`` | ``"reference"`` (follows :func:`register_format`).
FORMAT_KINDS: Mapping[str, str] = _Kinds()


def register_format(fmt: SourceFormat, *, replace: bool = False) -> SourceFormat:
    """Add ``fmt`` to :data:`FORMATS` (``replace=True`` to override an existing name)."""
    if fmt.name in FORMATS and not replace:
        raise ValueError(f"source format {fmt.name!r} is already registered")
    if fmt.kind not in ("chain", "reference"):
        raise ValueError(f"format kind must be 'chain' or 'reference', not {fmt.kind!r}")
    FORMATS[fmt.name] = fmt
    return fmt


def single_snapshot(iterate: Iterate, name: str) -> Reader:
    """A ``read`` for a multi-snapshot format: the file's only snapshot, or a SourceError naming the first two
    and pointing to :func:`gex_sources.iter_chains` when there are more."""

    def read(path: str | PathLike[str], **options: Any) -> ChainSnapshot:
        snapshots = iterate(path, **options)
        try:
            got = list(itertools.islice(snapshots, 2))
        finally:
            snapshots.close()  # type: ignore[attr-defined]  # removes temporary files at once
        if len(got) > 1:
            a, b = got
            raise SourceError(
                path,
                f"holds more than one snapshot ({a.underlying} {a.session}, {b.underlying} {b.session}, ...): "
                "read it with gex_sources.iter_chains() or `gex ingest`",
            )
        return got[0]

    read.__name__ = f"read_{name}"
    read.__doc__ = f"Read a single-snapshot {name} file (see iter_chains for several snapshots)."
    return read


def _chain(
    name: str,
    iterate: Iterate,
    sniff: Callable[[FileHead], bool],
    description: str,
    batches: Callable[..., Iterator[ChainBatch]] | None = None,
) -> SourceFormat:
    return SourceFormat(name, single_snapshot(iterate, name), sniff, description, "chain", iterate, None, batches)


def _reference(name: str, read: Reader, sniff: Callable[[FileHead], bool], description: str, kind: str) -> SourceFormat:
    return SourceFormat(name, read, sniff, description, "reference", None, kind)


register_format(
    SourceFormat(
        cboe_json.FORMAT_JSON,
        cboe_json.read_cboe_json,
        # a JSON object that is not a third-party results file
        lambda head: cboe_json.sniff_json(head.text) and not gflows_derived.sniff_gflows(head.text),
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
register_format(
    _chain(
        datashop.FORMAT_DATASHOP,
        datashop.iter_datashop,
        lambda head: datashop.sniff_datashop(head.names),
        "Cboe DataShop Option EOD Summary, with or without Calcs (many underlyings and dates per file)",
        datashop.iter_datashop_batches,
    )
)
register_format(
    _chain(
        ivydb.FORMAT_IVYDB,
        ivydb.iter_ivydb,
        lambda head: ivydb.sniff_ivydb(head.names),
        "OptionMetrics IvyDB option price file (needs its security price file for spot)",
        ivydb.iter_ivydb_batches,
    )
)
register_format(
    _reference(
        ivydb.FORMAT_IVYDB_SECPRD,
        ivydb.read_security_prices,
        lambda head: ivydb.sniff_secprd(head.names),
        "OptionMetrics IvyDB security price file (underlying closes by secid)",
        "closes",
    )
)


def _sniff_canonical(head: FileHead) -> bool:
    if head.magic.startswith(canonical.PARQUET_MAGIC):
        import polars as pl

        try:
            return head.path is not None and canonical.sniff_names(list(pl.read_parquet_schema(head.path)))
        except Exception:  # noqa: BLE001 - an unreadable footer is simply not this format
            return False
    return bool(head.lines) and canonical.sniff_names(head.names)


register_format(
    _chain(
        canonical.FORMAT_CANONICAL,
        canonical.iter_canonical,
        _sniff_canonical,
        "canonical chain columns (gex.chain.CHAIN_SCHEMA), CSV or Parquet, one or many snapshots",
    )
)
register_format(
    _reference(
        occ_oi.FORMAT_OCC_OI,
        occ_oi.read_occ_oi,
        lambda head: occ_oi.sniff_occ_oi(head.names),
        "OCC-style open interest: date,symbol,open_interest",
        "open_interest",
    )
)
register_format(
    _reference(
        rates.FORMAT_RATES,
        rates.read_rates,
        lambda head: rates.sniff_rates(head.names),
        "risk-free rates: date,tenor,rate",
        "rates",
    )
)
register_format(
    _reference(
        squeezemetrics.FORMAT_DIX,
        squeezemetrics.read_dix,
        lambda head: squeezemetrics.sniff_dix(head.names),
        "SqueezeMetrics DIX/GEX daily series (DIX.csv: date,price,dix,gex)",
        "external_gex",
    )
)
register_format(
    _reference(
        closes.FORMAT_CLOSES,
        closes.read_closes,
        lambda head: closes.sniff_closes(head.names),
        "underlying daily bars: date,underlying,close[,open,high,low]",
        "closes",
    )
)
register_format(
    _reference(
        gflows_derived.FORMAT_GFLOWS,
        gflows_derived.read_gflows_derived,
        lambda head: gflows_derived.sniff_gflows(head.text),
        "gflows-style results JSON (per-strike GEX and zero gamma by expiry group), kept for comparison",
        "derived_results",
    )
)


# --- fetch bundles (issue 11) and the rate / open-interest API bodies saved as plain files ----------------
from gex_sources import bundle_readers, fred, occ_series, treasury  # noqa: E402 - registered after the above

for _source in ("cboe", "tradier", "polygon", "schwab"):
    register_format(
        SourceFormat(
            f"{_source}_bundle",
            bundle_readers.chain_reader(_source),
            lambda head, s=_source: bundle_readers.bundle_source(head.path) == s,
            f"{_source} fetch bundle (ZIP of the raw API responses + manifest) holding an option chain",
        )
    )
for _source, _kind, _what in (("occ", "open_interest", "OCC series-search open interest"),
                               ("treasury", "rates", "Treasury par yield curve"), ("fred", "rates", "FRED DGS yields")):
    register_format(
        _reference(
            f"{_source}_bundle",
            bundle_readers.reference_reader(_source),
            lambda head, s=_source: bundle_readers.bundle_source(head.path) == s,
            f"{_source} fetch bundle: {_what}",
            _kind,
        )
    )
register_format(
    _reference(
        treasury.FORMAT_TREASURY,
        treasury.read_treasury_csv,
        lambda head: treasury.sniff_treasury(head.lines),
        'US Treasury daily par yield curve CSV: Date,"1 Mo",... (percent, bond-equivalent)',
        "rates",
    )
)
register_format(
    _reference(
        fred.FORMAT_FRED,
        fred.read_fred_csv,
        lambda head: fred.sniff_fred(head.lines),
        "FRED fredgraph CSV of DGS constant-maturity yields (DATE|observation_date,DGS3MO,...)",
        "rates",
    )
)
register_format(
    _reference(
        occ_series.FORMAT_OCC_SERIES,
        occ_series.read_occ_series,
        lambda head: occ_series.sniff_occ_series(head.lines),
        "OCC series-search text (call and put OI per row; needs download_date=)",
        "open_interest",
    )
)
