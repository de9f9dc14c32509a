"""Evidence tables: bucket statistics with sample sizes, block-bootstrap intervals and small-bucket flags.

Two entry points, both pure (frames or arrays in, frames out):

- :func:`history_stats`: a history of one underlying's own levels (one row per session: ``session``,
  ``close``, ``high``, ``low``, ``total_gex``, ``regime``, ``flip_distance_pct``, ``call_wall``,
  ``put_wall``; see :data:`HISTORY_COLUMNS`) -> one long frame of figures (:data:`ROW_SCHEMA`);
- :func:`external_gex_evidence`: closes and an external GEX series (SqueezeMetrics' ``DIX.csv``) ->
  forward realised vol by GEX quintile and what GEX adds beyond trailing realised vol.

Definitions (see ``docs/evidence.md``):

- forward realised vol over ``h`` sessions (:func:`gex.evidence.forward.forward_realised_vol`), a bucket's
  figure is the mean over its days; Parkinson likewise where highs and lows exist;
- GEX quintiles are cut over the days that have a full forward window (per horizon), Q1 = lowest GEX;
- "beyond trailing RV": OLS of forward RV on trailing 21-session RV (the value at ``t`` uses returns up
  to the close of ``t``), then the mean residual per GEX quintile; the fit is redone in every bootstrap
  replicate;
- intervals: moving-block bootstrap (:mod:`gex.evidence.bootstrap`), block
  ``max(h, ceil(n^(1/3)), Politis-White)`` sessions unless given; percentile intervals at ``level``;
- ``small_sample``: a bucket with fewer than ``max(30, 10 h)`` days (:func:`min_bucket_days`): fewer than
  about ten non-overlapping forward windows, too few to mean anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from gex.evidence import bootstrap as bs
from gex.evidence.buckets import (
    FLIP_BUCKETS,
    REGIMES,
    flip_distance_groups,
    quantile_groups,
    quintile_names,
    regime_groups,
    wall_holds,
)
from gex.evidence.forward import forward_log_return, forward_parkinson_vol, forward_realised_vol
from gex.volatility import close_to_close_vol

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default forward horizons, sessions.
HORIZONS = (1, 5, 21)
#: Trailing realised-vol window the forward figures are regressed on, sessions.
TRAILING_WINDOW = 21
#: A bucket needs at least this many days ...
MIN_BUCKET_DAYS = 30
#: ... and at least this many non-overlapping forward windows (``n / h``) to be reported without a warning.
MIN_INDEPENDENT_WINDOWS = 10
#: Columns :func:`history_stats` needs.
HISTORY_COLUMNS = ("session", "close", "high", "low", "total_gex", "regime", "flip_distance_pct", "call_wall", "put_wall")

#: The long frame every table function returns.
ROW_SCHEMA = {
    "horizon_days": pl.Int64,  # sessions
    "statistic": pl.String,  # what is measured, e.g. forward_rv (decimal per year)
    "grouping": pl.String,  # all, regime, flip_distance, gex_quintile
    "bucket": pl.String,  # bucket name, or "A - B" for a difference
    "n": pl.Int64,  # days in the bucket (for a difference: in both buckets)
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "small_sample": pl.Boolean,
    "block_length": pl.Int64,  # sessions
    "n_boot": pl.Int64,
    "level": pl.Float64,
}

#: Statistic names and units.
STATISTICS = {
    "forward_rv": "mean forward close-to-close realised vol, decimal per year",
    "forward_rv_parkinson": "mean forward Parkinson vol, decimal per year",
    "forward_rv_residual": "mean residual of forward RV after OLS on trailing 21-session RV, decimal per year",
    "forward_return_std": "standard deviation of the forward log return over h sessions, decimal",
    "forward_return_q05": "5% quantile of the forward log return over h sessions, decimal",
    "forward_return_q95": "95% quantile of the forward log return over h sessions, decimal",
    "call_wall_held_high": "share of sessions whose next high stayed below the call wall",
    "call_wall_held_close": "share of sessions whose next close stayed below the call wall",
    "put_wall_held_low": "share of sessions whose next low stayed above the put wall",
    "put_wall_held_close": "share of sessions whose next close stayed above the put wall",
}


def min_bucket_days(horizon: int) -> int:
    """Fewest days a bucket needs before its figure is reported without ``small_sample``."""
    return max(MIN_BUCKET_DAYS, MIN_INDEPENDENT_WINDOWS * int(horizon))


@dataclass(frozen=True)
class BootstrapSettings:
    """Bootstrap settings: replicates, confidence level, seed, and a block length (``None``: the rule
    :func:`gex.evidence.bootstrap.choose_block_length`)."""

    n_boot: int = bs.DEFAULT_N_BOOT
    level: float = bs.DEFAULT_LEVEL
    seed: int = bs.DEFAULT_SEED
    block: int | None = None

    def block_for(self, values: FloatArray, horizon: int) -> int:
        """Block length for the per-day series ``values`` at ``horizon`` sessions."""
        if self.block is None:
            return bs.choose_block_length(values, horizon)
        return max(1, min(values.size, int(self.block)))


_QUANTILE_STATS: dict[str, Callable[[FloatArray], float]] = {
    "std": lambda v: float(np.std(v, ddof=1)),
    "q05": lambda v: float(np.quantile(v, 0.05)),
    "q95": lambda v: float(np.quantile(v, 0.95)),
}


def _replicates(
    n: int,
    block: int,
    settings: BootstrapSettings,
    per_chunk: Callable[[IntArray], FloatArray],
) -> FloatArray:
    """Run ``per_chunk`` over every chunk of replicate indices; rows = replicates."""
    parts = [per_chunk(idx) for idx in bs.replicate_chunks(n, block, settings.n_boot, settings.seed)]
    return np.vstack(parts)


def bucket_rows(
    values: FloatArray,
    labels: IntArray,
    names: Sequence[str],
    *,
    horizon: int,
    statistic: str,
    grouping: str,
    settings: BootstrapSettings,
    kind: str = "mean",
    x: FloatArray | None = None,
    contrasts: Sequence[tuple[str, str]] = (),
) -> list[dict[str, object]]:
    """Rows of :data:`ROW_SCHEMA` for one statistic of one grouping, plus the requested differences.

    Parameters
    ----------
    values:
        Per-day figure, shape (n,), NaN where undefined.
    labels:
        Bucket of each day (index into ``names``) or ``-1``, shape (n,).
    kind:
        ``"mean"`` (bucket mean), ``"residual"`` (bucket mean of the OLS residual of ``values`` on ``x``),
        or ``"std"``, ``"q05"``, ``"q95"`` (of the bucket's values).
    contrasts:
        Pairs ``(a, b)`` of bucket names: the difference ``a - b`` with its interval from the same replicates.
    """
    n, k = values.size, len(names)
    if n == 0:
        return []
    block = settings.block_for(values, horizon)
    ident = np.arange(n, dtype=np.int64)[None, :]
    if kind == "mean":
        point, counts = bs.bucket_means(values, labels, k, ident)
        reps = _replicates(n, block, settings, lambda idx: bs.bucket_means(values, labels, k, idx)[0])
    elif kind == "residual":
        if x is None:
            raise ValueError("kind='residual' needs x")
        point, counts = bs.residual_bucket_means(values, x, labels, k, ident)
        reps = _replicates(n, block, settings, lambda idx: bs.residual_bucket_means(values, x, labels, k, idx)[0])
    elif kind in _QUANTILE_STATS:
        stat = _QUANTILE_STATS[kind]
        point = bs.bucket_statistic(values, labels, k, ident, stat)
        counts = bs.bucket_means(values, labels, k, ident)[1]
        reps = _replicates(n, block, settings, lambda idx: bs.bucket_statistic(values, labels, k, idx, stat))
    else:
        raise ValueError(f"unknown statistic kind {kind!r}")
    lo, hi = bs.percentile_interval(reps, settings.level)
    threshold = min_bucket_days(horizon)
    common = {"horizon_days": int(horizon), "statistic": statistic, "grouping": grouping, "block_length": block,
              "n_boot": settings.n_boot, "level": settings.level}
    rows: list[dict[str, object]] = []
    for j, name in enumerate(names):
        m = int(counts[0, j])
        if m == 0:
            continue  # an empty bucket is not a figure
        rows.append({**common, "bucket": name, "n": m, "value": _num(point[0, j]), "ci_low": _num(lo[j]),
                     "ci_high": _num(hi[j]), "small_sample": m < threshold})
    position = {name: j for j, name in enumerate(names)}
    for a, b in contrasts:
        ja, jb = position[a], position[b]
        na, nb = int(counts[0, ja]), int(counts[0, jb])
        if na == 0 or nb == 0:
            continue
        dlo, dhi = bs.percentile_interval(reps[:, ja : ja + 1] - reps[:, jb : jb + 1], settings.level)
        rows.append({**common, "bucket": f"{a} - {b}", "n": na + nb, "value": _num(point[0, ja] - point[0, jb]),
                     "ci_low": _num(dlo[0]), "ci_high": _num(dhi[0]), "small_sample": min(na, nb) < threshold})
    return rows


def _num(x: float) -> float | None:
    """A float, or ``None`` for NaN (frames and JSON carry null, never NaN)."""
    x = float(x)
    return None if math.isnan(x) else x


def rows_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Rows as a frame of :data:`ROW_SCHEMA`."""
    return pl.DataFrame(rows, schema=ROW_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ROW_SCHEMA)


def _column(frame: pl.DataFrame, name: str) -> FloatArray:
    return frame[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()


# ---------------------------------------------------------------------------------------------
# the warehouse history of one underlying


def history_stats(
    frame: pl.DataFrame,
    horizons: Sequence[int] = HORIZONS,
    settings: BootstrapSettings = BootstrapSettings(),
) -> pl.DataFrame:
    """Every figure of one underlying's own level history, as a long frame of :data:`ROW_SCHEMA`.

    Parameters
    ----------
    frame:
        One row per consecutive session of one underlying, columns :data:`HISTORY_COLUMNS`: ``close``,
        ``high``, ``low`` (index points; high/low may be null), ``total_gex`` (dollars per 1% move),
        ``regime`` (positive/negative/neutral), ``flip_distance_pct`` (% of spot, null without a flip),
        ``call_wall``, ``put_wall`` (index points, may be null). Sorted here by ``session``.
    horizons:
        Forward horizons, sessions.

    Returns
    -------
    polars.DataFrame
        Per horizon: ``forward_rv`` (and ``forward_rv_parkinson`` where highs/lows exist) by ``all``,
        ``regime``, ``flip_distance`` and ``gex_quintile``; ``forward_rv_residual`` by ``gex_quintile``;
        ``forward_return_std``, ``_q05``, ``_q95`` by ``regime``. Then the wall-hold shares (horizon 1)
        overall and by regime. Differences: ``negative - positive`` and ``Q1 - Q5``.
    """
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"history frame lacks column(s) {', '.join(missing)}")
    f = _by_session(frame, "history frame")
    closes, highs, lows = (_column(f, c) for c in ("close", "high", "low"))
    forward = {h: {"forward_rv": forward_realised_vol(closes, h),
                   "forward_rv_parkinson": forward_parkinson_vol(highs, lows, h),
                   "forward_return": forward_log_return(closes, h)} for h in horizons}
    holds = wall_holds(closes, highs, lows, _column(f, "call_wall"), _column(f, "put_wall"))
    return _level_stats(f, _column(f, "total_gex"), close_to_close_vol(closes, TRAILING_WINDOW), forward, holds, settings)


#: Horizons (sessions) ``main.level_outcomes`` carries forward figures for.
OUTCOME_HORIZONS = (1, 5, 21)
#: Columns :func:`outcome_stats` needs besides the per-horizon ``forward_rv_{h}d``,
#: ``forward_rv_parkinson_{h}d`` and ``forward_return_{h}d``.
OUTCOME_COLUMNS = ("session", "regime", "total_gex_usd_per_1pct", "flip_distance_pct", "trailing_rv_21d",
                   "call_wall_held_high", "call_wall_held_close", "put_wall_held_low", "put_wall_held_close")


def outcome_stats(
    frame: pl.DataFrame,
    horizons: Sequence[int] = OUTCOME_HORIZONS,
    settings: BootstrapSettings = BootstrapSettings(),
) -> pl.DataFrame:
    """Every figure of one underlying's level history from the warehouse's published ``main.level_outcomes``.

    The same figures as :func:`history_stats`, from per-session outcomes the warehouse computed over its
    own daily bars (so a session whose chain was not computed still counts inside the forward windows of
    the sessions before it), rather than from closes.

    Parameters
    ----------
    frame:
        One row per session of one underlying and preset, columns :data:`OUTCOME_COLUMNS` and, per horizon
        ``h``, ``forward_rv_{h}d`` and ``forward_rv_parkinson_{h}d`` (decimal per year) and
        ``forward_return_{h}d`` (decimal); wall flags boolean or null. Sorted here by ``session``.
    horizons:
        Sessions, each one of :data:`OUTCOME_HORIZONS`.
    """
    need = list(OUTCOME_COLUMNS) + [f"{s}_{h}d" for h in horizons
                                    for s in ("forward_rv", "forward_rv_parkinson", "forward_return")]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"level-outcome frame lacks column(s) {', '.join(missing)}")
    f = _by_session(frame, "level-outcome frame")
    forward = {h: {"forward_rv": _column(f, f"forward_rv_{h}d"),
                   "forward_rv_parkinson": _column(f, f"forward_rv_parkinson_{h}d"),
                   "forward_return": _column(f, f"forward_return_{h}d")} for h in horizons}
    holds = {name: _column(f, name) for name in ("call_wall_held_high", "call_wall_held_close",
                                                 "put_wall_held_low", "put_wall_held_close")}
    return _level_stats(f, _column(f, "total_gex_usd_per_1pct"), _column(f, "trailing_rv_21d"), forward, holds,
                        settings)


def _by_session(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    f = frame.sort("session")
    if f["session"].n_unique() != f.height:
        raise ValueError(f"{what} has repeated sessions (one underlying, one row per session)")
    return f


def _level_stats(
    f: pl.DataFrame,
    gex: FloatArray,
    trailing: FloatArray,
    forward: dict[int, dict[str, FloatArray]],
    holds: dict[str, FloatArray],
    settings: BootstrapSettings,
) -> pl.DataFrame:
    """The figures of :func:`history_stats` from per-day series: ``forward[h]`` holds ``forward_rv``,
    ``forward_rv_parkinson`` (all-NaN: not reported) and ``forward_return`` (NaN where undefined); ``holds``
    the wall-hold flags (1/0/NaN); ``f`` gives ``regime`` and ``flip_distance_pct`` in the same row order."""
    regimes = regime_groups(f["regime"].to_list())
    flips = flip_distance_groups(f["flip_distance_pct"].to_list())
    everyone = np.zeros(f.height, dtype=np.int64)
    q_names = quintile_names()
    rows: list[dict[str, object]] = []
    for h, per_day in forward.items():
        rv = per_day["forward_rv"]
        quint = quantile_groups(gex, np.isfinite(rv))
        groupings = [("all", everyone, ("all",), ()), ("regime", regimes, REGIMES, (("negative", "positive"),)),
                     ("flip_distance", flips, FLIP_BUCKETS, ()), ("gex_quintile", quint, q_names, (("Q1", "Q5"),))]
        series = [("forward_rv", rv)]
        park = per_day["forward_rv_parkinson"]
        if np.isfinite(park).any():
            series.append(("forward_rv_parkinson", park))
        for statistic, values in series:
            for grouping, labels, names, contrasts in groupings:
                rows += bucket_rows(values, labels, names, horizon=h, statistic=statistic, grouping=grouping,
                                    settings=settings, contrasts=contrasts)
        rows += bucket_rows(rv, quint, q_names, horizon=h, statistic="forward_rv_residual", grouping="gex_quintile",
                            settings=settings, kind="residual", x=trailing, contrasts=(("Q1", "Q5"),))
        ret = per_day["forward_return"]
        for kind in ("std", "q05", "q95"):
            rows += bucket_rows(ret, regimes, REGIMES, horizon=h, statistic=f"forward_return_{kind}", grouping="regime",
                                settings=settings, kind=kind, contrasts=(("negative", "positive"),))
    for statistic, values in holds.items():
        for grouping, labels, names, contrasts in (("all", everyone, ("all",), ()),
                                                    ("regime", regimes, REGIMES, (("negative", "positive"),))):
            rows += bucket_rows(values, labels, names, horizon=1, statistic=statistic, grouping=grouping,
                                settings=settings, contrasts=contrasts)
    return rows_frame(rows)


# ---------------------------------------------------------------------------------------------
# an external GEX series (SqueezeMetrics)


@dataclass(frozen=True)
class ExternalEvidence:
    """Forward realised vol by quintile of an external GEX series.

    Attributes
    ----------
    table:
        One row per (horizon, quintile): ``horizon_days``, ``quintile`` (1 = lowest GEX), ``n``,
        ``gex_min``, ``gex_max`` (the quintile's GEX range, the series' unit), ``forward_rv``,
        ``forward_rv_ci_low``, ``forward_rv_ci_high`` (decimal per year), ``residual_rv``,
        ``residual_rv_ci_low``, ``residual_rv_ci_high``, ``residual_n`` (decimal per year; days with a
        trailing window too), ``small_sample``, ``block_length``, ``n_boot``, ``level``.
    contrasts:
        ``Q1 - Q5`` of ``forward_rv`` and ``forward_rv_residual`` per horizon (:data:`ROW_SCHEMA`).
    fits:
        Per horizon the OLS ``forward_rv = intercept + slope * trailing_rv_21d``: ``intercept``, ``slope``,
        ``n``, ``r2``.
    """

    table: pl.DataFrame
    contrasts: pl.DataFrame
    fits: pl.DataFrame


def external_gex_evidence(
    closes: npt.ArrayLike,
    gex: npt.ArrayLike,
    horizons: Sequence[int] = HORIZONS,
    settings: BootstrapSettings = BootstrapSettings(),
) -> ExternalEvidence:
    """Forward RV by GEX quintile, and the residual beyond trailing 21-session RV, with intervals.

    Parameters
    ----------
    closes:
        Closes of consecutive sessions, index points, shape (n,).
    gex:
        The GEX published at the close of the same sessions (any unit: only its rank is used), shape (n,).
    """
    c = np.asarray(closes, dtype=np.float64)
    g = np.asarray(gex, dtype=np.float64)
    if c.shape != g.shape:
        raise ValueError(f"closes and gex differ in length ({c.size} vs {g.size})")
    trailing = close_to_close_vol(c, TRAILING_WINDOW)
    names = quintile_names()
    table_rows: list[dict[str, object]] = []
    contrast_rows: list[dict[str, object]] = []
    fits: list[dict[str, object]] = []
    for h in horizons:
        rv = forward_realised_vol(c, h)
        quint = quantile_groups(g, np.isfinite(rv))
        level = bucket_rows(rv, quint, names, horizon=h, statistic="forward_rv", grouping="gex_quintile",
                            settings=settings, contrasts=(("Q1", "Q5"),))
        resid = bucket_rows(rv, quint, names, horizon=h, statistic="forward_rv_residual", grouping="gex_quintile",
                            settings=settings, kind="residual", x=trailing, contrasts=(("Q1", "Q5"),))
        by_name = {r["bucket"]: r for r in resid}
        for r in level:
            if " - " in str(r["bucket"]):
                continue
            j = int(str(r["bucket"])[1:]) - 1
            in_q = quint == j
            res = by_name.get(r["bucket"], {})
            table_rows.append({
                "horizon_days": h, "quintile": j + 1, "n": r["n"],
                "gex_min": float(g[in_q].min()), "gex_max": float(g[in_q].max()),
                "forward_rv": r["value"], "forward_rv_ci_low": r["ci_low"], "forward_rv_ci_high": r["ci_high"],
                "residual_rv": res.get("value"), "residual_rv_ci_low": res.get("ci_low"),
                "residual_rv_ci_high": res.get("ci_high"), "residual_n": res.get("n", 0),
                "small_sample": r["small_sample"], "block_length": r["block_length"], "n_boot": r["n_boot"],
                "level": r["level"],
            })
        contrast_rows += [r for r in level + resid if " - " in str(r["bucket"])]
        a, b, m = bs.ols_fit(rv, trailing)
        ok = np.isfinite(rv) & np.isfinite(trailing)
        r2 = (float(np.corrcoef(rv[ok], trailing[ok])[0, 1] ** 2) if m >= 3 else math.nan)
        fits.append({"horizon_days": h, "intercept": _num(a), "slope": _num(b), "n": m, "r2": _num(r2)})
    table = pl.DataFrame(table_rows, schema={
        "horizon_days": pl.Int64, "quintile": pl.Int64, "n": pl.Int64, "gex_min": pl.Float64, "gex_max": pl.Float64,
        "forward_rv": pl.Float64, "forward_rv_ci_low": pl.Float64, "forward_rv_ci_high": pl.Float64,
        "residual_rv": pl.Float64, "residual_rv_ci_low": pl.Float64, "residual_rv_ci_high": pl.Float64,
        "residual_n": pl.Int64, "small_sample": pl.Boolean, "block_length": pl.Int64, "n_boot": pl.Int64,
        "level": pl.Float64,
    }, orient="row")
    fits_frame = pl.DataFrame(fits, schema={"horizon_days": pl.Int64, "intercept": pl.Float64, "slope": pl.Float64,
                                            "n": pl.Int64, "r2": pl.Float64}, orient="row")
    return ExternalEvidence(table=table, contrasts=rows_frame(contrast_rows), fits=fits_frame)
