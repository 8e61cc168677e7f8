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
    spell: dict[int, tuple[int, int | None]] = {}  # per month: (latest short spell's start, its end)
    reached: dict[Level, int] = {}
    top_count = 0
    stretch = max(rule.levels.values())
    by_stretch: dict[int, dict[Level, int]] = {}
    longest: dict[int, int] = {}
    was: dict[int, bool] = {}
    for t in range(1, len(filed) + 1):
        day, _, period, _ = filed[t - 1]
        y, m = month_of(period)
        changed = y * 12 + m
        state = _months_in_force(filed, t)
        short = [k for k, counts in state.items() if counts]
        for k in short:
            first_short.setdefault(k, day)
        # A month's spell: short from the filing that turned it short, to the one that turned it met.
        for k, counts in state.items():
            before = was.get(k)
            if counts and before is not True:
                spell[k] = (day, None)
            elif not counts and before is True:
                spell[k] = (spell[k][0], day)
            was[k] = counts
        runs = _runs(short)
        size = len(short) if rule.counting == "cumulative" else max((n for _, n in runs), default=0)
        for lv, n in rule.levels.items():
            if size >= n and lv not in reached:
                reached[lv] = day
                top_count = max(top_count, n)
        if not state[changed]:
            continue
        first, length = next((f, n) for f, n in runs if f <= changed < f + n)
        known = [s for s in sorted(by_stretch) if first <= s < first + length]
        base = known[0] if known else first
        if changed < base:
            continue
        start = changed - (changed - base) % stretch
        span = min(first + length, start + stretch) - start
        if span < min(rule.levels.values()):
            continue
        if [s for s in by_stretch if s != start and start - stretch < s < start + stretch]:
            continue  # no two stretches share a month
        got = by_stretch.setdefault(start, {})
        longest[start] = max(longest.get(start, 0), span)
        for lv, n in rule.levels.items():
            if span >= n and lv not in got:
                got[lv] = day

    def ordered(levels: dict[Level, int]) -> list[tuple[Level, dt.date]]:
        return sorted(((lv, dt.date.fromordinal(d)) for lv, d in levels.items()),
                      key=lambda p: (p[1], LEVEL_RANK[p[0]]))

    def day_of(d: int | None) -> dt.date | None:
        return None if d is None else dt.date.fromordinal(d)

    if rule.per == "period":
        (lv, _), = rule.levels.items()
        return [ShortfallFind(_label(k), dt.date.fromordinal(b), [(lv, dt.date.fromordinal(b))], day_of(e), 1)
                for k, (b, e) in sorted(spell.items())]
    if rule.per == "run":
        return [ShortfallFind(_label(s), min(d for _, d in ordered(got)), ordered(got), None, longest[s])
                for s, got in sorted(by_stretch.items())]
    if not reached:
        return []
    final = _months_in_force(filed, len(filed))
    now = sorted(k for k, counts in final.items() if counts)
    earliest = now[0] if now else min(first_short)
    return [ShortfallFind(None, dt.date.fromordinal(first_short[earliest]), ordered(reached), None,
                          max(len(now), top_count))]


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

