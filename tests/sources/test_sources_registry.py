"""The format registry (extension point) and the doctests of the gex_sources modules."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest
from gex_sources import FORMATS, SourceError, SourceFormat, detect_format, read_chain, register_format

MODULES = (
    "errors",
    "header",
    "osi",
    "roots",
    "cboe_quote_table",
    "cboe_preamble",
    "cboe_json",
    "assemble",
    "rawfile",
    "registry",
)


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(f"gex_sources.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_builtin_formats_in_sniffing_order() -> None:
    assert list(FORMATS)[:3] == ["cboe_json", "cboe_dat", "cboe_csv"]


def test_a_new_format_plugs_in(tmp_path: Path) -> None:
    sentinel = object()
    fmt = SourceFormat(
        name="test_magic",
        read=lambda path: sentinel,  # type: ignore[arg-type,return-value]
        sniff=lambda head: head.lines[:1] == ["MAGIC"],
        description="a format only this test knows",
    )
    register_format(fmt)
    try:
        path = tmp_path / "x.any"
        path.write_text("MAGIC\n1,2,3\n", encoding="utf-8")
        assert detect_format(path) == "test_magic"
        assert read_chain(path) is sentinel
        with pytest.raises(ValueError, match="already registered"):
            register_format(fmt)
    finally:
        del FORMATS["test_magic"]
    with pytest.raises(SourceError, match="unrecognised format"):
        detect_format(path)
