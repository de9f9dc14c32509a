"""Registry readers of fetch bundles: one format per source, recognised from the manifest's ``source``.

Chain bundles (``cboe_bundle``, ``tradier_bundle``, ``polygon_bundle``, ``schwab_bundle``) give a
:class:`gex.chain.ChainSnapshot` whose ``source_format`` is the format name; reference bundles give
:class:`gex.reference.ReferenceData`: ``occ_bundle`` open interest, ``treasury_bundle`` and ``fred_bundle``
rates. Every reader refuses responses for another underlying than the bundle asked for.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Callable
from os import PathLike
from pathlib import Path

from gex.chain import ChainSnapshot
from gex.reference import ReferenceData

from gex_sources import cboe_json
from gex_sources.bundle import MANIFEST_NAME, FetchBundle, read_bundle, sniff_bundle
from gex_sources.bundle_chain import check_bundle_symbol, entry_label, instant_of, load_json_body, one_of
from gex_sources.errors import SourceError
from gex_sources.fred import parse_fred_csv
from gex_sources.occ_series import download_date_of, parse_occ_series
from gex_sources.polygon import parse_polygon_chain
from gex_sources.schwab import parse_schwab_chain
from gex_sources.tradier import parse_tradier_chain
from gex_sources.treasury import parse_treasury_csv

FORMAT_CBOE_BUNDLE = "cboe_bundle"


def bundle_source(path: str | PathLike[str] | None) -> str | None:
    """The ``source`` of the bundle at ``path``, or None when it is not a fetch bundle. Never raises."""
    if path is None:
        return None
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(65_536)
        if not sniff_bundle(head):
            return None
        with zipfile.ZipFile(path) as zf:
            source = json.loads(zf.read(MANIFEST_NAME)).get("source")
        return source if isinstance(source, str) else None
    except Exception:  # noqa: BLE001 - an unreadable file is simply not this format; read_bundle words it
        return None


def parse_cboe_bundle(path: str, bundle: FetchBundle) -> ChainSnapshot:
    """The chain of a Cboe bundle: its one chain response, read as :mod:`gex_sources.cboe_json` reads a file
    (opening-reset chains refused, ``close`` as the spot of evening snapshots)."""
    resp = one_of(path, bundle, "chain")
    assert resp is not None
    snap = cboe_json.parse_cboe_document(entry_label(path, resp), load_json_body(path, resp))
    return dataclasses.replace(snap, source_format=FORMAT_CBOE_BUNDLE)


CHAIN_PARSERS: dict[str, Callable[[str, FetchBundle], ChainSnapshot]] = {
    "cboe": parse_cboe_bundle,
    "tradier": parse_tradier_chain,
    "polygon": parse_polygon_chain,
    "schwab": parse_schwab_chain,
}


def chain_from_bundle(bundle: FetchBundle, path: str) -> ChainSnapshot:
    """The snapshot of an in-memory chain bundle (``path`` names it in messages)."""
    parser = CHAIN_PARSERS.get(bundle.source)
    if parser is None:
        raise SourceError(path, f"a {bundle.source} bundle holds no option chain")
    return check_bundle_symbol(path, bundle, parser(path, bundle))


def _expect(path: str, bundle: FetchBundle, source: str) -> None:
    if bundle.source != source:
        raise SourceError(path, f"is a {bundle.source} bundle, not {source}")


def chain_reader(source: str) -> Callable[[str | PathLike[str]], ChainSnapshot]:
    """The registry ``read`` of ``source``'s chain bundles."""

    def read(path: str | PathLike[str]) -> ChainSnapshot:
        bundle = read_bundle(path)
        _expect(str(path), bundle, source)
        return chain_from_bundle(bundle, str(path))

    read.__name__ = f"read_{source}_bundle"
    read.__doc__ = f"Read a {source} fetch bundle into a ChainSnapshot."
    return read


def reference_from_bundle(bundle: FetchBundle, path: str) -> ReferenceData:
    """The reference data of an in-memory occ / treasury / fred bundle."""
    if bundle.source == "occ":
        resp = one_of(path, bundle, "open_interest")
        assert resp is not None
        where = entry_label(path, resp)
        if not 200 <= resp.status < 300:
            raise SourceError(where, f"HTTP status {resp.status}, not a data response")
        data = parse_occ_series(where, resp.text(), download_date_of(instant_of(path, resp)), source_format="occ_bundle")
        if bundle.symbol is not None and data.frame.height and set(data.frame["underlying"].unique()) != {bundle.symbol}:
            raise SourceError(where, f"the bundle asked for {bundle.symbol} but the series are of {sorted(set(data.frame['underlying']))}")
        return dataclasses.replace(data, source=path)
    if bundle.source in ("treasury", "fred"):
        parse = parse_treasury_csv if bundle.source == "treasury" else parse_fred_csv
        parts = []
        for resp in bundle.by_role("rates"):
            where = entry_label(path, resp)
            if not 200 <= resp.status < 300:
                raise SourceError(where, f"HTTP status {resp.status}, not a data response")
            parts.append(parse(where, resp.text(), source_format=f"{bundle.source}_bundle"))
        if not parts:
            raise SourceError(path, "no response of role 'rates' in the bundle")
        return _combine(parts, path)
    raise SourceError(path, f"a {bundle.source} bundle holds no reference data")


def _combine(parts: list[ReferenceData], path: str) -> ReferenceData:
    """One rates frame from several responses (e.g. one FRED series per response). ``source_line`` stays the
    line in its own response; the reason of a reject names the entry through its warnings."""
    import polars as pl

    if len(parts) == 1:
        return dataclasses.replace(parts[0], source=path)
    return ReferenceData(
        kind=parts[0].kind,
        frame=pl.concat([p.frame for p in parts]),
        source=path,
        source_format=parts[0].source_format,
        rejects=pl.concat([p.rejects for p in parts]),
        warnings=tuple(w for p in parts for w in p.warnings),
    )


def reference_reader(source: str) -> Callable[[str | PathLike[str]], ReferenceData]:
    """The registry ``read`` of ``source``'s reference bundles."""

    def read(path: str | PathLike[str]) -> ReferenceData:
        bundle = read_bundle(path)
        _expect(str(path), bundle, source)
        return reference_from_bundle(bundle, str(path))

    read.__name__ = f"read_{source}_bundle"
    read.__doc__ = f"Read a {source} fetch bundle into ReferenceData."
    return read
