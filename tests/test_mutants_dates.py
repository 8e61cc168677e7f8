"""Dates (core/dates.py): the edges mutation testing found unpinned — ordinals, the end of
the known years, equal calendars, Undated as a value, due dates of odd limits, periods."""

from __future__ import annotations

import datetime as dt
import pickle
from fractions import Fraction

import pytest

from lifecycle_rules import CalendarError
from lifecycle_rules.core.dates import (
    Undated,
    WorkCalendar,
    YearSchedule,
    add_months,
    iso_week_of,
    last_day_within,
    month_of,
    ordinal,
    package_years,
    parse_fraction,
    reached_on,
    week_label,
)

D = dt.date
PKG = package_years()
TO_2026 = WorkCalendar({y: s for y, s in PKG.items() if y <= 2026})


@pytest.mark.parametrize(("n", "said"), [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (9, "9th"), (10, "10th"), (11, "11th"), (12, "12th"),
    (13, "13th"), (20, "20th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"),
    (112, "112th"), (113, "113th"), (121, "121st"),
])
def test_ordinal(n: int, said: str) -> None:
    assert ordinal(n) == said


@pytest.mark.parametrize(("anchor", "months", "expected"), [
    (D(2000, 1, 31), 1, D(2000, 2, 29)),  # divisible by 400: leap
    (D(2100, 1, 31), 1, D(2100, 2, 28)),  # by 100 only: not
    (D(2024, 1, 29), 1, D(2024, 2, 29)),
    (D(2023, 1, 29), 1, D(2023, 2, 28)),
    (D(2024, 3, 28), 11, D(2025, 2, 28)),  # day 28 is never clamped
    (D(2024, 12, 31), 2, D(2025, 2, 28)),
    (D(2024, 5, 31), -1, D(2024, 4, 30)),
])
def test_add_months_clamps_to_the_month_end(anchor: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(anchor, months) == expected


def test_last_known_day_is_the_end_of_the_run_of_known_years() -> None:
    s = {y: PKG[y] for y in (2024, 2025)}
    cal = WorkCalendar({**s, 2027: YearSchedule(2027, frozenset(), frozenset(), "x", "test")})
    assert cal.last_known_day(D(2024, 5, 1)) == D(2025, 12, 31)
    assert cal.last_known_day(D(2025, 12, 31)) == D(2025, 12, 31)
    assert cal.last_known_day(D(2026, 1, 1)) is None
    assert cal.last_known_day(D(2027, 3, 1)) == D(2027, 12, 31)
    assert cal.known(2027) and not cal.known(2026)


def test_equal_calendars_are_the_same_days_whatever_their_origin() -> None:
    a = WorkCalendar({2024: PKG[2024]})
    relabelled = YearSchedule(2024, PKG[2024].holidays, PKG[2024].workdays, "another notice", "a file")
    b = WorkCalendar({2024: relabelled})
    other = WorkCalendar({2024: YearSchedule(2024, frozenset(), frozenset(), "x", "y")})
    assert a == b and hash(a) == hash(b)
    assert a != other
    assert a != {2024: PKG[2024]}
    assert pickle.loads(pickle.dumps(a)) == a


def test_an_unknown_year_says_how_to_give_it() -> None:
    with pytest.raises(CalendarError) as caught:
        TO_2026.is_workday(D(2027, 3, 1))
    assert str(caught.value) == ("2027-03-01: the working-day schedule of 2027 is not known (give it with a "
                                 "calendar file: see `lifecycle-rules calendar`)")


def test_undated_as_a_value() -> None:
    u = TO_2026.nth_workday_after(D(2026, 12, 30), 4)  # 12-31 is the 1st; the 2nd-4th fall in 2027
    assert isinstance(u, Undated)
    assert (D(u.year, u.month, u.day), u.after, u.nth, u.gap_year) == (D(2027, 1, 3), D(2026, 12, 30), 4, 2027)
    later = u + dt.timedelta(days=2)
    assert isinstance(later, Undated) and later == D(2027, 1, 5)
    assert (later.after, later.nth, later.gap_year) == (D(2026, 12, 30), 4, 2027)
    assert dt.timedelta(days=1) + u == D(2027, 1, 4)
    assert u - D(2027, 1, 1) == dt.timedelta(days=2)
    assert repr(u) == ("Undated(earliest=datetime.date(2027, 1, 3), the 4th working day after 2026-12-30, "
                       "gap in 2027)")
    with pytest.raises(CalendarError) as caught:
        str(u)
    assert str(caught.value) == ("the 4th working day after 2026-12-30 falls in 2027, whose working-day "
                                 "schedule is not known; it has no date to write")
    back = pickle.loads(pickle.dumps(u))
    assert (type(back), back.after, back.nth, back.gap_year) == (Undated, u.after, 4, 2027)


def test_the_nth_workday_counts_from_the_day_after() -> None:
    # 2024-09-27 (Fri): 09-29 (Sun) is a make-up workday; 10-01..07 the National Day holiday.
    assert TO_2026.nth_workday_after(D(2024, 9, 27), 1) == D(2024, 9, 29)
    assert TO_2026.nth_workday_after(D(2024, 9, 27), 2) == D(2024, 9, 30)
    assert TO_2026.nth_workday_after(D(2024, 9, 27), 3) == D(2024, 10, 8)
    assert TO_2026.workdays_between(D(2024, 9, 27), D(2024, 10, 8)) == 3
    assert TO_2026.workdays_between(D(2024, 9, 27), D(2024, 9, 27)) == 0


@pytest.mark.parametrize(("unit", "limit", "anchor", "due"), [
    ("days", Fraction(90), D(2024, 3, 2), D(2024, 5, 31)),
    ("days", Fraction(3, 2), D(2024, 3, 2), D(2024, 3, 3)),
    ("days", Fraction(0), D(2024, 3, 2), D(2024, 3, 2)),
    ("months", Fraction(1), D(2024, 1, 31), D(2024, 2, 29)),
    ("months", Fraction(0), D(2024, 1, 31), D(2024, 1, 31)),
    ("working_days", Fraction(5), D(2024, 9, 27), D(2024, 10, 10)),
    # No working day elapses until Monday: from a Friday, 0 working days last the weekend.
    ("working_days", Fraction(0), D(2024, 3, 1), D(2024, 3, 3)),
    ("working_days", Fraction(1, 2), D(2024, 3, 1), D(2024, 3, 3)),
])
def test_the_due_date_is_the_last_day_within_the_limit(unit: str, limit: Fraction, anchor: dt.date,
                                                       due: dt.date) -> None:
    assert last_day_within(unit, limit, TO_2026)(anchor) == due  # type: ignore[arg-type]
    assert reached_on(anchor, unit, limit, TO_2026) == due + dt.timedelta(days=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    ("1/6", Fraction(1, 6)), (" 1/6 ", Fraction(1, 6)), (0.1, Fraction(1, 10)), (3, Fraction(3)),
    (Fraction(2, 3), Fraction(2, 3)), ("2.5", Fraction(5, 2)),
])
def test_parse_fraction(value: object, expected: Fraction) -> None:
    assert parse_fraction(value) == expected


@pytest.mark.parametrize("value", [True, "1/0", "abc", None, [1]])
def test_parse_fraction_refuses(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_fraction(value)
    assert str(caught.value) == f"expected a number or a fraction like 1/6, got {value!r}"


@pytest.mark.parametrize(("period", "expected"), [("1900-01", (1900, 1)), ("2199-12", (2199, 12)),
                                                  ("2024-03", (2024, 3))])
def test_month_of(period: str, expected: tuple[int, int]) -> None:
    assert month_of(period) == expected


@pytest.mark.parametrize("period", ["1899-12", "2200-01", "2024-00", "2024-13", "2024-3", "2024-03-01"])
def test_month_of_refuses(period: str) -> None:
    with pytest.raises(ValueError) as caught:
        month_of(period)
    assert str(caught.value) == f"expected a month like 2024-03 (years 1900-2199), got {period!r}"


def test_iso_weeks() -> None:
    assert iso_week_of("2020-W53") == D(2020, 12, 28)
    assert iso_week_of("1900-W01") == D(1900, 1, 1)
    assert iso_week_of("2199-W01") == D(2198, 12, 31)
    assert week_label(D(2024, 12, 30)) == "2025-W01" and week_label(D(2024, 2, 5)) == "2024-W06"
    with pytest.raises(ValueError) as caught:
        iso_week_of("2024-W53")
    assert str(caught.value) == "no such ISO week: '2024-W53'"
    for bad in ("1899-W52", "2200-W01", "2024-W5"):
        with pytest.raises(ValueError) as caught:
            iso_week_of(bad)
        assert str(caught.value) == f"expected an ISO week like 2024-W23 (years 1900-2199), got {bad!r}"


def test_the_package_years_say_where_they_come_from() -> None:
    y = PKG[2024]
    assert y.origin.startswith("chinesecalendar ") and y.year == 2024
    assert y.source == "国务院办公厅关于部分节假日安排的通知 (as published in chinesecalendar)"
    assert D(2024, 10, 1) in y.holidays and D(2024, 9, 29) in y.workdays
    assert list(PKG) == list(range(min(PKG), max(PKG) + 1))


def test_counting_from_a_day_of_an_unknown_year_is_undated() -> None:
    u = TO_2026.nth_workday_after(D(2027, 1, 5), 3)
    assert isinstance(u, Undated)
    assert (D(u.year, u.month, u.day), u.after, u.nth, u.gap_year) == (D(2027, 1, 8), D(2027, 1, 5), 3, 2027)


def test_a_negative_threshold_says_so() -> None:
    with pytest.raises(ValueError) as caught:
        reached_on(D(2024, 3, 1), "days", Fraction(-1), TO_2026)
    assert str(caught.value) == "a threshold cannot be negative"


def test_parse_iso_date_says_what_it_expected() -> None:
    from lifecycle_rules.core.dates import parse_iso_date

    with pytest.raises(ValueError) as caught:
        parse_iso_date("2024/07/02")
    assert str(caught.value) == "expected an ISO date like 2024-07-02, got '2024/07/02'"


def test_a_whole_number_of_working_days_is_due_on_the_nth_working_day() -> None:
    # From Thursday 2024-02-29: due Friday 03-01 (not the weekend after); exceeded on Monday 03-04.
    assert last_day_within("working_days", Fraction(1), TO_2026)(D(2024, 2, 29)) == D(2024, 3, 1)
    assert reached_on(D(2024, 2, 29), "working_days", Fraction(1), TO_2026) == D(2024, 3, 4)
