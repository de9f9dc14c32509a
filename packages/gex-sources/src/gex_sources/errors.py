"""Errors raised by the readers.

A *file-level* problem (the file cannot be a chain of the requested format: missing, empty, binary,
no table, unreadable header) raises :class:`SourceError`. A *row-level* problem (one bad line) never
raises: the line becomes a row of ``ChainSnapshot.rejects`` and reading continues.
"""

from __future__ import annotations

from os import PathLike

#: Longest excerpt of an offending line quoted in a message, in characters.
QUOTE_LIMIT = 120


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` in single quotes, control characters escaped, cut to ``limit`` characters with an ellipsis.

    >>> quote("Date: 4 June 4, 3:15 PM EDT")
    "'Date: 4 June 4, 3:15 PM EDT'"
    >>> quote("x" * 200, limit=5)
    "'xxxxx...'"
    """
    # Escape control characters (binary garbage, stray CRs) so the message stays one readable line.
    clean = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(clean) > limit:
        clean = clean[:limit] + "..."
    return f"'{clean}'"


class SourceError(ValueError):
    """A source file cannot be read as an option chain.

    The message always starts with ``<file>:`` (and ``<line>:`` when a line is at fault), then the problem,
    then the offending text quoted, then any detail in parentheses, e.g.
    ``spx_quotedata.csv:3: cannot parse header date 'Date: 4 June 4, 3:15 PM EDT' (no known date form ...)``.

    Attributes
    ----------
    path:
        The file, as given by the caller.
    line:
        1-based physical line number at fault, or ``None`` for whole-file problems.
    problem:
        The problem alone, without location.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        problem: str,
        line: int | None = None,
        text: str | None = None,
        detail: str | None = None,
    ):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        message = f"{where}: {problem}"
        if text is not None:
            message += f" {quote(text)}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class AllRowsRejected(SourceError):
    """Every data line of a multi-snapshot file was rejected, so the file yields no snapshot.

    Still a :class:`SourceError` for :func:`gex_sources.read_chain` users (nothing to analyse), but it
    carries the rejected lines so that a loader can quarantine them with their reasons, exactly as it does
    for a single-snapshot file whose every line is bad (status "rejected", not a bare "failed").

    Attributes
    ----------
    rejects:
        ``gex.chain.REJECT_SCHEMA`` frame (``source_line, raw, reason``) of every rejected line.
    """

    def __init__(self, path: str | PathLike[str], problem: str, rejects: object, **kwargs: object):
        super().__init__(path, problem, **kwargs)  # type: ignore[arg-type]
        self.rejects = rejects
