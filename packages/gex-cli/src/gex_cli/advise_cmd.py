"""``gex advise`` (how far to let a position's delta drift before re-hedging) and ``gex simulate``
(compare hedging rules on simulated paths).

Exit codes follow :mod:`gex_cli.main`: 0 ok; 1 bad input data (unreadable position file, missing warehouse
row); 2 usage error (bad or conflicting options).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli import jsonout
from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail

POSITION_FORMAT = (
    "Position file: JSON (a list of legs, or {\"legs\": [...]}) or CSV with a header row. Each leg has "
    "strike ($), dte (calendar days to expiry; or days_to_expiry), right (call/put), contracts (signed: "
    "long > 0), optional multiplier (default 100) and iv (decimal, e.g. 0.2; default --iv). Example CSV: "
    "'strike,dte,right,contracts' then '100,30,call,4'."
)


class _Usage(ValueError):
    """A usage error (exit 2) rather than bad data (exit 1)."""


# ---------------------------------------------------------------------------------------------------
# Position input
# ---------------------------------------------------------------------------------------------------


def _leg_from_mapping(row: dict[str, Any], where: str):
    from gex.advisor import Leg

    def get(*names: str, default: Any = None, required: bool = True) -> Any:
        for n in names:
            if n in row and row[n] not in (None, ""):
                return row[n]
        if required and default is None:
            raise ValueError(f"{where}: missing {names[0]!r}")
        return default

    try:
        iv = get("iv", required=False)
        return Leg(
            strike=float(get("strike")),
            days_to_expiry=float(get("dte", "days_to_expiry")),
            right=str(get("right", "type", "option_type")),
            contracts=float(get("contracts", "quantity", "qty")),
            multiplier=float(get("multiplier", default=100.0, required=False)),
            iv=None if iv is None else float(iv),
        )
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None


def read_position(path: Path) -> tuple:
    """Legs from a JSON or CSV position file (see :data:`POSITION_FORMAT`); ValueError on bad content."""
    if not path.is_file():
        raise ValueError(f"no position file at {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file (the bytes are not UTF-8)") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise ValueError(f"{path}: not valid JSON (nested too deeply to be a position file)") from None
        except ValueError as exc:  # e.g. an integer literal beyond Python's 4300-digit conversion limit
            raise ValueError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})") from None
        if isinstance(data, dict):
            data = data.get("legs")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"{path}: expected a list of legs or an object with \"legs\"")
        rows = data
    else:
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(text.splitlines())]
    if not rows:
        raise ValueError(f"{path}: no legs")
    return tuple(_leg_from_mapping(r, f"{path} leg {i + 1}") for i, r in enumerate(rows))


# ---------------------------------------------------------------------------------------------------
# Warehouse (read-only)
# ---------------------------------------------------------------------------------------------------


def _relation(con, schema: str, name: str) -> bool:
    rows = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchall()
    return bool(rows)


def read_session_inputs(warehouse: Path | None, underlying: str, session: dt.date) -> tuple[dict, float | None, float | None]:
    """(regime row, ATM IV, realized vol) of a session from the published contract: the published snapshot
    beside the warehouse (readable while a job writes), else the warehouse itself, read-only and sandboxed.

    The regime row comes from ``main.regime_daily`` (falling back to ``mart.regime_daily``); ATM IV and
    realized vol from ``main.vol_context`` (``atm_iv_30d``, ``rv_21d``) when that view exists.
    """
    from gex_warehouse.published import open_published

    con = open_published(warehouse)
    try:
        source = "main.regime_daily" if _relation(con, "main", "regime_daily") else "mart.regime_daily"
        cur = con.execute(f"SELECT * FROM {source} WHERE underlying = ? AND session = ?", [underlying, session])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        if not rows:
            raise ValueError(f"no regime row for {underlying} {session} in {source}: run `gex compute --session {session}` first")
        regime_row = dict(zip(names, rows[0], strict=True))
        atm_iv = rv = None
        if _relation(con, "main", "vol_context"):
            got = con.execute(
                "SELECT atm_iv_30d, rv_21d FROM main.vol_context WHERE underlying = ? AND session = ?", [underlying, session]
            ).fetchall()
            if got:
                atm_iv, rv = (None if v is None or not math.isfinite(float(v)) else float(v) for v in got[0])
        return regime_row, atm_iv, rv
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------
# gex advise
# ---------------------------------------------------------------------------------------------------


def advise(
    position: Annotated[Path | None, typer.Argument(help=POSITION_FORMAT, show_default=False)] = None,
    template: Annotated[
        str | None,
        typer.Option("--template", "-t", help="Named position: long-atm-straddle-30d, long-otm-calls (4 calls 3% OTM, "
                     "30 days), long-atm-calls-4, short-atm-straddle-30d."),
    ] = None,
    spot: Annotated[float | None, typer.Option("--spot", help="Underlying price, $ (default: the session's spot).")] = None,
    strike: Annotated[float | None, typer.Option("--strike", help="Inline one-leg position: strike, $.")] = None,
    dte: Annotated[float | None, typer.Option("--dte", help="Inline leg: calendar days to expiry.")] = None,
    right: Annotated[str, typer.Option("--right", help="Inline leg: call or put.")] = "call",
    contracts: Annotated[float, typer.Option("--contracts", help="Inline leg: signed contracts (long > 0).")] = 1.0,
    iv: Annotated[float | None, typer.Option("--iv", help="Implied vol, decimal (0.2 = 20%); default: the session's ATM IV.")] = None,
    realized_vol: Annotated[
        float | None, typer.Option("--realized-vol", help="Expected realized vol, decimal (default: the session's 21-day realized vol, else the IV).")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Risk-free rate, continuous decimal per year (default: the session's rate with "
                                    "--underlying/--session, else 0)."),
    ] = None,
    cost_bps: Annotated[float, typer.Option("--cost-bps", help="One-way proportional cost, bp of traded notional.")] = 5.0,
    spread: Annotated[float, typer.Option("--spread", help="Half-spread + slippage paid per share, $.")] = 0.0,
    fee: Annotated[float, typer.Option("--fee", help="Fixed fee per order, $.")] = 0.0,
    min_order: Annotated[float, typer.Option("--min-order", help="Smallest order you send, shares.")] = 0.0,
    max_trades_per_day: Annotated[float | None, typer.Option("--max-trades-per-day", help="Cap on orders per day.")] = None,
    monitor_minutes: Annotated[float, typer.Option("--monitor-minutes", help="How often you check the position, minutes.")] = 1.0,
    risk_aversion: Annotated[
        float | None, typer.Option("--risk-aversion", help="CARA risk aversion, 1/$ (default 0.01).")
    ] = None,
    target_std: Annotated[
        float | None, typer.Option("--target-std", help="Instead of --risk-aversion: the hedging-error std you accept, $ per day.")
    ] = None,
    user_rule_dollar_delta: Annotated[
        float | None, typer.Option("--user-rule-dollar-delta", help="Assess your rule: re-hedge when |dollar delta| exceeds this, $.")
    ] = None,
    user_rule_clock: Annotated[
        float | None, typer.Option("--user-rule-clock", help="Assess your rule: re-hedge every N trading minutes.")
    ] = None,
    variance_ratio: Annotated[
        float | None,
        typer.Option("--variance-ratio", help="Measured variance ratio of the underlying's returns: variance of k-step "
                     "returns / (k x variance of one-step returns), one step = --monitor-minutes, k long next to the "
                     "autocorrelation's memory (e.g. daily vs one-minute returns). > 1 trending, < 1 mean-reverting; "
                     "replaces the session regime's sign-only factor; 1 = no adjustment."),
    ] = None,
    underlying: Annotated[str | None, typer.Option("--underlying", "-u", help="Read this underlying's session from the warehouse.")] = None,
    session: Annotated[str | None, typer.Option("--session", help="Session YYYY-MM-DD whose regime row (and ATM IV / realized vol) to use.")] = None,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Advise a delta-hedging band: hedge target, no-trade band (shares and $ delta), how to trade, the equivalent
    clock, expected daily P&L (gamma, theta, cost, hedging-error std), break-even vol, regime adjustment, warnings.

    Give the position as a FILE (JSON/CSV legs), --template NAME, or inline --strike/--dte/--right/--contracts.
    With --underlying and --session the session's dealer-gamma regime (and ATM IV, realized vol) are read from the
    warehouse read-only; without them no regime adjustment is applied. With --variance-ratio the band comes from
    the autocorrelated-returns model instead (docs/hedging-advisor.md, "Measured variance ratio").
    """
    from gex import advisor as adv

    given = [position is not None, template is not None, strike is not None or dte is not None]
    if sum(given) != 1:
        raise _fail("give exactly one position: a FILE, --template NAME, or inline --strike and --dte", EXIT_USAGE)
    if (strike is None) != (dte is None):
        raise _fail("an inline position needs both --strike and --dte", EXIT_USAGE)
    if (underlying is None) != (session is None):
        raise _fail("--underlying and --session go together (the session's regime row is per underlying)", EXIT_USAGE)
    if warehouse is not None and session is None:
        raise _fail("--warehouse needs --underlying and --session", EXIT_USAGE)
    if risk_aversion is not None and target_std is not None:
        raise _fail("give --risk-aversion or --target-std, not both", EXIT_USAGE)
    if user_rule_dollar_delta is not None and user_rule_clock is not None:
        raise _fail("give one of --user-rule-dollar-delta and --user-rule-clock", EXIT_USAGE)
    if rate is not None and not -0.05 <= rate <= 0.5:
        raise _fail(f"--rate {rate} looks wrong: give a decimal per year such as 0.045 for 4.5%", EXIT_USAGE)
    if template is not None and template not in adv.TEMPLATES:
        raise _fail(f"unknown template {template!r}; choose one of {', '.join(adv.TEMPLATES)}", EXIT_USAGE)

    regime_row = None
    if session is not None:
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None
        from gex_warehouse.connect import WarehouseError

        symbol = underlying.upper().lstrip("^")
        try:
            regime_row, wh_iv, wh_rv = read_session_inputs(warehouse, symbol, day)
        except (WarehouseError, ValueError) as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        spot = spot if spot is not None else regime_row.get("spot")
        iv = iv if iv is not None else wh_iv
        realized_vol = realized_vol if realized_vol is not None else wh_rv
        if rate is None and regime_row.get("rate") is not None:
            rate = float(regime_row["rate"])  # the rate the session was computed with, as the published advice
        if spot is None:
            raise _fail(f"the regime row of {symbol} {day} has no spot: give --spot", EXIT_BAD_INPUT)
    if spot is None:
        raise _fail("give --spot (or --underlying/--session to read it from the warehouse)", EXIT_USAGE)

    try:
        costs = adv.CostModel(cost_bps, spread, fee, min_order, max_trades_per_day, monitor_minutes)
        if position is not None:
            try:
                legs = read_position(position)
            except ValueError as exc:
                raise _BadData(str(exc)) from None
        elif strike is not None:
            legs = (adv.Leg(strike, dte, right, contracts),)
        else:
            legs = None
        result = adv.advise(
            legs, spot=float(spot), iv=iv, template=template, realized_vol=realized_vol, rate=rate or 0.0, costs=costs,
            risk_aversion=risk_aversion, target_std_usd_per_day=target_std, regime_row=regime_row,
            user_rule_dollar_delta=user_rule_dollar_delta, user_rule_clock_minutes=user_rule_clock,
            variance_ratio=variance_ratio,
        )
    except _BadData as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    if as_json:
        jsonout.echo(result.to_dict())
    else:
        _print_advice(result)


class _BadData(ValueError):
    """Unreadable or invalid position file (exit 1)."""


def _fmt(x: float | None, spec: str = ",.2f", unit: str = "") -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:{spec}}{unit}"


def _print_advice(a: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    g = a.greeks
    table = Table(title="gex advise", title_justify="left", show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_column("note")
    legs = "; ".join(f"{leg.contracts:+g} {leg.right} K={leg.strike:g} {leg.days_to_expiry:g}d" for leg in a.legs)
    table.add_row("position", a.template or "", legs)
    table.add_row("delta / gamma", f"{g.delta_shares:,.1f} sh", f"gamma {g.gamma_shares_per_usd:,.3f} sh/$")
    table.add_row("hedge target", f"{a.hedge_target_shares:,.1f} sh", "short the underlying when > 0 delta")
    table.add_row("band half-width", f"{a.band_shares:,.1f} sh", f"${a.band_dollar_delta_usd:,.0f} of delta")
    how = ("trade to the nearest edge of the band" if a.execution == "edge"
           else "reset to the target when outside the band")
    table.add_row("execution", a.execution, how + (f"; min order {a.min_order_shares:g} sh" if a.min_order_shares else ""))
    table.add_row("best clock instead", _fmt(a.clock_interval_minutes, ",.0f", " min"),
                  f"loses {a.clock_ce_loss_usd_per_day / a.ce_loss_usd_per_day:.2f}x the band" if a.ce_loss_usd_per_day > 0 else "")
    table.add_row("expected trades", _fmt(a.expected_trades_per_day, ",.1f", " /day"), "")
    table.add_row("gamma revenue", _fmt(a.pnl_gamma_usd_per_day, "+,.2f", " $/day"), f"at realized vol {a.realized_vol:.1%}"
                  + (" (assumed = IV)" if a.realized_vol_assumed else ""))
    table.add_row("theta (hedged carry)", _fmt(a.pnl_theta_usd_per_day, "+,.2f", " $/day"), "")
    table.add_row("hedging cost", _fmt(-a.pnl_cost_usd_per_day, "+,.2f", " $/day"), "")
    table.add_row("expected total", _fmt(a.pnl_total_usd_per_day, "+,.2f", " $/day"),
                  f"hedging-error std {a.hedging_error_std_usd_per_day:,.2f} $/day")
    table.add_row("break-even realized vol", _fmt(a.breakeven_vol, ".2%"), "")
    label = "variance-ratio factor" if a.regime_adjustment.model == "variance-ratio" else "regime factor"
    table.add_row(label, f"x{a.regime_adjustment.factor:.3f}", a.regime_adjustment.reason)
    table.add_row("risk aversion", f"{a.risk_aversion:.4g} /$", a.risk_aversion_source)
    if a.user_rule is not None:
        table.add_row("your rule", f"{a.user_rule.loss_ratio:.2f}x", a.user_rule.rule)
    console = Console(width=140)
    console.print(table)
    for w in a.warnings:
        console.print(f"warning: {w}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------------
# gex simulate
# ---------------------------------------------------------------------------------------------------

SCENARIOS = {"gbm": 0.0, "trending": 0.6, "mean-reverting": -0.3}  # the validation scenarios (docs/hedging-advisor.md)
DEFAULT_STRATEGIES = "advisor,ww,fee-band,clock:60,clock:130,band:20,notional:500"
STRATEGY_HELP = (
    "Comma-separated rules: advisor (this advisor's band, with the scenario's regime), ww (Whalley-Wilmott, edge), "
    "fee-band (reset band for fee + proportional cost), clock:MIN (re-hedge every MIN minutes), band:SH (fixed band, "
    "trade to edge), reset:SH (fixed band, reset), notional:USD (reset when |dollar delta| > USD)."
)


def _build_strategies(spec: str, advice: Any, steps_per_day: int, lam: float, fee: float, ra: float) -> list:
    from gex.hedging import Clock, FeeBand, FixedBand, NotionalThreshold, WhalleyWilmott

    out = []
    for raw in (s.strip() for s in spec.split(",")):
        if not raw:
            continue
        kind, _, arg = raw.partition(":")
        try:
            value = float(arg) if arg else None
        except ValueError:
            raise _Usage(f"strategy {raw!r}: {arg!r} is not a number") from None
        if kind == "advisor":
            out.append(advice.strategy("advisor"))
        elif kind == "ww":
            out.append(WhalleyWilmott(lam, ra, name="ww"))
        elif kind == "fee-band":
            out.append(FeeBand(fee, ra, lam, name="fee-band"))
        elif kind in ("clock", "band", "reset", "notional") and value is not None and value > 0:
            if kind == "clock":
                steps = max(1, round(value / (390.0 / steps_per_day)))
                out.append(Clock(steps, name=f"clock {steps * 390.0 / steps_per_day:g}m"))
            elif kind == "notional":
                out.append(NotionalThreshold(value, name=f"notional ${value:g}"))
            else:
                out.append(FixedBand(value, "edge" if kind == "band" else "reset", name=f"{kind} {value:g}"))
        else:
            raise _Usage(f"unknown or incomplete strategy {raw!r}. {STRATEGY_HELP}")
    if not out:
        raise _Usage("no strategies given")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise _Usage(f"strategies repeat: {', '.join(names)}")
    return out


def simulate(
    strategies: Annotated[str, typer.Option("--strategies", "-s", help=STRATEGY_HELP)] = DEFAULT_STRATEGIES,
    template: Annotated[str, typer.Option("--template", "-t", help="Position to hedge (see `gex advise --help`).")] = "long-atm-calls-4",
    scenario: Annotated[
        str, typer.Option("--scenario", help="gbm, trending (AR(1) step returns, phi = +0.6) or mean-reverting (phi = -0.3).")
    ] = "gbm",
    phi: Annotated[float | None, typer.Option("--phi", help="Override the scenario's step autocorrelation of returns.")] = None,
    paths: Annotated[int, typer.Option("--paths", help="Number of simulated paths.")] = 500,
    days: Annotated[int, typer.Option("--days", help="Simulated days (the position's expiry is the template's 30 days).")] = 30,
    steps_per_day: Annotated[int, typer.Option("--steps-per-day", help="Steps per day (390 = one-minute steps).")] = 78,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (common random numbers for every rule).")] = 1,
    spot: Annotated[float, typer.Option("--spot", help="Initial spot, $.")] = 100.0,
    sigma: Annotated[float, typer.Option("--sigma", help="Volatility of the paths (realized), decimal.")] = 0.2,
    iv: Annotated[float | None, typer.Option("--iv", help="Hedging (implied) vol, decimal (default --sigma).")] = None,
    cost_bps: Annotated[float, typer.Option("--cost-bps", help="One-way proportional cost, bp.")] = 5.0,
    fee: Annotated[float, typer.Option("--fee", help="Fixed fee per order, $.")] = 0.0,
    min_order: Annotated[float, typer.Option("--min-order", help="Smallest order, shares.")] = 0.0,
    max_trades_per_day: Annotated[int | None, typer.Option("--max-trades-per-day", help="Cap on orders per day.")] = None,
    risk_aversion: Annotated[float, typer.Option("--risk-aversion", help="CARA risk aversion, 1/$ (rules and CE).")] = 0.01,
    regime: Annotated[
        str, typer.Option("--regime", help="Regime the advisor is told: auto (from the scenario), none, positive, negative.")
    ] = "auto",
    tell_variance_ratio: Annotated[
        bool, typer.Option("--tell-variance-ratio", help="Tell the advisor the scenario's true long-horizon variance ratio "
                           "(1+phi)/(1-phi) of the step returns (the measured-VR model replaces the regime's sign-only factor).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON records.")] = False,
) -> None:
    """Compare hedging rules on simulated paths (common random numbers): P&L mean, std, certainty equivalent
    (exponential utility), CVaR 95%, trades and cost per path. All money in $ per position."""
    from gex import advisor as adv
    from gex.hedging import Costs, OptionLeg, Position, gbm_paths, regime_paths, simulate as run

    if scenario not in SCENARIOS:
        raise _fail(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}", EXIT_USAGE)
    if regime not in ("auto", "none", "positive", "negative"):
        raise _fail(f"--regime {regime!r}: choose auto, none, positive or negative", EXIT_USAGE)
    if template not in adv.TEMPLATES:
        raise _fail(f"unknown template {template!r}; choose one of {', '.join(adv.TEMPLATES)}", EXIT_USAGE)
    for name, value, lo in (("--paths", paths, 2), ("--days", days, 1), ("--steps-per-day", steps_per_day, 1)):
        if value < lo:
            raise _fail(f"{name} must be >= {lo}", EXIT_USAGE)
    if paths * days * steps_per_day > 50_000_000:
        raise _fail("--paths x --days x --steps-per-day above 5e7 would need too much memory; reduce one", EXIT_USAGE)
    rho = SCENARIOS[scenario] if phi is None else phi
    if not -1 < rho < 1:
        raise _fail(f"--phi {rho} must be in (-1, 1)", EXIT_USAGE)
    hedge_vol = sigma if iv is None else iv
    told = {"auto": {0.0: None}.get(rho, "negative" if rho > 0 else "positive"), "none": None}.get(regime, regime)
    true_vr = (1 + rho) / (1 - rho) if tell_variance_ratio else None  # long-horizon VR of AR(1) returns
    try:
        costs = adv.CostModel(cost_bps, 0.0, fee, min_order, max_trades_per_day, 390.0 / steps_per_day)
        advice = adv.advise(template=template, spot=spot, iv=hedge_vol, realized_vol=sigma, costs=costs,
                            risk_aversion=risk_aversion, regime_row=None if told is None else {"regime": told},
                            variance_ratio=true_vr)
        rules = _build_strategies(strategies, advice, steps_per_day, cost_bps * 1e-4, fee, risk_aversion)
        if rho == 0:
            p = gbm_paths(paths, days, steps_per_day=steps_per_day, sigma=sigma, spot0=spot, seed=seed)
        else:
            p = regime_paths(paths, days, phi=rho, steps_per_day=steps_per_day, sigma=sigma, spot0=spot, seed=seed)
        position = Position([OptionLeg(leg.strike, leg.tau_years, leg.right, leg.contracts, leg.multiplier) for leg in advice.legs])
        sim_costs = Costs(proportional_bps=cost_bps, fee_per_order=fee, min_order_shares=min_order,
                          max_trades_per_day=max_trades_per_day)
        result = run(p, position, rules, sim_costs, hedge_vol=hedge_vol, risk_aversion=risk_aversion)
    except _Usage as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    table = result.summary().select("strategy", "mean", "std", "ce_exp", "cvar", "trades", "cost_paid")
    header = (f"{paths} paths x {days} days x {steps_per_day} steps/day, scenario {scenario} (phi {rho:+g}), seed {seed}; "
              f"{template} at spot {spot:g}, sigma {sigma:g}, hedge vol {hedge_vol:g}; {cost_bps:g} bp + ${fee:g}/order; "
              f"risk aversion {risk_aversion:g}/$; advisor: {advice.execution} band {advice.band_shares:.1f} sh "
              + (f"(variance ratio {true_vr:.3g} told: factor x{advice.regime_adjustment.factor:.3f})" if true_vr is not None
                 else f"(regime factor x{advice.regime_adjustment.factor:.3f})"))
    if as_json:
        jsonout.echo({"setup": header, "metrics": table.to_dicts()})
        return
    from rich.console import Console
    from rich.table import Table

    out = Table(title="gex simulate", title_justify="left", caption=header, caption_justify="left")
    for name in ("strategy", "mean $", "std $", "CE $", "CVaR95 $", "trades", "cost $"):
        out.add_column(name, justify="left" if name == "strategy" else "right")
    for r in table.iter_rows():
        out.add_row(r[0], *(f"{v:,.1f}" for v in r[1:]))
    Console(width=140).print(out)
