"""Header timestamps of vendor chain files: every form seen in the wild, and nothing guessed.

Cboe's quote-table header carries the snapshot time as text formatted by the downloader's browser locale,
so the form drifts from file to file::

    February 5 2022, 8:09 PM EST        June 11, 2022, 8:47 PM EDT      December 12, 2022 at 8:30 PM EST
    9 June 2023, 10:18 PM EDT           24 September 2023,1:46 PM EDT   12 de enero de 2026, 13:29 GMT-5
    Jun 22 2020 @ 20:42 ET              (legacy .dat)

The parser is a table of forms, one anchored regular expression each (:data:`FORMS`); a text must match one
form *entirely* and then name a real calendar date and clock time, otherwise :class:`HeaderDateError` is
raised. A corrupted text such as ``4 June 4, 3:15 PM EDT`` (no year) matches no form and is rejected rather
than completed by guesswork.

Time zones: ``ET``/``EST``/``EDT`` mean New York wall-clock time (``America/New_York``, daylight saving
applied from the date, so a mislabelled ``EST`` in July is still read as New York time and flagged in
:attr:`HeaderTimestamp.note`); ``CT``/``CST``/``CDT`` Chicago; ``GMT``/``UTC``/``Z`` UTC; ``GMT-5``,
``UTC+01:00`` fixed offsets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gex.calendar import NEW_YORK

CHICAGO = ZoneInfo("America/Chicago")

#: Plausible years for a snapshot; anything else is a corrupted header.
YEAR_RANGE = (1990, 2100)

ENGLISH_MONTHS: dict[str, int] = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

SPANISH_MONTHS: dict[str, int] = {
    name: i
    for i, names in enumerate(
        (
            ("enero", "ene"),
            ("febrero", "feb"),
            ("marzo", "mar"),
            ("abril", "abr"),
            ("mayo", "may"),
            ("junio", "jun"),
            ("julio", "jul"),
            ("agosto", "ago"),
            ("septiembre", "setiembre", "sep", "sept", "set"),
            ("octubre", "oct"),
            ("noviembre", "nov"),
            ("diciembre", "dic"),
        ),
        start=1,
    )
    for name in names
}

#: Zone label -> (zone, whether the label claims daylight saving time; None when it does not say).
NAMED_ZONES: dict[str, tuple[dt.tzinfo, bool | None]] = {
    "ET": (NEW_YORK, None),
    "EST": (NEW_YORK, False),
    "EDT": (NEW_YORK, True),
    "CT": (CHICAGO, None),
    "CST": (CHICAGO, False),
    "CDT": (CHICAGO, True),
    "GMT": (dt.timezone.utc, None),
    "UTC": (dt.timezone.utc, None),
    "Z": (dt.timezone.utc, None),
}

_OFFSET = re.compile(r"(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.I)

# Shared pieces of the forms. Separators between date and time: ", " | "," | " at " | " " | " @ ".
_SEP = r"(?:\s*,\s*|\s+at\s+|\s+)"
_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_AMPM = r"(?:\s*(?P<ampm>[ap])\.?\s?m\.?)?"  # "PM", "pm", "p. m." (Spanish locales)
_TZ = r"\s*(?P<tz>[a-z]{1,4}(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?)"


@dataclass(frozen=True)
class DateForm:
    """One header date form: a name, an example, an anchored pattern and its month-name table."""

    name: str
    example: str
    pattern: re.Pattern[str]
    months: dict[str, int]


def _form(name: str, example: str, regex: str, months: dict[str, int]) -> DateForm:
    return DateForm(name, example, re.compile(regex, re.I), months)


#: Known forms, tried in order; the first that matches the whole text decides.
FORMS: tuple[DateForm, ...] = (
    _form(
        "month-day-year",  # US browser locale, with or without the comma after the day, "," or " at "
        "December 12, 2022 at 8:30 PM EST",
        rf"(?P<month>[a-z]{{3,9}})\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}}){_SEP}{_TIME}{_AMPM}{_TZ}",
        ENGLISH_MONTHS,
    ),
    _form(
        "day-month-year",  # UK/EU English locale
        "9 June 2023, 10:18 PM EDT",
        rf"(?P<day>\d{{1,2}})\s+(?P<month>[a-z]{{3,9}})\.?,?\s+(?P<year>\d{{4}}){_SEP}{_TIME}{_AMPM}{_TZ}",
        ENGLISH_MONTHS,
    ),
    _form(
        "spanish",  # "12 de enero de 2026, 13:29 GMT-5"
        "12 de enero de 2026, 13:29 GMT-5",
        rf"(?P<day>\d{{1,2}})\s+de\s+(?P<month>[a-z]{{3,10}})\.?\s+de\s+(?P<year>\d{{4}})"
        rf"(?:\s*,\s*|\s+a\s+las\s+|\s+){_TIME}{_AMPM}{_TZ}",
        SPANISH_MONTHS,
    ),
    _form(
        "legacy-dat",  # quotedata.dat: "Jun 22 2020 @ 20:42 ET", 24-hour clock
        "Jun 22 2020 @ 20:42 ET",
        rf"(?P<month>[a-z]{{3}})\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})\s*@\s*{_TIME}{_TZ}",
        ENGLISH_MONTHS,
    ),
)


class HeaderDateError(ValueError):
    """A header timestamp matches no known form or names an impossible date or time."""


@dataclass(frozen=True)
class HeaderTimestamp:
    """A parsed header timestamp.

    Attributes
    ----------
    instant:
        Timezone-aware instant, in the zone the header names (convert with ``.astimezone(UTC)``).
    local_date:
        Calendar date as written in the header (what popular scripts take as "today").
    form:
        Name of the :data:`FORMS` entry that matched.
    zone:
        Zone label as written ("EST", "GMT-5", ...).
    note:
        Non-fatal remark, e.g. a standard-time label on a daylight-saving date; ``None`` when clean.
    """

    instant: dt.datetime
    local_date: dt.date
    form: str
    zone: str
    note: str | None = None


def _clean(text: str) -> str:
    """Strip quotes, a ``Date:`` prefix and odd spaces (browsers put U+202F before AM/PM)."""
    t = text.replace("\u00a0", " ").replace("\u202f", " ").strip().strip('"').strip()
    t = re.sub(r"^date\s*:\s*", "", t, flags=re.I)
    return re.sub(r"\s+", " ", t)


def _zone(label: str) -> tuple[dt.tzinfo, bool | None]:
    key = label.upper().replace(" ", "")
    if key in NAMED_ZONES:
        return NAMED_ZONES[key]
    m = _OFFSET.fullmatch(key)
    if m is None:
        raise HeaderDateError(f"unknown time zone {label!r}")
    hours, minutes = int(m["h"]), int(m["m"] or 0)
    if hours > 14 or minutes > 59:
        raise HeaderDateError(f"impossible UTC offset {label!r}")
    sign = -1 if m["sign"] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)), None


def _build(form: DateForm, m: re.Match[str]) -> HeaderTimestamp:
    month = form.months.get(m["month"].lower())
    if month is None:
        raise HeaderDateError(f"unknown month name {m['month']!r}")
    year, day = int(m["year"]), int(m["day"])
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise HeaderDateError(f"implausible year {year}")
    try:
        date = dt.date(year, month, day)
    except ValueError as exc:
        raise HeaderDateError(f"impossible date {year}-{month:02d}-{day:02d}: {exc}") from None
    hour, minute, second = int(m["hour"]), int(m["minute"]), int(m["second"] or 0)
    ampm = m.groupdict().get("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise HeaderDateError(f"impossible 12-hour clock time {hour}:{minute:02d} {ampm.upper()}M")
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise HeaderDateError(f"impossible time {hour}:{minute:02d}:{second:02d}")
    label = m["tz"].upper()
    zone, claims_dst = _zone(label)
    # fold=1 picks the standard-time reading of the repeated hour when the label says standard time.
    local = dt.datetime.combine(date, dt.time(hour, minute, second, fold=int(claims_dst is False)), zone)
    note = None
    if claims_dst is not None and bool(local.dst()) != claims_dst:
        note = (
            f"header says {label} but {local.tzname()} was in force on {date}; "
            f"read as {getattr(zone, 'key', zone)} wall-clock time"
        )
    return HeaderTimestamp(instant=local, local_date=date, form=form.name, zone=label, note=note)


def parse_header_timestamp(text: str) -> HeaderTimestamp:
    """Parse a vendor header timestamp written in any known form.

    Parameters
    ----------
    text:
        The timestamp text, optionally quoted and prefixed with ``Date:``.

    Returns
    -------
    HeaderTimestamp
        The instant (timezone-aware) and the calendar date as written.

    Raises
    ------
    HeaderDateError
        When no form matches the whole text, or the date, time or zone is impossible.

    Examples
    --------
    >>> ts = parse_header_timestamp("Date: February 5 2022, 8:09 PM EST")
    >>> ts.instant.isoformat(), ts.local_date.isoformat(), ts.form
    ('2022-02-05T20:09:00-05:00', '2022-02-05', 'month-day-year')
    >>> parse_header_timestamp("12 de enero de 2026, 13:29 GMT-5").instant.isoformat()
    '2026-01-12T13:29:00-05:00'
    >>> parse_header_timestamp("4 June 4, 3:15 PM EDT")
    Traceback (most recent call last):
    ...
    gex_sources.header.HeaderDateError: no known date form matches '4 June 4, 3:15 PM EDT'
    """
    cleaned = _clean(text)
    first_error: HeaderDateError | None = None
    for form in FORMS:
        m = form.pattern.fullmatch(cleaned)
        if m is None:
            continue
        try:
            return _build(form, m)
        except HeaderDateError as exc:  # another form may still read it (e.g. a Spanish month name)
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise HeaderDateError(f"no known date form matches {cleaned!r}")
