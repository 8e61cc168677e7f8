"""The time rules of SPEC §5, with exact dates: calendar days, calendar months and PRC
working days (调休 included), thresholds as exact Fractions, unknown years as errors."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from fractions import Fraction

import chinese_calendar
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle_rules import CalendarError, LifecycleRulesError
from lifecycle_rules.core.dates import (
    Undated,
    WorkCalendar,
    YearSchedule,
    add_months,
    layered,
    package_years,
    parse_iso_date,
    reached_on,
)

D = dt.date
ONE = dt.timedelta(days=1)
CAL = WorkCalendar()

_EXAMPLES = int(os.environ.get("LR_PROPERTY_EXAMPLES", "200"))
PROPERTY = settings(deadline=None, max_examples=_EXAMPLES, derandomize=bool(os.environ.get("CI")))


def orange_threshold(limit: Fraction) -> Fraction:
    """建德 三(三): orange 1/6 of the limit before red."""
    return limit - limit * Fraction(1, 6)


# -- calendar days ---------------------------------------------------------------------------


def test_days_90_day_limit_is_red_on_day_91() -> None:
    anchor = D(2024, 3, 2)
    assert reached_on(anchor, "days", Fraction(90), CAL) == anchor + dt.timedelta(days=91)
    assert reached_on(anchor, "days", Fraction(90), CAL) == D(2024, 6, 1)
    # Day 90 itself is still within the limit: elapsed 90 does not exceed 90.
    assert reached_on(anchor, "days", Fraction(90), CAL) != anchor + dt.timedelta(days=90)


def test_days_zero_threshold_is_the_day_after_the_anchor() -> None:
    # 漯河 未按计划时间开工: limit 0 days -> red the day after the planned date.
    assert reached_on(D(2024, 6, 30), "days", Fraction(0), CAL) == D(2024, 7, 1)


def test_days_orange_of_90_is_day_76() -> None:
    threshold = orange_threshold(Fraction(90))
    assert threshold == 75
    anchor = D(2024, 3, 2)
    assert reached_on(anchor, "days", threshold, CAL) == anchor + dt.timedelta(days=76)
    assert reached_on(anchor, "days", threshold, CAL) == D(2024, 5, 17)


def test_days_orange_of_100_is_day_84() -> None:
    threshold = orange_threshold(Fraction(100))
    assert threshold == Fraction(250, 3)  # 83⅓, exact
    anchor = D(2024, 3, 2)
    # Day 83: elapsed 83 <= 83⅓; day 84: elapsed 84 > 83⅓.
    assert reached_on(anchor, "days", threshold, CAL) == anchor + dt.timedelta(days=84)
    assert reached_on(anchor, "days", threshold, CAL) == D(2024, 5, 25)


def test_days_orange_of_180_is_day_151() -> None:
    # 建德 签约未落地 default: red 180 days, orange threshold 150 -> day 151.
    anchor = D(2023, 1, 1)
    assert reached_on(anchor, "days", orange_threshold(Fraction(180)), CAL) == D(2023, 6, 1)
    assert reached_on(anchor, "days", Fraction(180), CAL) == D(2023, 7, 1)


def test_negative_threshold_is_rejected() -> None:
    with pytest.raises(ValueError):
        reached_on(D(2024, 3, 2), "days", Fraction(-1), CAL)


# -- calendar months -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year: clamped to the 29th
        (D(2024, 1, 31), 2, D(2024, 3, 31)),  # from the anchor in one step: the 31st again
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),
        (D(2025, 1, 15), -1, D(2024, 12, 15)),
        (D(2024, 8, 31), 1, D(2024, 9, 30)),
        (D(2024, 5, 15), 0, D(2024, 5, 15)),
    ],
)
def test_add_months(anchor: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(anchor, months) == expected


def test_add_months_is_not_chained() -> None:
    # Chaining would lose the 31st: 01-31 -> 02-29 -> 03-29.
    assert add_months(add_months(D(2024, 1, 31), 1), 1) == D(2024, 3, 29)
    assert add_months(D(2024, 1, 31), 2) == D(2024, 3, 31)


@PROPERTY
@given(day=st.dates(D(1901, 1, 1), D(2099, 12, 31)), months=st.integers(-60, 60))
def test_add_months_agrees_with_pendulum(day: dt.date, months: int) -> None:
    expected = pendulum.date(day.year, day.month, day.day).add(months=months)
    got = add_months(day, months)
    assert got == D(expected.year, expected.month, expected.day)
    assert type(got) is dt.date


@pytest.mark.parametrize(
    ("months", "expected"),
    [(2, D(2024, 5, 16)), (3, D(2024, 6, 16)), (1, D(2024, 4, 16))],
)
def test_months_without_progress(months: int, expected: dt.date) -> None:
    # SPEC §5: last progress on 03-15 and N = 2 -> reached on 05-16 (N = 3 -> 06-16).
    assert reached_on(D(2024, 3, 15), "months", Fraction(months), CAL) == expected


def test_months_from_a_month_end() -> None:
    # A_1 = 2024-02-29 (clamped); elapsed on 02-29 is exactly 1, so 1 month is exceeded on 03-01.
    assert reached_on(D(2024, 1, 31), "months", Fraction(1), CAL) == D(2024, 3, 1)
    # A_2 = 2024-03-31 (from the anchor, not from 02-29): exceeded on 04-01, not on 03-30.
    assert reached_on(D(2024, 1, 31), "months", Fraction(2), CAL) == D(2024, 4, 1)


@pytest.mark.parametrize(
    ("anchor", "threshold", "expected"),
    [
        # Anchor 2024-01-31, T = 5/2: m = 2, A_2 = 2024-03-31, A_3 = 2024-04-30, so the
        # month is 30 days long. elapsed(D) = 2 + (D - 03-31)/30 > 5/2 <=> D - 03-31 > 15,
        # first on D - 03-31 = 16: 2024-04-16 (04-15 gives exactly 5/2, not more).
        (D(2024, 1, 31), Fraction(5, 2), D(2024, 4, 16)),
        # Anchor 2024-03-15, T = 5/2: A_2 = 2024-05-15, A_3 = 2024-06-15, 31 days.
        # (D - 05-15)/31 > 1/2 <=> D - 05-15 > 15.5, first at 16: 2024-05-31.
        (D(2024, 3, 15), Fraction(5, 2), D(2024, 5, 31)),
        # Anchor 2024-02-29, T = 1/3: A_0 = 02-29, A_1 = 03-29, 29 days.
        # k/29 > 1/3 <=> k > 9.67, first k = 10: 2024-03-10.
        (D(2024, 2, 29), Fraction(1, 3), D(2024, 3, 10)),
        # 建德 start-to-completion under 18 months: orange at 15 months exactly (18 - 3).
        (D(2024, 1, 31), orange_threshold(Fraction(18)), D(2025, 5, 1)),
        # 建德 completion-to-production 6 months: orange threshold 5 -> A_5 = 2024-06-30 +1.
        (D(2024, 1, 31), orange_threshold(Fraction(6)), D(2024, 7, 1)),
        # 10 months (1/6 of 12 before 12): A_10 = 2024-12-29, exceeded on 2024-12-30.
        (D(2024, 2, 29), orange_threshold(Fraction(12)), D(2024, 12, 30)),
    ],
)
def test_fractional_months(anchor: dt.date, threshold: Fraction, expected: dt.date) -> None:
    assert reached_on(anchor, "months", threshold, CAL) == expected


def test_fractional_month_boundary_is_strict() -> None:
    # Anchor 2024-01-31, T = 5/2 and a 30-day month: on 04-15 elapsed is exactly 2 + 15/30 = 5/2,
    # which does not exceed T; a threshold a hair below 5/2 is exceeded on 04-15 already.
    assert reached_on(D(2024, 1, 31), "months", Fraction(5, 2) - Fraction(1, 10**9), CAL) == D(
        2024, 4, 15
    )


# An independent reading of "elapsed on day D" (SPEC §5 and dates.py's docstring), with
# pendulum for month arithmetic and chinese_calendar for working days.


def _months_after(anchor: dt.date, m: int) -> dt.date:
    p = pendulum.date(anchor.year, anchor.month, anchor.day).add(months=m)
    return D(p.year, p.month, p.day)


def elapsed(anchor: dt.date, day: dt.date, unit: str) -> Fraction:
    if unit == "days":
        return Fraction((day - anchor).days)
    if unit == "working_days":
        n, cur = 0, anchor
        while cur < day:
            cur += ONE
            n += bool(chinese_calendar.is_workday(cur))
        return Fraction(n)
    m = 0
    while _months_after(anchor, m + 1) <= day:
        m += 1
    a_m, a_next = _months_after(anchor, m), _months_after(anchor, m + 1)
    return m + Fraction((day - a_m).days, (a_next - a_m).days)


@PROPERTY
@given(
    anchor=st.dates(D(2023, 1, 1), D(2025, 6, 30)),
    unit=st.sampled_from(["days", "working_days", "months"]),
    numerator=st.integers(0, 400),
    denominator=st.sampled_from([1, 2, 3, 6, 7]),
)
def test_reached_on_is_the_first_day_past_the_threshold(
    anchor: dt.date, unit: str, numerator: int, denominator: int
) -> None:
    threshold = Fraction(numerator, denominator)
    if unit == "months":
        threshold /= 10  # up to 40 months
    if unit == "working_days":
        threshold /= 2  # up to 200 working days: stays within 2026, the schedule's last year
    day = reached_on(anchor, unit, threshold, CAL)  # type: ignore[arg-type]
    assert day > anchor
    assert elapsed(anchor, day, unit) > threshold
    assert elapsed(anchor, day - ONE, unit) <= threshold


# -- PRC working days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "weekday", "workday"),
    [
        # National Day 2024: 10-01..07 off; Sunday 09-29 and Saturday 10-12 are 调休 workdays.
        (D(2024, 9, 27), 4, True),
        (D(2024, 9, 28), 5, False),
        (D(2024, 9, 29), 6, True),
        (D(2024, 9, 30), 0, True),
        *[(D(2024, 10, d), d % 7, False) for d in range(1, 8)],
        (D(2024, 10, 8), 1, True),
        (D(2024, 10, 12), 5, True),
        (D(2024, 10, 13), 6, False),
        # Spring Festival 2024: 02-10..17 off; Sundays 02-04 and 02-18 are 调休 workdays.
        (D(2024, 2, 3), 5, False),
        (D(2024, 2, 4), 6, True),
        *[(D(2024, 2, d), (d + 2) % 7, False) for d in range(10, 18)],
        (D(2024, 2, 18), 6, True),
        (D(2024, 2, 19), 0, True),
        # An ordinary week.
        (D(2024, 6, 3), 0, True),
        (D(2024, 6, 8), 5, False),
    ],
)
def test_prc_working_days(day: dt.date, weekday: int, workday: bool) -> None:
    assert day.weekday() == weekday  # guards the table itself
    assert CAL.is_workday(day) is workday


def test_within_5_working_days_over_national_day_2024() -> None:
    anchor = D(2024, 9, 27)  # Friday
    # Working days after it: 09-29 (Sun, 调休) 1, 09-30 2, [10-01..07 off], 10-08 3,
    # 10-09 4, 10-10 5, 10-11 6.
    assert CAL.nth_workday_after(anchor, 5) == D(2024, 10, 10)
    assert reached_on(anchor, "working_days", Fraction(5), CAL) == D(2024, 10, 11)
    assert CAL.workdays_between(anchor, D(2024, 10, 10)) == 5
    assert CAL.workdays_between(anchor, D(2024, 10, 11)) == 6
    assert CAL.workdays_between(anchor, D(2024, 10, 7)) == 2
    assert CAL.workdays_between(anchor, anchor) == 0


def test_within_5_working_days_over_spring_festival_2024() -> None:
    anchor = D(2024, 2, 2)  # Friday
    # 02-04 (Sun, 调休) 1, 02-05 2, 02-06 3, 02-07 4, 02-08 5, 02-09 6.
    assert CAL.nth_workday_after(anchor, 5) == D(2024, 2, 8)
    assert reached_on(anchor, "working_days", Fraction(5), CAL) == D(2024, 2, 9)
    anchor = D(2024, 2, 8)  # Thursday
    # 02-09 1, [02-10..17 off], 02-18 (Sun, 调休) 2, 02-19 3, 02-20 4, 02-21 5, 02-22 6.
    assert reached_on(anchor, "working_days", Fraction(5), CAL) == D(2024, 2, 22)
    assert CAL.workdays_between(anchor, D(2024, 2, 17)) == 1


def test_fractional_working_days_count_whole_days() -> None:
    # "exceeds 4.5 working days" is reached on the 5th working day.
    assert reached_on(D(2024, 9, 27), "working_days", Fraction(9, 2), CAL) == D(2024, 10, 10)


# -- unknown years -----------------------------------------------------------------------------


@pytest.mark.parametrize("day", [D(2027, 3, 3), D(2027, 1, 1), D(2003, 12, 31)])
def test_unknown_year_is_an_error(day: dt.date) -> None:
    with pytest.raises(CalendarError, match=str(day.year)):
        WorkCalendar().is_workday(day)


def test_calendar_error_is_a_library_error() -> None:
    assert issubclass(CalendarError, LifecycleRulesError)


def test_counting_into_an_unknown_year_is_undated_not_guessed() -> None:
    # Only the years up to 2026 are known here, whatever chinesecalendar ships later.
    cal = WorkCalendar({y: s for y, s in package_years().items() if y <= 2026})
    # 2026-12-28 (Mon): 12-29, 12-30, 12-31 are the 1st-3rd working days; the 4th-6th fall in 2027.
    sixth = reached_on(D(2026, 12, 28), "working_days", Fraction(5), cal)
    assert isinstance(sixth, Undated)
    assert (sixth.after, sixth.nth, sixth.gap_year) == (D(2026, 12, 28), 6, 2027)
    # Its value is the earliest it can be: 2027-01-01 + the 3 working days still owed, less one.
    assert sixth == D(2027, 1, 3) and sixth > D(2027, 1, 2) and not sixth > D(2027, 1, 3)
    assert sixth.describe() == "the 6th working day after 2026-12-28"
    assert isinstance(sixth - dt.timedelta(days=1), Undated) and sixth - dt.timedelta(days=1) == D(2027, 1, 2)
    assert pickle.loads(pickle.dumps(sixth)) == sixth and isinstance(pickle.loads(pickle.dumps(sixth)), Undated)
    with pytest.raises(CalendarError, match="2027"):
        sixth.isoformat()
    with pytest.raises(CalendarError, match="2027"):
        f"{sixth}"
    # A count that ends inside the known days is an ordinary date.
    third = cal.nth_workday_after(D(2026, 12, 28), 3)
    assert type(third) is dt.date and third == D(2026, 12, 31)
    with pytest.raises(CalendarError, match="2027"):
        cal.workdays_between(D(2026, 12, 30), D(2027, 1, 5))


def test_calendar_days_and_months_need_no_schedule() -> None:
    assert reached_on(D(2026, 12, 28), "days", Fraction(5), WorkCalendar()) == D(2027, 1, 3)
    assert reached_on(D(2026, 12, 28), "months", Fraction(1), WorkCalendar()) == D(2027, 1, 29)


# INVENTED TEST DATA, not the real 2027 schedule: a fake holiday on Friday 2027-01-01
# and a fake make-up workday on Saturday 2027-01-02.
FAKE_2027_HOLIDAY = D(2027, 1, 1)
FAKE_2027_WORKDAY = D(2027, 1, 2)
FAKE_2027 = YearSchedule(2027, frozenset([FAKE_2027_HOLIDAY]), frozenset([FAKE_2027_WORKDAY]),
                         "INVENTED for tests", "test")


def fake_2027_calendar() -> WorkCalendar:
    return WorkCalendar(layered({2027: FAKE_2027}, package_years()))


def test_a_supplied_year_makes_an_unknown_year_work() -> None:
    cal = fake_2027_calendar()
    assert FAKE_2027_HOLIDAY.weekday() == 4 and FAKE_2027_WORKDAY.weekday() == 5
    assert cal.years[2027].origin == "test" and cal.years[2024].origin.startswith("chinesecalendar")
    assert cal.is_workday(FAKE_2027_HOLIDAY) is False
    assert cal.is_workday(FAKE_2027_WORKDAY) is True
    assert cal.is_workday(D(2027, 1, 3)) is False  # Sunday
    assert cal.is_workday(D(2027, 1, 4)) is True  # Monday
    assert cal.is_workday(D(2027, 1, 9)) is False  # plain Saturday
    # 2026-12-31 (Thu) + 1 working day skips the fake holiday and lands on the fake workday.
    assert cal.nth_workday_after(D(2026, 12, 31), 1) == FAKE_2027_WORKDAY
    # 2026-12-28 (Mon): 12-29 1, 12-30 2, 12-31 3, [01-01 fake holiday], 01-02 4, 01-04 5, 01-05 6.
    assert reached_on(D(2026, 12, 28), "working_days", Fraction(5), cal) == D(2027, 1, 5)


def test_a_supplied_year_leaves_other_years_alone() -> None:
    cal = fake_2027_calendar()
    assert cal.is_workday(D(2024, 9, 29)) is True  # still the real 2024 schedule
    assert cal.is_workday(D(2024, 10, 1)) is False
    with pytest.raises(CalendarError, match="2040"):
        cal.is_workday(D(2040, 3, 1))


def test_layers_give_whole_years_first_come_first_served() -> None:
    other = YearSchedule(2027, frozenset(), frozenset(), "other", "second")
    own_2024 = YearSchedule(2024, frozenset(), frozenset(), "a pack's", "pack")
    years = layered({2027: FAKE_2027}, {2027: other, 2024: own_2024}, package_years())
    assert years[2027] is FAKE_2027 and years[2024] is own_2024
    assert list(years) == sorted(years)
    cal = WorkCalendar().over({2027: FAKE_2027, 2024: own_2024})
    assert cal.years[2027] is FAKE_2027 and cal.years[2024].origin.startswith("chinesecalendar")
    assert cal == WorkCalendar().over({2027: FAKE_2027}) and hash(cal) == hash(WorkCalendar().over({2027: FAKE_2027}))
    assert cal != WorkCalendar()


def test_the_package_years_are_the_package() -> None:
    years = package_years()
    assert min(years) == 2004 and all(y in years for y in range(2004, 2027))
    cur = D(2004, 1, 1)
    cal = WorkCalendar()
    while cur.year <= max(years):
        assert cal.is_workday(cur) is bool(chinese_calendar.is_workday(cur)), cur
        cur += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("holidays", "workdays", "problem"),
    [
        ([D(2028, 1, 1)], [], ("holidays", D(2028, 1, 1), "2028-01-01 is not in 2027")),
        ([], [D(2026, 12, 26)], ("workdays", D(2026, 12, 26), "2026-12-26 is not in 2027")),
        ([D(2027, 1, 9)], [D(2027, 1, 9)], ("workdays", D(2027, 1, 9), "listed both as a holiday and as a workday")),
        ([], [D(2027, 1, 5)], ("workdays", D(2027, 1, 5), "2027-01-05 is a Tuesday, a working day anyway")),
    ],
)
def test_a_year_that_contradicts_itself(holidays: list[dt.date], workdays: list[dt.date],
                                        problem: tuple[str, dt.date, str]) -> None:
    sched = YearSchedule(2027, frozenset(holidays), frozenset(workdays), "s", "o")
    [(key, day, message)] = sched.problems()
    assert (key, day) == problem[:2] and problem[2] in message


def test_weekend_rest_days_may_be_listed_as_holidays() -> None:
    # A notice's span 1月1日至3日放假 includes the weekend: listing it is not a contradiction.
    assert YearSchedule(2027, frozenset([D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)]), frozenset(),
                        "s", "o").problems() == []


# -- ISO dates ---------------------------------------------------------------------------------


def test_parse_iso_date_accepts_iso() -> None:
    assert parse_iso_date("2024-07-02") == D(2024, 7, 2)
    assert parse_iso_date("2024-02-29") == D(2024, 2, 29)
    assert parse_iso_date(D(2024, 7, 2)) == D(2024, 7, 2)
    assert type(parse_iso_date(dt.datetime(2024, 7, 2, 13, 5))) is dt.date


@pytest.mark.parametrize(
    "value",
    ["2024-02-30", "2023-02-29", "2024-13-01", "2024/7/2", "", "2024-7-2", "2024年7月2日",
     "20240702", "2024-07-02T00:00:00", None, 20240702],
)
def test_parse_iso_date_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_iso_date(value)


@pytest.mark.parametrize("value", ["２０２４-０７-０２", "٢٠٢٤-٠٧-٠٢"])
def test_parse_iso_date_rejects_non_ascii_digits(value: str) -> None:
    # Regression: a \d pattern matched any Unicode digit, so these parsed as 2024-07-02.
    with pytest.raises(ValueError):
        parse_iso_date(value)
