"""Evidence: does dealer gamma say anything about the next sessions? Pure statistics (numpy/polars, no I/O).

- :mod:`gex.evidence.forward`: forward realised vol (close-to-close, Parkinson) and forward returns;
- :mod:`gex.evidence.buckets`: GEX quintiles, regimes, flip-distance buckets, wall holds;
- :mod:`gex.evidence.bootstrap`: the moving-block bootstrap and its block-length rule;
- :mod:`gex.evidence.tables`: the figures with sample sizes, intervals and small-bucket flags
  (:func:`history_stats` for a history of closes and levels, :func:`outcome_stats` for the
  warehouse's ``main.level_outcomes``, :func:`external_gex_evidence` for SqueezeMetrics);
- :mod:`gex.evidence.reference`: plain loop implementations the tests check the fast paths against.

Method and measured results: ``docs/evidence.md``.
"""

from gex.evidence.tables import (
    HISTORY_COLUMNS,
    HORIZONS,
    OUTCOME_COLUMNS,
    OUTCOME_HORIZONS,
    ROW_SCHEMA,
    BootstrapSettings,
    ExternalEvidence,
    external_gex_evidence,
    history_stats,
    min_bucket_days,
    outcome_stats,
)

__all__ = [
    "HISTORY_COLUMNS",
    "HORIZONS",
    "OUTCOME_COLUMNS",
    "OUTCOME_HORIZONS",
    "ROW_SCHEMA",
    "BootstrapSettings",
    "ExternalEvidence",
    "external_gex_evidence",
    "history_stats",
    "min_bucket_days",
    "outcome_stats",
]
