"""Synthetic, realistic option chains (SPX-like) and writers of vendor file formats."""

from gex_market.chain import generate_chain
from gex_market.cboe_writer import write_cboe_quote_table

__all__ = ["generate_chain", "write_cboe_quote_table"]
