"""Format auto-detection from a file's content (its first 64 KB), never from its extension."""

from __future__ import annotations

from os import PathLike

from gex_sources.errors import SourceError
from gex_sources.rawfile import decode_text, head_lines, load_head
from gex_sources.registry import FORMATS, FileHead


def detect_format(path: str | PathLike[str]) -> str:
    """Name of the registered format ``path`` is in.

    Raises
    ------
    SourceError
        When the file is missing, empty or binary, or no registered format recognises it.
    """
    data = load_head(path)
    head = FileHead(text=decode_text(data), lines=head_lines(data))
    for fmt in FORMATS.values():
        if fmt.sniff(head):
            return fmt.name
    first = next(((i, line) for i, line in enumerate(head.lines, start=1) if line.strip()), (None, ""))
    raise SourceError(
        path, f"unrecognised format (known: {', '.join(FORMATS)}); first line is", line=first[0], text=first[1]
    )
