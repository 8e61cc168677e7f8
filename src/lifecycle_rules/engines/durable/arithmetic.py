"""Arithmetic around the rules: day ordinals, the day each level is reached, shortfall
counts, due days, the limit in words, and the cadence period grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ShortfallFind:
    """One shortfall episode: its month (per period, or a run's first month; None per
    project), the day its clock starts, its levels, the day a correction cleared it, and
    the count of months behind it."""

    month: str | None
    anchor: dt.date
    levels: list[tuple[Level, dt.date]]
    cleared: dt.date | None
    count: int


def _months_in_force(filed: list[tuple[int, int, str, bool]], upto: int) -> dict[int, bool]:
    """Each month (as y*12+m) and whether it counts, by its latest report among the first
    ``upto`` filings (a correction replaces the earlier report)."""
    state: dict[int, bool] = {}
    for _, _, period, counts in filed[:upto]:
        y, m = month_of(period)
        state[y * 12 + m] = counts
    return state


def _runs(months: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive months, as (first, length), in order."""
    out: list[tuple[int, int]] = []
    for k in sorted(months):
        if out and out[-1][0] + out[-1][1] == k:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((k, 1))
    return out


def _label(k: int) -> str:
    y, m = divmod(k - 1, 12)
    return f"{y}-{m + 1:02d}"


def _shortfall_finds(rule: ShortfallRule, filed: list[tuple[int, int, str, bool]]) -> list[ShortfallFind]:
    """The episodes of a shortfall rule, by replaying the filings (day, place, month,
    counts) one by one and recounting the months in force after each."""
    filed = sorted(filed)
    first_short: dict[int, int] = {}
    cleared: dict[int, int] = {}
    reached: dict[Level, int] = {}
    by_run: dict[int, dict[Level, int]] = {}
    longest: dict[int, int] = {}
    for t in range(1, len(filed) + 1):
        day = filed[t - 1][0]
        state = _months_in_force(filed, t)
        short = [k for k, counts in state.items() if counts]
        for k in short:
            first_short.setdefault(k, day)
        for k, counts in state.items():
            if not counts and k in first_short and k not in cleared:
                cleared[k] = day
        runs = _runs(short)
        size = len(short) if rule.counting == "cumulative" else max((n for _, n in runs), default=0)
        for lv, n in rule.levels.items():
            if size >= n and lv not in reached:
                reached[lv] = day
        for first, length in runs:
            if length < min(rule.levels.values()):
                continue
            known = [s for s in sorted(by_run) if first <= s < first + length]
            start = known[0] if known else first
            got = by_run.setdefault(start, {})
            longest[start] = max(longest.get(start, 0), length)
            for lv, n in rule.levels.items():
                if length >= n and lv not in got:
                    got[lv] = day

    def ordered(levels: dict[Level, int]) -> list[tuple[Level, dt.date]]:
        return sorted(((lv, dt.date.fromordinal(d)) for lv, d in levels.items()),
                      key=lambda p: (p[1], LEVEL_RANK[p[0]]))

    if rule.per == "period":
        (lv, _), = rule.levels.items()
        return [ShortfallFind(_label(k), dt.date.fromordinal(d), [(lv, dt.date.fromordinal(d))],
                              dt.date.fromordinal(cleared[k]) if k in cleared else None, 1)
                for k, d in sorted(first_short.items())]
    if rule.per == "run":
        return [ShortfallFind(_label(s), min(d for _, d in ordered(got)), ordered(got), None, longest[s])
                for s, got in sorted(by_run.items())]
    if not reached:
        return []
    final = _months_in_force(filed, len(filed))
    now = sorted(k for k, counts in final.items() if counts)
    earliest = now[0] if now else min(first_short)
    return [ShortfallFind(None, dt.date.fromordinal(first_short[earliest]), ordered(reached), None, len(now))]


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

