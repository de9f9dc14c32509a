"""Named modelling conventions: every choice that changes a GEX number, as explicit, recorded parameters.

The default is :data:`NATIVE`: calendar time to each contract's settlement instant, vendor IV when
valid else solved from the mid, a forward per expiry from put-call parity, one Black-Scholes model for
the total, the profile and the flip, and an exact root-found flip. The compatibility presets reproduce
popular public scripts (see ``docs/conventions.md`` for the exact rules and the numbers they match).

Every analysis result carries ``Conventions.as_record()`` so that a number can always be traced back to
the assumptions that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np

DealerPositioning = Literal["classic", "all_short", "signed"]
TimeOrigin = Literal["valuation", "header_date", "utc_minus_delay"]
DayCount = Literal["act365", "bus262", "bus252"]
Tenor0 = Literal["exclude", "one_period"]
GammaSource = Literal["model", "vendor"]
FlipMethod = Literal["root", "grid_first_crossing"]


@dataclass(frozen=True)
class Conventions:
    """One complete set of modelling conventions.

    Attributes
    ----------
    name:
        Preset name recorded with results ("native", "perfiliev", ...).
    dealer_positioning:
        ``classic``: dealers long calls (+1) and short puts (-1), the convention of nearly every public
        tool; ``all_short``: dealers short every contract (-1); ``signed``: a user-supplied signed
        dealer position per contract (column ``dealer_position``, contracts, + long) replaces OI.
    time_origin:
        Where time to expiry is measured from. ``valuation``: the snapshot's valuation instant (the
        snapshot if intraday, else the session close). ``header_date``: the calendar date printed in
        the vendor header (popular scripts' "today"). ``utc_minus_delay``: the UTC timestamp converted
        to New York minus ``delay_minutes`` (gflows).
    day_count:
        ``act365``: calendar seconds to the settlement instant / (365 * 86400). ``bus262`` / ``bus252``:
        weekdays from the origin date (inclusive) to the expiration date (exclusive), numpy
        ``busday_count`` without holidays, divided by 262 or 252.
    zero_tenor:
        What happens to contracts whose tenor is 0 (or negative). ``exclude``: dropped and counted as
        expired; ``one_period``: a tenor of exactly 0 is replaced by one period (1/262 or 1/252).
    include_expired:
        Keep contracts whose expiration date is before the time origin (popular scripts do).
    drop_expired_first_expiry:
        gflows: drop the nearest expiry when it has already expired at the time origin.
    spot_gamma:
        Gamma used for the total at spot: ``model`` (Black-Scholes, the same model as the profile) or
        ``vendor`` (the file's rounded gamma column, as popular scripts do).
    rate:
        Flat continuously-compounded risk-free rate, decimal per year. For ``native`` this is the
        fallback used when no rate is supplied for the session.
    dividend_yield:
        Continuous dividend yield used where no parity forward is available (decimal per year).
    forward_from_parity:
        Derive a forward per expiry from put-call parity on near-the-money quotes (absorbs dividends
        and carry); falls back to spot with ``dividend_yield``.
    iv_min, iv_max:
        Vendor (and solved) IVs outside ``(iv_min, iv_max]`` are placeholders, treated as missing.
    solve_iv_from_mid:
        Solve IV from the bid/ask mid when the vendor IV is missing or a placeholder.
    profile_window:
        Hypothetical-spot window, as multiples of spot, searched for the flip.
    profile_levels:
        Number of evenly spaced levels of the grid profile (presets), or the number of points of the
        curve stored for charts (native).
    flip_method:
        ``root``: every crossing root-found to <= $0.01, flip = nearest to spot, NULL when none.
        ``grid_first_crossing``: linear interpolation at the first sign change of the grid profile.
    delay_minutes:
        Data delay subtracted from the UTC timestamp with ``time_origin="utc_minus_delay"``.
    expiry_cutoff:
        When an expiry counts as past for ``drop_expired_first_expiry``: ``settlement`` (the
        contract's settlement instant) or ``close_16`` (16:00 New York on expiration day, whatever the
        settlement style, as gflows does).
    truncate_json_strikes:
        gflows reads strikes of delayed-quotes JSON from the OSI symbol with a regex that keeps only
        the integer part (607.5 -> 607). Emulated for JSON sources only, to reproduce its numbers.
    rate_float32_percent:
        gflows takes r from the 10-year yield quoted in percent through a float32 feed
        (4.51 -> 4.510000228881836 -> r = 0.04510000228881836). When set, a supplied rate is passed
        through that rounding, so ``--rate 0.0451`` reproduces gflows bit for bit.
    """

    name: str = "native"
    dealer_positioning: DealerPositioning = "classic"
    time_origin: TimeOrigin = "valuation"
    day_count: DayCount = "act365"
    zero_tenor: Tenor0 = "exclude"
    include_expired: bool = False
    drop_expired_first_expiry: bool = False
    spot_gamma: GammaSource = "model"
    rate: float = 0.0
    dividend_yield: float = 0.0
    forward_from_parity: bool = True
    iv_min: float = 0.02
    iv_max: float = 3.0
    solve_iv_from_mid: bool = True
    profile_window: tuple[float, float] = (0.8, 1.2)
    profile_levels: int = 241
    flip_method: FlipMethod = "root"
    delay_minutes: int = 0
    expiry_cutoff: Literal["settlement", "close_16"] = "settlement"
    truncate_json_strikes: bool = False
    rate_float32_percent: bool = False

    def with_(self, **changes: object) -> Conventions:
        """A copy with some fields changed (e.g. ``NATIVE.with_(rate=0.045)``)."""
        return replace(self, **changes)

    def with_rate(self, rate: float) -> Conventions:
        """A copy with the flat rate set (decimal per year), through the preset's rate quirk if any.

        >>> GFLOWS.with_rate(0.0451).rate
        0.04510000228881836
        >>> NATIVE.with_rate(0.0451).rate
        0.0451
        """
        if self.rate_float32_percent:
            rate = float(np.float32(rate * 100.0)) / 100.0
        return replace(self, rate=float(rate))

    def as_record(self) -> dict[str, object]:
        """Plain dict recorded with every result."""
        rec = asdict(self)
        rec["profile_window"] = list(self.profile_window)
        return rec

    @property
    def periods_per_year(self) -> int:
        """Denominator of a business-day count (262 or 252); 365 for calendar time."""
        return {"act365": 365, "bus262": 262, "bus252": 252}[self.day_count]


NATIVE = Conventions()

#: Perfiliev's widely copied script, final version: vendor gamma at spot, BS profile with vendor IVs,
#: r = q = 0, T = weekdays(header date -> expiry) / 262 with 0 -> 1/262, 60 levels on 0.8-1.2 x spot.
PERFILIEV = Conventions(
    name="perfiliev",
    time_origin="header_date",
    day_count="bus262",
    zero_tenor="one_period",
    include_expired=True,
    spot_gamma="vendor",
    rate=0.0,
    forward_from_parity=False,
    iv_min=0.0,
    iv_max=float("inf"),
    solve_iv_from_mid=False,
    profile_window=(0.8, 1.2),
    profile_levels=60,
    flip_method="grid_first_crossing",
)

#: The early version of the same script: 0-day tenors are not replaced, so those contracts drop out.
PERFILIEV_EARLY = PERFILIEV.with_(name="perfiliev-early", zero_tenor="exclude")

#: gflows dashboard: T = weekdays / 252 with 0 -> 1/252, supplied r (10-year yield through a float32 feed),
#: q = 0, 300 levels on 0.5-1.5 x spot, as-of = UTC timestamp in New York minus a 15-minute delay, first
#: expiry dropped when already past 16:00 New York, JSON strikes truncated to their integer part.
GFLOWS = PERFILIEV.with_(
    name="gflows",
    time_origin="utc_minus_delay",
    day_count="bus252",
    drop_expired_first_expiry=True,
    profile_window=(0.5, 1.5),
    profile_levels=300,
    delay_minutes=15,
    expiry_cutoff="close_16",
    truncate_json_strikes=True,
    rate_float32_percent=True,
)

PRESETS: dict[str, Conventions] = {c.name: c for c in (NATIVE, PERFILIEV, PERFILIEV_EARLY, GFLOWS)}


def preset(name: str) -> Conventions:
    """The named preset; raises ``KeyError`` listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
