"""Row rules a canonical chain must pass before it enters the warehouse, as polars expressions.

Pure (polars and the core's calendar only, no database), so every rule is testable on a hand-made frame.
The readers already reject what they cannot parse (bad fields, malformed symbols, unknown roots...); these
rules are the warehouse's own guarantees on top, and they also guard formats whose readers check less
(canonical CSV/Parquet written by other tools).

Rules (the first failing one, in this order, names the reason):

- required fields present (``symbol``, ``root``, ``expiration``, ``settlement``, ``settlement_ts``,
  ``strike``, ``right``, ``session``, ``valuation_ts``, ``underlying_price``, ``multiplier``);
- ``strike > 0``; ``underlying_price > 0``; ``multiplier > 0``;
- ``underlying`` and ``root`` are identifiers safe as path components (:mod:`gex_sources.limits`: the
  levels feed has a folder per underlying);
- expiration not before the session (a contract that expired on an earlier day cannot be in a snapshot),
  and not more than :data:`gex_sources.limits.MAX_LISTING_YEARS` years after it (a corrupt date);
- the root's settlement style is known (:func:`gex.calendar.settlement_style`) and agrees with ``settlement``;
- every float present is finite; ``0 <= bid``, ``0 <= ask``, ``0 <= last``; ``bid <= ask`` when both are
  given and the ask is not ``0`` (Cboe's "no offer", kept);
- prices are not absurd: no premium above ``underlying_price + strike`` (a call is worth at most the spot,
  a put at most the strike);
- ``open_interest`` and ``volume`` (contracts, integers by type) are ``>= 0`` and below
  :data:`MAX_CONTRACTS` (no listed option has come near);
- ``vendor_iv`` null, ``0`` (a vendor placeholder: **kept**, the model screens it) or ``0 < iv <= MAX_IV``
  (100: Cboe's deep in-the-money placeholders such as 24.001 are kept too, see :data:`MAX_IV`).

Duplicates: one contract (``symbol``) per snapshot. Among rows that pass the rules, copies of a contract
whose values are all identical (a file concatenated twice) keep the first and quarantine the later copies;
copies that **disagree** are all quarantined, because nothing tells which one is right.

Exclusion (loaded, but not valued by the models): rows already settled at the valuation instant,
``settlement_ts <= valuation_ts`` (e.g. AM-settled monthly and same-day PM rows in an evening snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from gex.calendar import UnknownSettlementError, settlement_style
from gex.chain import CHAIN_SCHEMA
from gex.reference import REFERENCE_SCHEMAS
from gex_sources.limits import MAX_LISTING_DAYS, MAX_LISTING_YEARS, identifier_reason, invalid_identifier

#: Largest implied volatility accepted, decimal per year (10,000%). Vendor placeholders are kept as published
#: (docs/chain-schema.md): 0, 0.02, and values like 12.001 or 24.001 that Cboe prints on deep in-the-money
#: lines carrying real open interest (seen up to 33 in the real files); the model screens them. Only
#: values no vendor uses as a placeholder (negative, non-finite, above this) are rejected.
MAX_IV = 100.0
#: Largest open interest or volume accepted for one contract, contracts.
MAX_CONTRACTS = 100_000_000

REQUIRED = (
    "symbol",
    "root",
    "expiration",
    "settlement",
    "settlement_ts",
    "strike",
    "right",
    "session",
    "valuation_ts",
    "underlying_price",
    "multiplier",
)
FLOATS = tuple(c for c, t in CHAIN_SCHEMA.items() if t == pl.Float64())
PRICES = ("bid", "ask", "last")
COUNTS = ("open_interest", "volume")

#: Loaded but excluded from the models: already settled at the valuation instant.
EXPIRED: pl.Expr = (pl.col("settlement_ts") <= pl.col("valuation_ts")).fill_null(False)

#: Internal column holding the expected settlement style of each row's root.
_STYLE = "_expected_settlement"


@dataclass(frozen=True)
class Rule:
    """A row rule: ``bad`` is true for a rejected row (null counts as passing: the field's own rule, e.g.
    "required", catches a missing value), ``reason`` words it with the offending values."""

    name: str
    bad: pl.Expr
    reason: pl.Expr


def _fmt(template: str, *args: pl.Expr | str) -> pl.Expr:
    return pl.format(template, *(pl.col(a) if isinstance(a, str) else a for a in args))


def _identifiers(*names: str) -> list[Rule]:
    """Identifiers that become path components (the levels feed's folder per underlying): the readers'
    rule (:mod:`gex_sources.limits`), applied again here so that no frame reaches the warehouse without it,
    whatever produced it."""
    return [Rule(f"identifier_{n}", invalid_identifier(pl.col(n)), identifier_reason(n, pl.col(n))) for n in names]


def _rules() -> tuple[Rule, ...]:
    c = pl.col
    rules = [
        Rule(f"required_{name}", c(name).is_null(), pl.lit(f"missing {name}")) for name in REQUIRED
    ]
    rules += _identifiers("underlying", "root")
    rules += [
        Rule("strike", ~(c("strike") > 0), _fmt("non-positive strike: {}", "strike")),
        Rule("spot", ~(c("underlying_price") > 0), _fmt("non-positive underlying price: {}", "underlying_price")),
        Rule("multiplier", ~(c("multiplier") > 0), _fmt("non-positive multiplier: {}", "multiplier")),
        Rule(
            "expired_before_session",
            c("expiration") < c("session"),
            _fmt("expiration {} before the session {}", "expiration", "session"),
        ),
        Rule(
            "beyond_listing_horizon",
            (c("expiration") - c("session")).dt.total_days() > MAX_LISTING_DAYS,
            _fmt(
                f"expiration {{}} more than {MAX_LISTING_YEARS} years after the session {{}} (corrupt date?)",
                "expiration",
                "session",
            ),
        ),
        Rule(
            "unknown_settlement",
            c(_STYLE).is_null(),
            _fmt("unknown settlement style for root '{}'", "root"),
        ),
        Rule(
            "settlement_mismatch",
            c(_STYLE) != c("settlement").cast(pl.String),
            _fmt("settlement {} contradicts root '{}' ({}-settled)", "settlement", "root", _STYLE),
        ),
    ]
    rules += [Rule(f"finite_{name}", ~c(name).is_finite(), _fmt(f"non-finite {name}: {{}}", name)) for name in FLOATS]
    rules += [Rule(f"negative_{name}", c(name) < 0, _fmt(f"negative {name}: {{}}", name)) for name in PRICES]
    # A zero ask beside a positive bid is Cboe's "no offer" (far-dated SPX lines with open interest in the
    # thousands carry it), not a crossed market: only bid > ask > 0 is rejected.
    rules.append(
        Rule("bid_above_ask", (c("bid") > c("ask")) & (c("ask") > 0), _fmt("bid above ask: bid {} > ask {}", "bid", "ask"))
    )
    rules += [
        Rule(
            f"absurd_{name}",
            c(name) > c("underlying_price") + c("strike"),
            _fmt(f"absurd {name}: {{}} exceeds spot {{}} + strike {{}}", name, "underlying_price", "strike"),
        )
        for name in PRICES
    ]
    for name in COUNTS:
        rules += [
            Rule(f"negative_{name}", c(name) < 0, _fmt(f"negative {name}: {{}}", name)),
            Rule(
                f"absurd_{name}",
                c(name) > MAX_CONTRACTS,
                _fmt(f"absurd {name}: {{}} contracts (limit {MAX_CONTRACTS:,})", name),
            ),
        ]
    iv = c("vendor_iv")
    rules.append(
        Rule(
            "implausible_iv",
            ~((iv == 0) | ((iv > 0) & (iv <= MAX_IV))),
            _fmt(f"implausible implied volatility: {{}} (want 0 placeholder or 0 < iv <= {MAX_IV:g})", "vendor_iv"),
        )
    )
    return tuple(Rule(r.name, r.bad.fill_null(False), r.reason) for r in rules)


#: Every row rule, in precedence order.
RULES: tuple[Rule, ...] = _rules()

REJECT_COLUMNS = {"source_line": pl.Int64(), "symbol": pl.String(), "reason": pl.String()}


@dataclass(frozen=True)
class Validated:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    good:
        Rows that passed, canonical schema, in their original order.
    rejects:
        ``source_line, symbol, reason`` of every rejected row, sorted by line.
    expired:
        Rows of ``good`` already settled at the valuation instant (loaded, excluded from models), count.
    """

    good: pl.DataFrame
    rejects: pl.DataFrame
    expired: int


def _settlement_styles(frame: pl.DataFrame) -> pl.DataFrame:
    """``root, underlying, _expected_settlement`` for each distinct pair (null style: unknown root)."""
    pairs = frame.select("root", "underlying").unique().drop_nulls()
    styles = []
    for root, underlying in pairs.iter_rows():
        try:
            styles.append(settlement_style(root, underlying))
        except UnknownSettlementError:
            styles.append(None)
    return pairs.with_columns(pl.Series(_STYLE, styles, dtype=pl.String))


def _duplicates(good: pl.DataFrame, key: list[str], values: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``good`` into (kept, rejects) by the duplicate rule on ``key`` (see the module docstring);
    copies are identical when all of ``values`` agree."""
    none = pl.DataFrame(schema=REJECT_COLUMNS)
    # Fast path: all key hashes distinct means all keys distinct (exact); only a duplicate, or a hash
    # collision, takes the exact comparison below. Hashes: ~40 ms for a million rows, strings: ~250 ms.
    if good.select(pl.struct(key).hash().n_unique()).item() == good.height:
        return good, none
    dup = good.select(pl.struct(key).is_duplicated()).to_series()
    if not dup.any():
        return good, none
    label = "symbol" if "symbol" in key else None
    rows = good.with_row_index("_row").filter(dup)
    groups = rows.group_by(key).agg(
        pl.col("_row"),
        pl.col("source_line"),
        identical=pl.struct(values).n_unique() == 1,
    )
    drop: list[int] = []
    lines: list[int] = []
    symbols: list[str | None] = []
    reasons: list[str] = []
    for row in groups.iter_rows(named=True):
        order = sorted(zip(row["source_line"], row["_row"], strict=True))
        first_line = order[0][0]
        what = row[label] if label else ", ".join(f"{k}={row[k]}" for k in key)
        if row["identical"]:
            dropped = order[1:]
            why = f"duplicate {'contract' if label else 'record'} {what}: identical copy of line {first_line}"
        else:
            dropped = order
            listed = ", ".join(str(line) for line, _ in order)
            why = f"conflicting duplicate {'contract' if label else 'record'} {what} (lines {listed}): none kept"
        for line, index in dropped:
            drop.append(index)
            lines.append(line)
            symbols.append(row[label] if label else None)
            reasons.append(why)
    mask = pl.Series(range(good.height)).is_in(drop)
    rejects = pl.DataFrame({"source_line": lines, "symbol": symbols, "reason": reasons}, schema=REJECT_COLUMNS)
    return good.filter(~mask), rejects


def _apply(
    frame: pl.DataFrame, rules: tuple[Rule, ...], key: list[str], columns: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good rows with ``columns``, rejects) after ``rules`` then the duplicate rule on ``key``."""
    reason = pl.coalesce(pl.when(r.bad).then(r.reason) for r in rules)
    checked = frame.with_columns(_bad=pl.any_horizontal(r.bad for r in rules))
    symbol = pl.col("symbol") if "symbol" in frame.columns else pl.lit(None, pl.String)
    good = checked.filter(~pl.col("_bad")).select(columns)
    rejects = checked.filter(pl.col("_bad")).select("source_line", symbol=symbol, reason=reason)
    good, duplicates = _duplicates(good, key, [c for c in columns if c != "source_line"])
    rejects = pl.concat([rejects.cast(REJECT_COLUMNS), duplicates]).sort("source_line", "symbol", maintain_order=True)
    return good, rejects


def validate(frame: pl.DataFrame, *, group: str | None = None) -> Validated:
    """Apply :data:`RULES` and the duplicate rule to a canonical chain frame (one or more snapshots).

    ``group`` names a column identifying each row's snapshot when the frame holds several that may share
    an (underlying, session) (intraday snapshots): it joins the duplicate key and stays in ``good``.

    >>> import polars as pl
    >>> from gex.chain import CHAIN_SCHEMA
    >>> out = validate(pl.DataFrame(schema=CHAIN_SCHEMA))
    >>> out.good.height, out.rejects.height, out.expired
    (0, 0, 0)
    """
    styled = frame.join(
        _settlement_styles(frame), on=["root", "underlying"], how="left", nulls_equal=True, maintain_order="left"
    )
    key = ["underlying", "session", "symbol"]
    columns = list(CHAIN_SCHEMA)
    if group is not None:
        key, columns = [group, *key], [*columns, group]
    good, rejects = _apply(styled, RULES, key, columns)
    expired = int(good.select(EXPIRED.sum()).item()) if good.height else 0
    return Validated(good=good, rejects=rejects, expired=expired)


# --- reference data -----------------------------------------------------------------------------------

#: Sane bounds of a risk-free rate, decimal per year (continuous).
RATE_BOUNDS = (-0.05, 0.5)


def _required(*names: str) -> list[Rule]:
    return [Rule(f"required_{n}", pl.col(n).is_null(), pl.lit(f"missing {n}")) for n in names]


def _finite(*names: str) -> list[Rule]:
    return [Rule(f"finite_{n}", ~pl.col(n).is_finite(), _fmt(f"non-finite {n}: {{}}", n)) for n in names]


def _positive(*names: str) -> list[Rule]:
    return [Rule(f"positive_{n}", ~(pl.col(n) > 0), _fmt(f"non-positive {n}: {{}}", n)) for n in names]


def _reference_rules() -> dict[str, tuple[tuple[Rule, ...], list[str]]]:
    """Kind -> (rules, duplicate key). Keys are what a re-load replaces and what must be unique."""
    c = pl.col
    lo, hi = RATE_BOUNDS
    specs: dict[str, tuple[list[Rule], list[str]]] = {
        "open_interest": (
            [
                *_required("publish_date", "oi_date", "underlying", "symbol", "root", "expiration", "strike"),
                *_required("right", "open_interest"),
                *_identifiers("underlying", "root"),
                *_finite("strike"),
                *_positive("strike"),
                Rule("negative_open_interest", c("open_interest") < 0, _fmt("negative open_interest: {}", "open_interest")),
                Rule(
                    "absurd_open_interest",
                    c("open_interest") > MAX_CONTRACTS,
                    _fmt(f"absurd open_interest: {{}} contracts (limit {MAX_CONTRACTS:,})", "open_interest"),
                ),
                Rule(
                    "oi_date_not_before_publish",
                    c("oi_date") >= c("publish_date"),
                    _fmt("oi_date {} not before publish_date {} (OCC publishes the previous close)", "oi_date", "publish_date"),
                ),
                Rule(
                    "expired_before_oi_date",
                    c("expiration") < c("oi_date"),
                    _fmt("expiration {} before oi_date {}", "expiration", "oi_date"),
                ),
            ],
            ["underlying", "publish_date", "root", "expiration", "strike", "right"],
        ),
        "rates": (
            [
                *_required("date", "tenor_days", "rate"),
                *_finite("rate"),
                Rule("tenor", ~(c("tenor_days") > 0), _fmt("non-positive tenor_days: {}", "tenor_days")),
                Rule(
                    "implausible_rate",
                    (c("rate") < lo) | (c("rate") > hi),
                    _fmt(f"implausible rate: {{}} (want {lo} <= rate <= {hi}, decimal per year)", "rate"),
                ),
            ],
            ["date", "tenor_days"],
        ),
        "closes": (
            [
                *_required("session", "underlying", "close"),
                *_identifiers("underlying"),
                *_finite("open", "high", "low", "close"),
                *_positive("open", "high", "low", "close"),
                Rule("high_below_low", c("high") < c("low"), _fmt("high {} below low {}", "high", "low")),
                *_finite("volume"),
                Rule("negative_volume", c("volume") < 0, _fmt("negative volume: {} (shares traded)", "volume")),
            ],
            ["underlying", "session"],
        ),
        "external_gex": (
            [
                *_required("session", "underlying", "provider", "gex_usd"),
                *_identifiers("underlying"),
                *_finite("gex_usd", "dix", "underlying_close"),
                Rule("dix_range", (c("dix") < 0) | (c("dix") > 1), _fmt("dix outside 0..1: {}", "dix")),
                *_positive("underlying_close"),
            ],
            ["provider", "underlying", "session"],
        ),
        "derived_results": (
            [
                *_required("session", "underlying", "provider", "expiry_group"),
                *_identifiers("underlying"),
                *_finite("strike", "call_gex_bn", "put_gex_bn", "net_gex_bn", "zero_gamma", "total_gex_bn", "spot"),
                *_positive("strike", "spot"),
            ],
            ["provider", "underlying", "session", "expiry_group", "strike"],
        ),
    }
    return {k: (tuple(Rule(r.name, r.bad.fill_null(False), r.reason) for r in rules), key) for k, (rules, key) in specs.items()}


#: Reference kind -> (row rules in precedence order, duplicate/replacement key).
REFERENCE_RULES = _reference_rules()


def validate_reference(kind: str, frame: pl.DataFrame) -> Validated:
    """Apply the rules of reference ``kind`` (:data:`REFERENCE_RULES`) and its duplicate rule to ``frame``
    (schema ``gex.reference.REFERENCE_SCHEMAS[kind]``). ``expired`` is always 0.

    >>> import datetime as dt, polars as pl
    >>> from gex.reference import RATES_SCHEMA
    >>> f = pl.DataFrame({"date": [dt.date(2024, 1, 5)] * 2, "tenor_days": [30, 30], "rate": [0.05, 0.051],
    ...                   "source_line": [2, 3]}, schema=RATES_SCHEMA)
    >>> validate_reference("rates", f).rejects["reason"].to_list()  # doctest: +NORMALIZE_WHITESPACE
    ['conflicting duplicate record date=2024-01-05, tenor_days=30 (lines 2, 3): none kept',
     'conflicting duplicate record date=2024-01-05, tenor_days=30 (lines 2, 3): none kept']
    """
    if kind not in REFERENCE_RULES:
        raise ValueError(f"unknown reference kind {kind!r}; known: {', '.join(REFERENCE_RULES)}")
    rules, key = REFERENCE_RULES[kind]
    good, rejects = _apply(frame, rules, key, list(REFERENCE_SCHEMAS[kind]))
    return Validated(good=good, rejects=rejects, expired=0)
