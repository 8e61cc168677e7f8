"""Arithmetic around the rules: day ordinals, the day each level is reached, shortfall
counts, due days, the limit in words, and the cadence period grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from lifecycle_rules.core.dates import add_months, month_of, reached_on, week_label
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.pack.compile import Threshold
from lifecycle_rules.pack.spec import CadenceRule, ShortfallRule


def _iso(day: int) -> str:
    return dt.date.fromordinal(day).isoformat()


def _level_days(start: dt.date, ths: dict[Level, Threshold], cal: Any) -> list[tuple[Level, dt.date]]:
    """The day each level is reached from ``start``, in order (by day, then rank)."""
    # A day past the known years comes back Undated (its earliest day): settled later.
    got = [(lv, reached_on(start, th.unit, th.value, cal)) for lv, th in ths.items()]
    return sorted(got, key=lambda p: (p[1], LEVEL_RANK[p[0]]))


def _shortfall_levels(rule: ShortfallRule, hits: dict[str, int]) -> list[tuple[Level, dt.date]]:
    """The day each level's count of months is reached."""
    out: list[tuple[Level, dt.date]] = []
    if rule.counting == "cumulative":
        days = sorted(hits.values())
        for lv, n in rule.levels.items():
            if len(days) >= n:
                out.append((lv, dt.date.fromordinal(days[n - 1])))
    else:
        # The run of consecutive months ending at each month; a level is reached when a
        # run's last n months are all filed: on the latest of those filings.
        index = {y * 12 + m: hits[p] for p in hits for y, m in [month_of(p)]}
        run_len: dict[int, int] = {}
        for k in sorted(index):
            run_len[k] = run_len.get(k - 1, 0) + 1
        for lv, n in rule.levels.items():
            best: int | None = None
            for k, length in run_len.items():
                if length >= n:
                    when = max(index[k - j] for j in range(n))
                    best = when if best is None or when < best else best
            if best is not None:
                out.append((lv, dt.date.fromordinal(best)))
    return sorted(out, key=lambda p: (p[1], LEVEL_RANK[p[0]]))


def _due(anchor: dt.date, limit: Threshold, cal: Any) -> dt.date:
    """The deadline: the day the limit's last whole unit ends (anchor + n days; the n-th
    working day after the anchor; anchor + n months), or for a fractional or zero limit
    the day before it is exceeded."""
    v = limit.value
    if v.denominator == 1 and v > 0:
        n = v.numerator
        if limit.unit == "days":
            return anchor + dt.timedelta(days=n)
        if limit.unit == "working_days":
            return cal.nth_workday_after(anchor, n)  # type: ignore[no-any-return]
        return add_months(anchor, n)
    return reached_on(anchor, limit.unit, v, cal) - dt.timedelta(days=1)


def _describe(limit: Threshold) -> str:
    unit = {"days": "天", "working_days": "个工作日", "months": "个月"}[limit.unit]
    v = limit.value
    return f"{v.numerator if v.denominator == 1 else float(v):g}{unit}"


def _month_end(year: int, month: int, day: int) -> dt.date:
    first = dt.date(year, month, 1)
    last = (add_months(first, 1) - dt.timedelta(days=1)).day
    return first.replace(day=min(day, last))


def _periods(rule: CadenceRule, start: dt.date, until: dt.date) -> Iterator[tuple[str, dt.date, dt.date]]:
    """(label, reference day, due day) of the periods from the one holding ``start`` whose
    due day is on or before ``until``."""
    one = dt.timedelta(days=1)
    if rule.every == "month":
        cur = start.replace(day=1)
        while True:
            nxt = add_months(cur, 1)
            due = _month_end(nxt.year, nxt.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-{cur.month:02d}", nxt - one, due
            cur = nxt
    elif rule.every == "week":
        monday = start - dt.timedelta(days=start.weekday())
        while True:
            due = monday + dt.timedelta(days=rule.due_day - 1)
            if due > until:
                return
            yield week_label(monday), due, due
            monday += dt.timedelta(days=7)
    elif rule.every == "quarter":
        cur = dt.date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        while True:
            due = _month_end(cur.year, cur.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-Q{(cur.month - 1) // 3 + 1}", due, due
            cur = add_months(cur, 3)
    else:
        assert rule.due_month is not None
        year = start.year
        while True:
            due = _month_end(year, rule.due_month, rule.due_day)
            if due > until:
                return
            yield str(year + rule.year_offset), due, due
            year += 1

