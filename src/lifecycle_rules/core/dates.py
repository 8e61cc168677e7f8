"""Time rules of SPEC §5: calendar days, calendar months and PRC working days.

Elapsed time on day D is counted from an anchor: calendar days ``D - anchor``; working
days in ``(anchor, D]``; calendar months by month arithmetic, always from the anchor in
one step (2024-01-31 + 1 month = 2024-02-29, + 2 months = 2024-03-31). A level with
threshold T is reached on the first day whose elapsed time exceeds T.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import chinese_calendar

from lifecycle_rules.errors import CalendarError

Unit = Literal["days", "working_days", "months"]
UNITS: tuple[Unit, ...] = ("days", "working_days", "months")


@dataclass(frozen=True)
class Threshold:
    """An elapsed time in one unit, exact: a level is reached once it is exceeded."""

    unit: Unit
    value: Fraction

ONE_DAY = dt.timedelta(days=1)

_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def parse_iso_date(value: object) -> dt.date:
    """A strict ISO date (``2024-07-02``); anything else raises ValueError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        m = _ISO.match(value.strip())
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))  # raises on 2024-02-30
    raise ValueError(f"expected an ISO date like 2024-07-02, got {value!r}")


def add_months(anchor: dt.date, months: int) -> dt.date:
    """``anchor`` plus whole calendar months, the day clamped to the month's end.

    Plain stdlib arithmetic: this sits on the batch hot path. The tests check it
    against pendulum's ``add(months=n)`` as an oracle.
    """
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month0 = divmod(index, 12)
    day = anchor.day
    if day > 28:
        last = _MONTH_DAYS[month0]
        if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            last = 29
        day = min(day, last)
    return dt.date(year, month0 + 1, day)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class YearSchedule:
    """One year of the official schedule (国务院办公厅关于XXXX年部分节假日安排的通知).

    Inside the year a day is a working day if it is listed under ``workdays`` (调休上班),
    or else if it is a Monday-Friday not listed under ``holidays``."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str  # the notice this copies, in the file's own words
    origin: str  # where this copy comes from: a file, a package and its version, a pack

    def problems(self) -> list[tuple[str, dt.date, str]]:
        """What makes the year contradict itself: (key, day, message) triples, key
        ``holidays`` or ``workdays``; empty when it is sound. Rest days listed under
        ``holidays`` may fall on weekends (a notice's span of 放假调休 days includes them)."""
        out: list[tuple[str, dt.date, str]] = []
        for name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for d in sorted(days):
                if d.year != self.year:
                    out.append((name, d, f"{d.isoformat()} is not in {self.year}"))
        for d in sorted(self.holidays & self.workdays):
            out.append(("workdays", d, f"{d.isoformat()} is listed both as a holiday and as a workday"))
        for d in sorted(self.workdays):
            if d.weekday() < 5 and d not in self.holidays:
                out.append(("workdays", d, f"{d.isoformat()} is a {_WEEKDAYS[d.weekday()]}, a working "
                            "day anyway: workdays lists only the weekend days worked (调休上班)"))
        return out


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def package_years() -> dict[int, YearSchedule]:
    """The years ``chinesecalendar`` knows, as schedules (its data, read once)."""
    return dict(_package_years())


@lru_cache(maxsize=1)
def _package_years() -> tuple[tuple[int, YearSchedule], ...]:
    from chinese_calendar import constants

    version = getattr(chinese_calendar, "__version__", "")
    origin = f"chinesecalendar {version}".strip()
    holidays: dict[int, set[dt.date]] = {}
    workdays: dict[int, set[dt.date]] = {}
    for d in constants.holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in constants.workdays:
        workdays.setdefault(d.year, set()).add(d)
    years = range(min(holidays), max(holidays) + 1)
    return tuple(
        (y, YearSchedule(y, frozenset(holidays.get(y, ())), frozenset(workdays.get(y, ())),
                         "国务院办公厅关于部分节假日安排的通知 (as published in chinesecalendar)", origin))
        for y in years
    )


def layered(*layers: Mapping[int, YearSchedule]) -> dict[int, YearSchedule]:
    """Years from several sources, the first that gives a year giving all of it."""
    out: dict[int, YearSchedule] = {}
    for layer in layers:
        for year, sched in layer.items():
            out.setdefault(year, sched)
    return dict(sorted(out.items()))


class Undated(dt.date):
    """A day the working-day schedule cannot give yet: it falls in a year whose schedule
    is not known. Its value as a date is the **earliest** day it can be (a lower bound),
    so a comparison that says it comes after a known day is decided; anything else about
    it is not (``lifecycle_rules.core.gaps`` settles what a clock with one still decides).
    It refuses to be written as a date: an undated day never reaches an output."""

    __slots__ = ("after", "gap_year", "nth")

    after: dt.date  # the anchor the working days are counted from
    gap_year: int  # the first year whose schedule is missing
    nth: int  # the n-th working day after ``after``

    def __new__(cls, earliest: dt.date, after: dt.date, nth: int, gap_year: int) -> Undated:
        self = super().__new__(cls, earliest.year, earliest.month, earliest.day)
        self.after, self.nth, self.gap_year = after, nth, gap_year
        return self

    def __reduce__(self) -> Any:
        return (Undated, (dt.date(self.year, self.month, self.day), self.after, self.nth, self.gap_year))

    def _moved(self, delta: dt.timedelta) -> Undated:
        return Undated(dt.date(self.year, self.month, self.day) + delta, self.after, self.nth, self.gap_year)

    def __add__(self, other: Any) -> Any:
        return self._moved(other) if isinstance(other, dt.timedelta) else NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, dt.timedelta):
            return self._moved(-other)
        return dt.date(self.year, self.month, self.day) - other

    def describe(self) -> str:
        """``the 6th working day after 2026-12-24``."""
        return f"the {ordinal(self.nth)} working day after {self.after.isoformat()}"

    def isoformat(self) -> str:
        raise CalendarError(f"{self.describe()} falls in {self.gap_year}, whose working-day schedule "
                            "is not known; it has no date to write")

    __str__ = isoformat

    def __format__(self, spec: str) -> str:
        return self.isoformat()

    def __repr__(self) -> str:
        return f"Undated(earliest={dt.date(self.year, self.month, self.day)!r}, {self.describe()}, " \
               f"gap in {self.gap_year})"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st ..."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class WorkCalendar:
    """Official PRC working days (法定节假日 and 调休 make-up workdays), year by year.

    By default the years ``chinesecalendar`` knows; ``years`` gives them instead (built
    with ``layered``: a run's calendar files, installed calendar packages, the package,
    a pack's own years). A working day is never guessed: asking about a day of a year
    not given raises CalendarError, and counting working days into such a year gives an
    ``Undated`` day. Equal calendars (the same days in the same years) compare equal.
    """

    __slots__ = ("_key", "_years")

    def __init__(self, years: Mapping[int, YearSchedule] | None = None) -> None:
        self._years: dict[int, YearSchedule] = dict(sorted((package_years() if years is None
                                                             else years).items()))
        self._key = tuple((y, s.holidays, s.workdays) for y, s in self._years.items())

    @property
    def years(self) -> Mapping[int, YearSchedule]:
        return MappingProxyType(self._years)

    def over(self, *lower: Mapping[int, YearSchedule]) -> WorkCalendar:
        """This calendar, with years it does not give taken from ``lower`` layers."""
        return WorkCalendar(layered(self._years, *lower))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkCalendar) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __getstate__(self) -> dict[int, YearSchedule]:
        return self._years

    def __setstate__(self, state: dict[int, YearSchedule]) -> None:
        WorkCalendar.__init__(self, state)

    def known(self, year: int) -> bool:
        return year in self._years

    def last_known_day(self, after: dt.date) -> dt.date | None:
        """The last day of the run of known years from ``after``'s year on (None when that
        year itself is not known): where the schedule ends for a run on ``after``."""
        year = after.year
        if year not in self._years:
            return None
        while year + 1 in self._years:
            year += 1
        return dt.date(year, 12, 31)

    def is_workday(self, day: dt.date) -> bool:
        sched = self._years.get(day.year)
        if sched is None:
            raise CalendarError(f"{day.isoformat()}: the working-day schedule of {day.year} is not "
                                "known (give it with a calendar file: see `lifecycle-rules calendar`)")
        if day in sched.workdays:
            return True
        return day.weekday() < 5 and day not in sched.holidays

    def nth_workday_after(self, anchor: dt.date, n: int) -> dt.date:
        """The n-th working day in ``(anchor, ...)``; n >= 1. ``Undated`` when the count
        runs into a year whose schedule is not known."""
        day = anchor
        count = 0
        one = ONE_DAY
        years = self._years
        sched = years.get(day.year)
        while count < n:
            day += one
            if sched is None or day.year != sched.year:
                sched = years.get(day.year)
                if sched is None:
                    return Undated(day + dt.timedelta(days=n - count - 1), anchor, n, day.year)
            if day in sched.workdays or (day.weekday() < 5 and day not in sched.holidays):
                count += 1
        return day

    def workdays_between(self, anchor: dt.date, day: dt.date) -> int:
        """Working days in ``(anchor, day]``; CalendarError for a day of an unknown year."""
        count = 0
        cur = anchor
        while cur < day:
            cur += ONE_DAY
            if self.is_workday(cur):
                count += 1
        return count


def parse_fraction(value: object) -> Fraction:
    """``1/6``, ``0.5``, ``3`` -> an exact Fraction (no float rounding)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a fraction like 1/6, got {value!r}")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise ValueError(f"expected a number or a fraction like 1/6, got {value!r}")


def reached_on(anchor: dt.date, unit: Unit, threshold: Fraction, cal: WorkCalendar) -> dt.date:
    """The first day whose elapsed time since ``anchor`` exceeds ``threshold``.

    >>> import datetime as dt
    >>> str(reached_on(dt.date(2024, 3, 2), "days", Fraction(90), WorkCalendar()))
    '2024-06-01'
    """
    return _crossing(unit, threshold, cal)(anchor)



ANCHORS_CACHED = 4096  # distinct anchor days kept per compiled clock (projects share days)


def crossing(unit: Unit, threshold: Fraction, cal: WorkCalendar) -> Callable[[dt.date], dt.date]:
    """``reached_on`` for one unit and threshold, compiled once: anchor -> the first day
    past the threshold (deadline bands keep these per pack). Pure, so its answers are
    cached by anchor day."""
    return lru_cache(maxsize=ANCHORS_CACHED)(_crossing(unit, threshold, cal))


def _crossing(unit: Unit, threshold: Fraction, cal: WorkCalendar) -> Callable[[dt.date], dt.date]:
    if threshold < 0:
        raise ValueError("a threshold cannot be negative")
    whole = threshold.numerator // threshold.denominator
    if unit == "days":
        step = dt.timedelta(days=whole + 1)
        return lambda anchor: anchor + step
    if unit == "working_days":
        return lambda anchor: cal.nth_workday_after(anchor, whole + 1)
    frac = threshold - whole
    if frac == 0:
        return lambda anchor: add_months(anchor, whole) + ONE_DAY

    num, den = frac.numerator, frac.denominator

    def part_month(anchor: dt.date) -> dt.date:
        # elapsed on D = m + (D - A_m) / (A_{m+1} - A_m) with A_m = anchor + m months
        start = add_months(anchor, whole)
        span = (add_months(anchor, whole + 1) - start).days
        # the smallest k with k/span > num/den (integers: exact)
        k = num * span // den + 1
        return start + dt.timedelta(days=k)

    return part_month


def last_day_within(unit: Unit, limit: Fraction, cal: WorkCalendar) -> Callable[[dt.date], dt.date]:
    """anchor -> the last day within a limit (the due date); cached like ``crossing``."""
    return lru_cache(maxsize=ANCHORS_CACHED)(_last_day_within(unit, limit, cal))


def _last_day_within(unit: Unit, limit: Fraction, cal: WorkCalendar) -> Callable[[dt.date], dt.date]:
    if limit.denominator == 1 and limit > 0:
        n = limit.numerator
        if unit == "days":
            span = dt.timedelta(days=n)
            return lambda anchor: anchor + span
        if unit == "working_days":
            return lambda anchor: cal.nth_workday_after(anchor, n)
        return lambda anchor: add_months(anchor, n)
    past = _crossing(unit, limit, cal)
    return lambda anchor: past(anchor) - ONE_DAY


@lru_cache(maxsize=4096)
def month_of(period: str) -> tuple[int, int]:
    """``2024-03`` -> (2024, 3); raises ValueError otherwise."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", period)
    if not m or not 1 <= int(m[2]) <= 12 or not 1900 <= int(m[1]) <= 2199:
        raise ValueError(f"expected a month like 2024-03 (years 1900-2199), got {period!r}")
    return int(m[1]), int(m[2])


def iso_week_of(period: str) -> dt.date:
    """``2024-W23`` -> the Monday of that ISO week; raises ValueError otherwise."""
    m = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", period)
    if not m or not 1900 <= int(m[1]) <= 2199:
        raise ValueError(f"expected an ISO week like 2024-W23 (years 1900-2199), got {period!r}")
    try:
        return dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError as exc:
        raise ValueError(f"no such ISO week: {period!r}") from exc


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"
