"""Write a universe session as a Cboe DataShop "Option EOD Summary (with Calcs)" file, and its reference files.

The columns are exactly the ones DataShop publishes (format D of the chain-data README), in its order;
``gex_sources.datashop`` reads them back (a test checks the round trip). The generator has one snapshot per
session (the close), so the ``*_1545`` calculation columns and the ``*_eod`` quotes carry the same values;
``open``/``high``/``low`` are not modelled and are written as the ``close`` (last sale) or 0 when the
contract did not trade. Index rows use DataShop's caret symbols (``^SPX``); the underlying quote is the
close with a one-cent spread on each side (index quotes included, as a licensed buyer receives them).

Per-symbol responses in the fetch layer's shapes (:func:`write_api_responses`) use
:func:`gex_market.api_shapes.render_responses`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from gex.chain import ChainSnapshot

if TYPE_CHECKING:
    from gex_market.universe import Member, UniverseSession

#: DataShop's column order (Option EOD Summary with Calcs).
DATASHOP_COLUMNS = (
    "underlying_symbol", "quote_date", "root", "expiration", "strike", "option_type", "open", "high", "low",
    "close", "trade_volume", "bid_size_1545", "bid_1545", "ask_size_1545", "ask_1545", "underlying_bid_1545",
    "underlying_ask_1545", "implied_underlying_price_1545", "active_underlying_price_1545",
    "implied_volatility_1545", "delta_1545", "gamma_1545", "theta_1545", "vega_1545", "rho_1545",
    "bid_size_eod", "bid_eod", "ask_size_eod", "ask_eod", "underlying_bid_eod", "underlying_ask_eod", "vwap",
    "open_interest", "delivery_code",
)  # fmt: skip
#: Underlyings written with DataShop's index caret.
INDEX_CARET = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "OEX"})


def datashop_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Canonical chain rows (:data:`gex.chain.CHAIN_SCHEMA`) -> DataShop rows, in :data:`DATASHOP_COLUMNS` order.

    ``rho_1545`` is left empty (the generator does not compute rho; the reader does not use it). Sizes are
    10 contracts when a side is quoted, else 0.
    """
    c = pl.col
    spot = c("underlying_price")
    last = c("last").fill_null(0.0)
    traded = c("volume").fill_null(0) > 0
    size = lambda price: pl.when(price > 0).then(pl.lit(10)).otherwise(pl.lit(0))  # noqa: E731
    und_bid, und_ask = (spot - 0.01).round(2), (spot + 0.01).round(2)
    return frame.select(
        pl.when(c("underlying").is_in(list(INDEX_CARET))).then(pl.lit("^") + c("underlying")).otherwise(c("underlying")).alias("underlying_symbol"),
        c("session").alias("quote_date"),
        c("root"),
        c("expiration"),
        c("strike").round(3),
        c("right").cast(pl.String).alias("option_type"),
        pl.when(traded).then(last).otherwise(0.0).alias("open"),
        pl.when(traded).then(last).otherwise(0.0).alias("high"),
        pl.when(traded).then(last).otherwise(0.0).alias("low"),
        last.alias("close"),
        c("volume").fill_null(0).alias("trade_volume"),
        size(c("bid")).alias("bid_size_1545"),
        c("bid").alias("bid_1545"),
        size(c("ask")).alias("ask_size_1545"),
        c("ask").alias("ask_1545"),
        und_bid.alias("underlying_bid_1545"),
        und_ask.alias("underlying_ask_1545"),
        spot.round(2).alias("implied_underlying_price_1545"),
        spot.round(2).alias("active_underlying_price_1545"),
        c("vendor_iv").fill_null(0.0).alias("implied_volatility_1545"),
        c("vendor_delta").fill_null(0.0).alias("delta_1545"),
        c("vendor_gamma").fill_null(0.0).alias("gamma_1545"),
        c("vendor_theta").fill_null(0.0).alias("theta_1545"),
        c("vendor_vega").fill_null(0.0).alias("vega_1545"),
        pl.lit(None, dtype=pl.Float64).alias("rho_1545"),
        size(c("bid")).alias("bid_size_eod"),
        c("bid").alias("bid_eod"),
        size(c("ask")).alias("ask_size_eod"),
        c("ask").alias("ask_eod"),
        und_bid.alias("underlying_bid_eod"),
        und_ask.alias("underlying_ask_eod"),
        pl.when(traded).then(last).otherwise(0.0).alias("vwap"),
        c("open_interest").fill_null(0).alias("open_interest"),
        pl.lit(None, dtype=pl.String).alias("delivery_code"),
    )  # fmt: skip


def write_datashop(frame: pl.DataFrame, path: Path) -> Path:
    """Write canonical chain rows as one DataShop CSV (UTF-8, ``\\n``, ISO dates, created or overwritten)."""
    datashop_frame(frame).write_csv(path, date_format="%Y-%m-%d", float_precision=None, null_value="")
    return path


def write_underlyings(members: list[Member], last: UniverseSession, path: Path) -> Path:
    """``reference/underlyings.csv``: one row per underlying of the universe.

    Columns: ``underlying``, ``kind`` (index/etf/stock), ``exercise_style`` (european/american),
    ``settlement`` (``AM+PM`` for indices with AM monthlies, else ``PM``), ``dividend_yield`` (decimal per
    year; indices: the continuous yield of :data:`gex_market.market.DIVIDEND_YIELD`), ``dividend_per_share``
    (quarterly cash, dollars; empty for indices), ``ex_dates`` (``;``-separated ex-dividend dates within a year
    of the last session), ``contracts`` (in the last session's file).
    """
    from gex_market.market import DIVIDEND_YIELD
    from gex_market.universe import INDICES, ex_dates

    counts = dict(last.frame.group_by("underlying").len().iter_rows())
    day = last.session
    rows = [
        (sym, "index", "european", "AM+PM", DIVIDEND_YIELD, None, "", counts.get(sym, 0)) for sym, _ in INDICES
    ]
    for m in members:
        dates = ex_dates(m, day, day.replace(year=day.year + 1) if not (day.month == 2 and day.day == 29) else day.replace(year=day.year + 1, day=28))
        amount = round(last.spots[m.symbol] * m.dividend_yield / 4.0, 2) if m.dividend_yield > 0 else 0.0
        rows.append(
            (m.symbol, m.kind, m.exercise_style, "PM", round(m.dividend_yield, 6), amount, ";".join(d.isoformat() for d in dates), counts.get(m.symbol, 0))
        )  # fmt: skip
    schema = ["underlying", "kind", "exercise_style", "settlement", "dividend_yield", "dividend_per_share", "ex_dates", "contracts"]
    pl.DataFrame(rows, schema=schema, orient="row").write_csv(path)
    return path


def write_api_responses(us: UniverseSession, root: Path, source: str = "cboe") -> int:
    """Per underlying, the ``source`` API's responses for its chain under ``root/<source>/<date>/``; count written.

    File names are the response's URL path's last component (``_SPX.json``, ``AAPL.json``); the bodies are
    the exact bytes of :func:`gex_market.api_shapes.render_responses`.
    """
    from gex_market.api_shapes import render_responses

    folder = root / source / us.session.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for (sym,), rows in us.frame.group_by(["underlying"], maintain_order=True):
        snapshot = ChainSnapshot(
            frame=rows,
            underlying=str(sym),
            spot=us.spots[str(sym)],
            session=us.session,
            snapshot_ts=rows["snapshot_ts"][0],
            valuation_ts=rows["valuation_ts"][0],
            header_date=us.session,
            source=f"gex_market.universe session {us.session.isoformat()}",
            source_format="synthetic",
            underlying_name=str(sym),
        )
        for i, response in enumerate(render_responses(snapshot, source)):
            name = response.path.rsplit("/", 1)[-1] or f"{sym}_{i}"
            (folder / (name if i == 0 else f"{i}_{name}")).write_bytes(response.body)
            written += 1
    return written
