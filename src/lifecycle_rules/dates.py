"""Time rules of SPEC §5: calendar days, calendar months and PRC working days.

Elapsed time on day D is counted from an anchor: calendar days ``D - anchor``; working
days in ``(anchor, D]``; calendar months by month arithmetic, always from the anchor in
one step (2024-01-31 + 1 month = 2024-02-29, + 2 months = 2024-03-31). A level with
threshold T is reached on the first day whose elapsed time exceeds T.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Literal

import chinese_calendar

from .errors import CalendarError

Unit = Literal["days", "working_days", "months"]
UNITS: tuple[Unit, ...] = ("days", "working_days", "months")

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


class WorkCalendar:
    """Official PRC working days (法定节假日 and 调休 make-up workdays).

    Years the ``chinesecalendar`` package knows come from it; a pack can supply the
    schedule of a year the package does not know yet (``overrides``: year -> holidays
    and make-up workdays). Any other year is an error, never a guess.
    """

    def __init__(
        self,
        overrides: Mapping[int, tuple[Iterable[dt.date], Iterable[dt.date]]] | None = None,
    ) -> None:
        self._holidays: dict[int, frozenset[dt.date]] = {}
        self._workdays: dict[int, frozenset[dt.date]] = {}
        for year, (holidays, workdays) in (overrides or {}).items():
            self._holidays[year] = frozenset(holidays)
            self._workdays[year] = frozenset(workdays)
        self._cache: dict[dt.date, bool] = {}

    @property
    def override_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._holidays))

    def is_workday(self, day: dt.date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day.year in self._holidays:
            if day in self._workdays[day.year]:
                result = True
            elif day in self._holidays[day.year]:
                result = False
            else:
                result = day.weekday() < 5
        else:
            try:
                result = bool(chinese_calendar.is_workday(day))
            except NotImplementedError as exc:
                raise CalendarError(
                    f"{day.isoformat()}: the working-day schedule of {day.year} is not known "
                    "(chinesecalendar does not cover it and the pack gives no calendar for it)"
                ) from exc
        self._cache[day] = result
        return result

    def nth_workday_after(self, anchor: dt.date, n: int) -> dt.date:
        """The n-th working day in ``(anchor, ...)``; n >= 1."""
        day = anchor
        count = 0
        one = dt.timedelta(days=1)
        while count < n:
            day += one
            if self.is_workday(day):
                count += 1
        return day

    def workdays_between(self, anchor: dt.date, day: dt.date) -> int:
        """Working days in ``(anchor, day]``."""
        one = dt.timedelta(days=1)
        count = 0
        cur = anchor
        while cur < day:
            cur += one
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


ONE_DAY = dt.timedelta(days=1)


_ANCHORS_CACHED = 4096  # distinct anchor days kept per compiled clock (projects share days)


def crossing(unit: Unit, threshold: Fraction, cal: WorkCalendar) -> Callable[[dt.date], dt.date]:
    """``reached_on`` for one unit and threshold, compiled once: anchor -> the first day
    past the threshold (deadline bands keep these per pack). Pure, so its answers are
    cached by anchor day."""
    return lru_cache(maxsize=_ANCHORS_CACHED)(_crossing(unit, threshold, cal))


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
    return lru_cache(maxsize=_ANCHORS_CACHED)(_last_day_within(unit, limit, cal))


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
