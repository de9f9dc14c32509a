"""Mart rows of the early-exercise screen (``mart.early_exercise`` and the summary columns of
``mart.regime_daily``; pure).

One analysis in: :func:`gex.early_exercise.screen_chain` on its valued contracts and parity forwards, shaped as
the flagged contracts keyed by (session, underlying, valuation_ts, preset, symbol), and the four summary values
the regime row carries. Units: GEX in dollars per 1% move of the underlying, prices in currency per share
(``docs/conventions.md``, "American options and European gamma").
"""

from __future__ import annotations

import polars as pl
from gex.analysis import Analysis
from gex.columns import frame_of
from gex.early_exercise import FLAGGED_SCHEMA, screen_chain

from gex_warehouse.mart_keys import repeated_keys

#: Column -> dtype of ``mart.early_exercise`` rows (the key first).
EARLY_EXERCISE_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),
    "valuation_ts": pl.Datetime("us", "UTC"),
    "preset": pl.String(),
    **FLAGGED_SCHEMA,
}


def early_exercise_frames(a: Analysis) -> tuple[pl.DataFrame, dict[str, object]]:
    """``(mart.early_exercise rows, {regime_daily column: value})`` of analysis ``a``.

    The summary columns: ``exercise_style``, ``early_exercise_contracts`` (count), ``early_exercise_gex_share``
    (fraction 0..1) and ``early_exercise_expiries_without_carry`` (count).
    """
    screen = screen_chain(a.contracts, a.forwards, a.spot)
    # the key columns repeated from one-value Series, not a select of literals (a query, ~0.2 ms a chain)
    keys = repeated_keys(a.underlying, a.as_of, a.valuation_ts, a.conventions.name, screen.flagged.height)
    rows = frame_of([*keys, *screen.flagged.get_columns()])
    summary: dict[str, object] = {
        "exercise_style": screen.exercise_style,
        "early_exercise_contracts": screen.flagged.height,
        "early_exercise_gex_share": screen.gex_share,
        "early_exercise_expiries_without_carry": screen.expiries_without_carry,
    }
    return rows, summary
