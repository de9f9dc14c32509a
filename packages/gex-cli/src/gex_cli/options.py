"""Option values shared by several commands.

Kept as literals (not read from :mod:`gex.conventions`) so that ``gex --help`` does not import numpy;
``tests/cli/test_help.py`` checks they match the core.
"""

from __future__ import annotations

#: Conventions presets, as ``gex.conventions.PRESETS`` names them.
PRESET_NAMES = ("native", "perfiliev", "perfiliev-early", "gflows")

#: Expiry filters of ``gex analyze --expiries``, as ``gex.expiry_views.EXPIRY_FILTERS`` names them, and the
#: word that selects every one.
EXPIRY_FILTER_NAMES = ("all", "0dte", "ex-0dte", "ex-next-expiry", "ex-next-monthly", "monthly")
ALL_VIEWS = "all-views"


def expiry_filters(given: list[str]) -> tuple[str, ...]:
    """The filters ``--expiries`` named, in display order and without repeats (``all-views``: every one).

    A name that is not a filter is a usage error (exit 2) naming the valid ones.
    """
    from gex_cli.errors import EXIT_USAGE, fail

    names = [g.strip().lower() for g in given]
    unknown = [g for g in names if g not in (*EXPIRY_FILTER_NAMES, ALL_VIEWS)]
    if unknown:
        raise fail(f"--expiries {unknown[0]!r} is not a filter; choose from {', '.join(EXPIRY_FILTER_NAMES)} "
                   f"or {ALL_VIEWS}", EXIT_USAGE)
    if ALL_VIEWS in names:
        return EXPIRY_FILTER_NAMES
    return tuple(n for n in EXPIRY_FILTER_NAMES if n in names)
