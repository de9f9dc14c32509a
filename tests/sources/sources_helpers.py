"""Hand-made chain files for the reader tests (every number below is invented) and the shared-data path.

A plainly named module rather than ``conftest`` so that test modules can import it unambiguously.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: Real third-party chains live beside the repository, never inside it (see ../shared/data/chains/README.md).
SHARED_CHAINS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "chains"
SHARED_MISSING = f"real chain files not available ({SHARED_CHAINS.resolve()} is absent)"

TABLE_HEADER = (
    "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,"
    "Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
)
DAT_TABLE_HEADER = (
    "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Vol,IV,Delta,Gamma,Open Int,Strike,"
    "Puts,Last Sale,Net,Bid,Ask,Vol,IV,Delta,Gamma,Open Int"
)
CSV_PREAMBLE = (
    "",
    "S&P 500 INDEX,Last: 5900.50,Change:  10.25",
    '"Date: January 6, 2025 at 9:26 PM EST",Bid: 5890.00,Ask: 5910.00,Size: 1*1,Volume: 0',
)


def quote_line(
    expiry: str = "Mon Jan 06 2025",
    root: str = "SPXW",
    yymmdd: str = "250106",
    strike: float = 5900.0,
    *,
    strike_text: str | None = None,
    call: str | None = None,
    put: str | None = None,
) -> str:
    """One 22-field quote-table line with invented quotes; symbols built from root/date/strike unless given."""
    milli = f"{round(strike * 1000):08d}"
    call = call or f"{root}{yymmdd}C{milli}"
    put = put or f"{root}{yymmdd}P{milli}"
    k = strike_text if strike_text is not None else f"{strike:.2f}"
    call_quote = "12.5,1.0,12.0,13.0,100,0.15,0.51,0.004,1000"  # last,net,bid,ask,volume,iv,delta,gamma,oi
    put_quote = "11.5,-1,11.0,12.0,90,0.16,-0.49,0.004,900"
    return f"{expiry},{call},{call_quote},{k},{put},{put_quote}"


#: Four clean lines: two 0-DTE weeklies, and the AM (SPX) and PM (SPXW) roots of a monthly on one strike.
CLEAN_LINES = (
    quote_line("Mon Jan 06 2025", "SPXW", "250106", 5900),
    quote_line("Mon Jan 06 2025", "SPXW", "250106", 5905),
    quote_line("Fri Jan 17 2025", "SPX", "250117", 5900),
    quote_line("Fri Jan 17 2025", "SPXW", "250117", 5900),
)


def write_lines(path: Path, lines: Sequence[str], *, newline: str = "\n", bom: bool = False) -> Path:
    """Write ``lines`` (each terminated by ``newline``) as UTF-8, optionally with a byte-order mark."""
    data = "".join(line + newline for line in lines).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def json_record(symbol: object, **overrides: object) -> dict[str, object]:
    """One invented Cboe delayed-quotes option record."""
    record: dict[str, object] = {
        "option": symbol,
        "bid": 1.0,
        "bid_size": 5.0,
        "ask": 1.2,
        "ask_size": 7.0,
        "iv": 0.2,
        "open_interest": 10.0,
        "volume": 3.0,
        "delta": 0.5,
        "gamma": 0.01,
        "vega": 0.3,
        "theta": -0.1,
        "rho": 0.02,
        "theo": 1.1,
        "last_trade_price": 1.15,
        "last_trade_time": "2025-06-06T15:00:00",
    }
    record.update(overrides)
    return record
