"""Mart rows of the expiry-filtered views (``mart.expiry_views``, ``mart.gex_profile_by_expiries``; pure).

One analysis in, two frames out, keyed by (session, underlying, valuation_ts, preset, expiries): every filter of
:data:`gex.expiry_views.EXPIRY_FILTERS` in ``mart.expiry_views``, and the profile of every filter but ``all``
(that one is ``mart.gex_profile``) in ``mart.gex_profile_by_expiries``. Units: GEX in dollars per 1% move of the
underlying, levels in currency per share (``docs/conventions.md`` defines the filters).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from gex.analysis import Analysis
from gex.columns import frame_of
from gex.expiry_views import expiry_views

from gex_warehouse.mart_keys import repeated_keys

#: Column -> dtype of ``mart.expiry_views`` rows (the key first).
EXPIRY_VIEW_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),
    "valuation_ts": pl.Datetime("us", "UTC"),
    "preset": pl.String(),
    "expiries": pl.String(),
    "contracts": pl.Int64(),
    "expirations": pl.Int64(),
    "total_gex_usd_per_1pct": pl.Float64(),
    "call_gex_usd_per_1pct": pl.Float64(),
    "put_gex_usd_per_1pct": pl.Float64(),
    "gex_at_spot_model_usd_per_1pct": pl.Float64(),
    "gamma_flip": pl.Float64(),
    "flip_crossings": pl.List(pl.Float64()),
    "flip_distance_pct": pl.Float64(),
    "regime": pl.String(),
    "call_wall": pl.Float64(),
    "put_wall": pl.Float64(),
    "abs_gamma_strike": pl.Float64(),
    "gross_gex_share": pl.Float64(),
    "excluded_expiration": pl.Date(),
}

#: Column -> dtype of ``mart.gex_profile_by_expiries`` rows.
PROFILE_BY_EXPIRIES_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.Date(),
    "underlying": pl.String(),
    "valuation_ts": pl.Datetime("us", "UTC"),
    "preset": pl.String(),
    "expiries": pl.String(),
    "spot_level": pl.Float64(),
    "gex_usd_per_1pct": pl.Float64(),
}


def expiry_mart_frames(a: Analysis) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(mart.expiry_views rows, mart.gex_profile_by_expiries rows)`` of analysis ``a`` (every filter)."""
    key = {"session": a.as_of, "underlying": a.underlying, "valuation_ts": a.valuation_ts, "preset": a.conventions.name}
    views = expiry_views(a)
    rows = [
        {
            **key,
            "expiries": v.expiries,
            "contracts": v.contracts,
            "expirations": v.expirations,
            "total_gex_usd_per_1pct": v.total_gex,
            "call_gex_usd_per_1pct": v.call_gex,
            "put_gex_usd_per_1pct": v.put_gex,
            "gex_at_spot_model_usd_per_1pct": v.gex_at_spot_model,
            "gamma_flip": v.gamma_flip,
            "flip_crossings": list(v.flip_crossings),
            "flip_distance_pct": v.flip_distance_pct,
            "regime": v.regime,
            "call_wall": v.call_wall,
            "put_wall": v.put_wall,
            "abs_gamma_strike": v.abs_gamma_strike,
            "gross_gex_share": v.gross_gex_share,
            "excluded_expiration": v.excluded_expiration,
        }
        for v in views
    ]
    summary = pl.DataFrame(rows, schema=EXPIRY_VIEW_SCHEMA)
    kept = [v for v in views if v.expiries != "all" and v.profile.height]
    if not kept:
        return summary, pl.DataFrame(schema=PROFILE_BY_EXPIRIES_SCHEMA)
    # built from numpy arrays and repeated key values (no concat of five frames, no query): this runs for every
    # chain of a whole-market session; equal to _profile_rows_reference (tested)
    heights = [v.profile.height for v in kept]
    n = sum(heights)
    columns = repeated_keys(a.underlying, a.as_of, a.valuation_ts, a.conventions.name, n)
    columns.append(pl.Series("expiries", np.repeat([v.expiries for v in kept], heights), dtype=pl.String))
    for name in ("spot_level", "gex_usd_per_1pct"):
        values = np.concatenate([v.profile.get_column(name).to_numpy() for v in kept]).astype(np.float64, copy=False)
        columns.append(pl.Series(name, values, dtype=pl.Float64))
    return summary, frame_of(columns)


def _profile_rows_reference(a: Analysis) -> pl.DataFrame:
    """The ``mart.gex_profile_by_expiries`` rows of :func:`expiry_mart_frames` as one concat and one select."""
    key = {"session": a.as_of, "underlying": a.underlying, "valuation_ts": a.valuation_ts, "preset": a.conventions.name}
    kept = [v for v in expiry_views(a) if v.expiries != "all" and v.profile.height]
    if not kept:
        return pl.DataFrame(schema=PROFILE_BY_EXPIRIES_SCHEMA)
    expiries = pl.Series("expiries", np.repeat([v.expiries for v in kept], [v.profile.height for v in kept]),
                         dtype=pl.String)
    profile = pl.concat([v.profile for v in kept]).select(
        *(pl.lit(val, dtype=PROFILE_BY_EXPIRIES_SCHEMA[k]).alias(k) for k, val in key.items()),
        pl.lit(expiries), "spot_level", "gex_usd_per_1pct")
    return profile.cast(PROFILE_BY_EXPIRIES_SCHEMA)  # type: ignore[arg-type]
