"""`gex analyze` says when a chain is American and how much of its GEX the early-exercise screen flags."""

from __future__ import annotations

from gex.analysis import analyze
from gex_cli.render import print_analysis
from rich.console import Console

from tests.early_exercise_chain import RATE, stock_chain


def _printed(snapshot) -> str:
    console = Console(record=True, width=200, highlight=False)
    print_analysis(analyze(snapshot, rate=RATE), console)
    return console.export_text()


def test_an_american_chain_gets_the_early_exercise_line():
    text = _printed(stock_chain())
    line = next(ln for ln in text.splitlines() if ln.startswith("Early exercise"))
    assert "american options: 2 of 15 contracts flagged" in line
    assert "1 expiry without a parity forward" in line


def test_a_european_chain_prints_no_such_line():
    assert "Early exercise" not in _printed(stock_chain("SPX", "SPXW"))


def test_the_summary_for_json():
    from gex.early_exercise import screen_chain

    a = analyze(stock_chain(), rate=RATE)
    summary = screen_chain(a.contracts, a.forwards, a.spot).summary()
    assert {k: v for k, v in summary.items() if k != "gex_share"} == {
        "exercise_style": "american", "american_contracts": 15, "flagged_contracts": 2,
        "flagged_by_reason": {"call_before_ex_dividend": 1, "deep_itm_put": 1}, "expiries_without_carry": 1}
    assert 0.0 < summary["gex_share"] < 1.0
