"""A hand-made cross-section for the scanner tests: five underlyings over two sessions, numbers chosen so every
rank, share, ratio and regime change can be checked by hand (see the table in :func:`build_scanner_warehouse`).

Rows go straight into ``mart.regime_daily`` and ``raw.underlying_closes`` of a freshly migrated warehouse (the
scanner reads only what the published views read, so no chain has to be generated and computed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from gex_warehouse.connect import connect

D1, D2 = dt.date(2025, 1, 2), dt.date(2025, 1, 3)  # consecutive NYSE sessions
SPOT = 100.0


def add_day(con: duckdb.DuckDBPyConnection, session: dt.date, underlying: str, *, call: float, put: float,
            flip_pct: float | None, regime: str, preset: str = "native", spot: float = SPOT,
            total: float | None = None, intraday_at: dt.time | None = None) -> None:
    """One ``mart.regime_daily`` row: GEX in dollars per 1% move; total defaults to call + put. The end-of-day
    snapshot (valued at the 16:00 New York close, 21:00 UTC in January) unless ``intraday_at`` (UTC) is given."""
    total = call + put if total is None else total
    flip = None if flip_pct is None else spot * (1 + flip_pct / 100)
    valuation = dt.datetime.combine(session, intraday_at or dt.time(21, 0), tzinfo=dt.timezone.utc)
    con.execute(
        "INSERT INTO mart.regime_daily (session, underlying, spot, valuation_ts, total_gex_usd_per_1pct, "
        "call_gex_usd_per_1pct, put_gex_usd_per_1pct, gamma_flip, flip_distance_pct, regime, partial_chain, "
        "contracts_used, preset, intraday) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, 100, ?, ?)",
        [session, underlying, spot, valuation, total, call, put, flip, flip_pct, regime, preset, intraday_at is not None],
    )


def add_bar(con: duckdb.DuckDBPyConnection, session: dt.date, underlying: str, close: float,
            volume: float | None, source: str = "closes") -> None:
    """One ``raw.underlying_closes`` row (``volume`` in shares)."""
    con.execute(
        "INSERT INTO raw.underlying_closes (load_id, source, underlying, session, \"close\", volume) "
        "VALUES ('test', ?, ?, ?, ?, ?)",
        [source, underlying, session, close, volume],
    )


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """The cross-section (GEX $ per 1% move; flip distance %; ADV = mean of close * volume)::

        session D2     call    put   total  share  flip%  regime   (D1 regime)  ADV           GEX/ADV
        AAA            3e9    -1e9    2e9   0.75   -1.0   positive (negative)   (1e8+2.2e8)/2  12.5
        BBB            1e9    -3e9   -2e9   0.25   +2.0   negative (negative)   2e8           -10
        CCC            2e9     0      2e9   1.00   none   positive (no row)     1e8 ('closes' over 'zz_vendor')  20
        DDD            0       0      0     NULL   +1.0   neutral  (positive)   0 -> NULL     NULL
        EEE (index)    5e9    -1e9    4e9   5/6    -0.5   positive (positive)   no volume     NULL

    Dense ranks at D2: net GEX EEE 1, AAA = CCC 2, DDD 3, BBB 4; call share CCC 1, EEE 2, AAA 3, BBB 4;
    |flip distance| EEE 1, AAA = DDD 2, BBB 3; |GEX/ADV| CCC 1, AAA 2, BBB 3. A perfiliev row of AAA at D2
    is a cross-section of its own.
    """
    add_day(con, D1, "AAA", call=1e9, put=-2e9, flip_pct=1.5, regime="negative")
    add_day(con, D1, "BBB", call=1e9, put=-2e9, flip_pct=3.0, regime="negative")
    add_day(con, D1, "DDD", call=2e9, put=-1e9, flip_pct=-2.0, regime="positive")
    add_day(con, D1, "EEE", call=4e9, put=-1e9, flip_pct=-1.0, regime="positive")
    add_day(con, D2, "AAA", call=3e9, put=-1e9, flip_pct=-1.0, regime="positive")
    add_day(con, D2, "BBB", call=1e9, put=-3e9, flip_pct=2.0, regime="negative")
    add_day(con, D2, "CCC", call=2e9, put=0.0, flip_pct=None, regime="positive")
    add_day(con, D2, "DDD", call=0.0, put=0.0, flip_pct=1.0, regime="neutral")
    add_day(con, D2, "EEE", call=5e9, put=-1e9, flip_pct=-0.5, regime="positive")
    add_day(con, D2, "AAA", call=1e9, put=-4e9, flip_pct=0.3, regime="negative", preset="perfiliev")
    add_bar(con, D1, "AAA", 100.0, 1e6)
    add_bar(con, D2, "AAA", 110.0, 2e6)
    add_bar(con, D2, "BBB", 50.0, 4e6)
    add_bar(con, D2, "CCC", 10.0, 1e7)
    add_bar(con, D2, "CCC", 10.0, 5e7, source="zz_vendor")
    add_bar(con, D2, "CCC", 10.0, None, source="chain")
    add_bar(con, D2, "DDD", 100.0, 0.0)
    add_bar(con, D1, "EEE", 5000.0, None)
    add_bar(con, D2, "EEE", 5050.0, None)


def build_scanner_warehouse(path: Path) -> Path:
    """A migrated warehouse at ``path`` holding :func:`fill`'s rows (checkpointed and closed)."""
    con = connect(path)
    try:
        fill(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path
