"""Synthetic, realistic option chains (SPX-like), a seeded multi-session market, and vendor-format writers."""

from gex_market.chain import generate_chain
from gex_market.cboe_writer import write_cboe_quote_table
from gex_market.market import MarketSession, MarketSummary, generate_market, iter_market

__all__ = [
    "MarketSession",
    "MarketSummary",
    "generate_chain",
    "generate_market",
    "iter_market",
    "write_cboe_quote_table",
]
