"""Format auto-detection from a file's content (its first 64 KB), never from its extension.

Parquet files are recognised by their magic bytes before the text checks (which refuse binary content).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from gex_sources.errors import SourceError
from gex_sources.rawfile import decode_text, head_lines, load_head
from gex_sources.registry import FORMATS, FileHead

#: Magic bytes of binary formats some reader accepts.
BINARY_MAGICS = (b"PAR1", b"PK\x03\x04")  # Parquet; ZIP (fetch bundles)


def _magic(path: str | PathLike[str]) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            return fh.read(8)
    except OSError:
        return b""  # load_head raises the proper SourceError


def detect_format(path: str | PathLike[str]) -> str:
    """Name of the registered format ``path`` is in.

    Raises
    ------
    SourceError
        When the file is missing, empty or binary (other than Parquet), or no registered format
        recognises it.
    """
    magic = _magic(path)
    if magic.startswith(BINARY_MAGICS):
        head = FileHead(text="", lines=[], path=str(path), magic=magic)
    else:
        data = load_head(path)
        head = FileHead(text=decode_text(data), lines=head_lines(data), path=str(path), magic=magic)
    for fmt in FORMATS.values():
        if fmt.sniff(head):
            return fmt.name
    first = next(((i, line) for i, line in enumerate(head.lines, start=1) if line.strip()), (None, ""))
    if not head.lines:
        known = ", ".join(FORMATS)
        raise SourceError(path, f"unrecognised format (known: {known}); Parquet without the canonical columns")
    raise SourceError(
        path, f"unrecognised format (known: {', '.join(FORMATS)}); first line is", line=first[0], text=first[1]
    )
