"""The popular scripts' flip: linear interpolation at the first sign change on a grid of levels.

Used by the compatibility presets (:mod:`gex.conventions`) to reproduce what those scripts report; not
a root finder (it misses crossings between grid levels, and its error is of order the grid step
squared times the curvature). Plain numpy: there is nothing to compile.
"""

from __future__ import annotations

import numpy as np


def first_grid_crossing(levels: np.ndarray, values: np.ndarray) -> float | None:
    """Linear interpolation at the FIRST sign change of ``values`` along ``levels`` (script convention).

    Reproduces what popular GEX scripts do: ``i = np.where(np.diff(np.sign(values)))[0][0]``, then with
    ``neg = levels[i]``, ``pos = levels[i + 1]``: ``pos - (pos - neg) * v_pos / (v_pos - v_neg)``.
    Used by compatibility presets; not a root finder (it misses crossings between grid levels and
    its error is of order the grid step squared times the curvature).

    Parameters
    ----------
    levels:
        Grid of levels, shape ``(m,)`` (ascending in the scripts).
    values:
        ``G`` at those levels, shape ``(m,)``.

    Returns
    -------
    float or None
        The interpolated level, ``None`` when ``values`` never changes sign.

    Examples
    --------
    >>> first_grid_crossing([1.0, 2.0, 3.0, 4.0], [-3.0, -1.0, 1.0, 2.0])
    2.5
    >>> first_grid_crossing([1.0, 2.0], [1.0, 2.0]) is None
    True
    """
    lv = np.asarray(levels, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if lv.shape != vals.shape or lv.ndim != 1:
        raise ValueError("levels and values must be 1-D arrays of the same length")
    idx = np.where(np.diff(np.sign(vals)))[0]
    if idx.size == 0:
        return None
    i = int(idx[0])
    neg, pos = lv[i], lv[i + 1]
    v_neg, v_pos = vals[i], vals[i + 1]
    return float(pos - (pos - neg) * v_pos / (v_pos - v_neg))
