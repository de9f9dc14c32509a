"""Exercise style of a US-listed option from its root: European or American (pure).

The warehouse stores no exercise style (no vendor file the project reads carries one), so it is decided the way
the US market lists options: the cash-settled index options (SPX/SPXW, NDX/NDXP, RUT/RUTW, XSP, VIX, DJX, MRUT,
XND, ...) are European; equity and ETF options (SPY, QQQ, AAPL, adjusted roots such as ``AAPL1``) are American;
OEX, the S&P 100's original contract, is the one American index option (its European sibling is XEO).

Every index root the settlement tables of :mod:`gex.calendar` know is classified here (a test keeps the two in
step), so any chain the readers accept has a style: a root that is not European is American.
"""

from __future__ import annotations

from typing import Literal

ExerciseStyle = Literal["european", "american"]
EUROPEAN: ExerciseStyle = "european"
AMERICAN: ExerciseStyle = "american"

#: Option roots listed European-style (cash-settled index options, AM and PM settled), upper case, no caret.
EUROPEAN_ROOTS: frozenset[str] = frozenset(
    {
        "SPX", "SPXW", "SPXPM", "XSP",  # S&P 500 (standard, weeklies/dailies, legacy PM, mini)
        "NDX", "NDXP", "XND", "MNX",  # Nasdaq-100 (standard, PM, micro, legacy mini)
        "RUT", "RUTW", "MRUT",  # Russell 2000 (standard, weeklies, mini)
        "VIX", "VIXW",  # Cboe volatility index
        "DJX", "DJXW",  # Dow Jones (1/100)
        "XEO",  # S&P 100 European
        "NANOS",  # S&P 500 nanos (1/100 of XSP)
    }
)

#: Index option roots that are nevertheless American-style (exercisable any day): the S&P 100's OEX.
#: ``OEX_AM`` is the calendar's AM-settled OEX entry (same contract family, same exercise right).
AMERICAN_INDEX_ROOTS: frozenset[str] = frozenset({"OEX", "OEX_AM"})


def exercise_style(root: str) -> ExerciseStyle:
    """``"european"`` for the cash-settled index roots of :data:`EUROPEAN_ROOTS`, else ``"american"``.

    Parameters
    ----------
    root:
        Option root as the chain carries it (``"SPXW"``, ``"SPY"``, ``"AAPL1"``); case and a leading ``^``
        are ignored.

    Examples
    --------
    >>> exercise_style("SPXW"), exercise_style("^ndx"), exercise_style("SPY"), exercise_style("OEX")
    ('european', 'european', 'american', 'american')
    """
    return EUROPEAN if root.strip().upper().lstrip("^") in EUROPEAN_ROOTS else AMERICAN


def chain_style(roots: list[str] | tuple[str, ...] | set[str]) -> str:
    """Exercise style of a chain from its roots: ``"european"`` or ``"american"`` when every root agrees,
    ``"mixed"`` when the chain lists both (OEX with XEO under one underlying), ``"european"`` for no roots
    (nothing to exercise early).

    >>> chain_style(["SPX", "SPXW"]), chain_style(["AAPL"]), chain_style(["OEX", "XEO"])
    ('european', 'american', 'mixed')
    """
    styles = {exercise_style(r) for r in roots}
    if len(styles) > 1:
        return "mixed"
    return styles.pop() if styles else EUROPEAN
