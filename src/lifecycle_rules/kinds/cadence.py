"""报送 (reporting cadence): a report due each period while the project is in given stages.

Periods: ``month`` (the report on month M is due by day ``due_day`` of M+1, clamped to
the month's end), ``week`` (the ISO week whose weekday ``due_day`` it is due on; SPEC §3:
``2024-W23`` is due Monday 2024-06-03 when due_day is 1), ``quarter`` (due by day
``due_day`` of the quarter's first month; label ``2024-Q2``), ``year`` (due by
``due_month``/``due_day``; label the year, plus ``year_offset`` for a list about next
year). A period is owed when the project is in a
watched stage on its reference day (the month's last day; the due day for weeks and
quarters). Filing late clears the warning on the filing day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from lifecycle_rules.core.dates import add_months, week_label
from lifecycle_rules.core.explain_model import LevelRule
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds.episode import Episode, LevelDays, level_days
from lifecycle_rules.kinds.stagnation import crossings
from lifecycle_rules.pack import checks, words
from lifecycle_rules.pack.parts import Duration, RuleBase

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.compile import Pack


class CadenceRule(RuleBase):
    """报送: a report due every period (month, ISO week or quarter) while in ``stages``."""

    kind: Literal["cadence"]
    report: str = Field(description="the event type of the report, e.g. monthly_report")
    every: Literal["month", "week", "quarter", "year"]
    due_day: int = Field(
        ge=1, le=31,
        description="month: day of the following month; week: ISO weekday of the period "
        "week (1 = Monday); quarter: day of the quarter's first month; year: day of due_month",
    )
    due_month: int | None = Field(
        default=None, ge=1, le=12,
        description="year only: the month the yearly report is due in (巫山: 10 for 10月底前)",
    )
    year_offset: int = Field(
        default=0, ge=0, le=1,
        description="year only: 1 when the report due in year Y is about year Y+1 (next year's list)",
    )

    @model_validator(mode="after")
    def _year_fields(self) -> CadenceRule:
        if (self.every == "year") != (self.due_month is not None):
            raise ValueError("due_month goes with every: year, and every: year needs it")
        return self
    stages: list[str] | None = None
    owed: Literal["every", "first"] = Field(
        default="every",
        description="every period while in the stages, or only the first one after the "
        "project enters them (巫山 三(一)2: a project new to the list is proposed once; any "
        "report of its type filed by the due day, whatever its period, is that once)",
    )
    ends_with_stage: bool = Field(
        default=False,
        description="a warning still open when the project leaves the watched stages closes "
        "that day (巫山: a project past 可研 is no longer on the reserve lists)",
    )
    levels: dict[Level, Duration] = Field(min_length=1)


Model = CadenceRule


def check(pack: Pack, rule: CadenceRule, path: str) -> None:
    checks.stages(pack, f"{path}.stages", rule.stages)
    checks.event_type(pack, f"{path}.report", rule.report)
    if rule.every == "week" and rule.due_day > 7:
        raise checks.err(f"{path}.due_day", "for a weekly report, due_day is an ISO weekday 1-7")
    checks.ordered(path, {lv: pack.duration(d) for lv, d in rule.levels.items()})


def _clamped(year: int, month: int, day: int) -> dt.date:
    first = dt.date(year, month, 1)
    last = add_months(first, 1) - dt.timedelta(days=1)
    return first.replace(day=min(day, last.day))


Period = tuple[str, dt.date, dt.date]  # (label, reference day, due day)
_PERIOD_LISTS_CACHED = 256  # per rule: spans starting in the same period share a list


def period_start(rule: CadenceRule, day: dt.date) -> dt.date:
    """The first day of the period containing ``day`` (``periods`` from ``day`` and from
    this day are the same)."""
    if rule.every == "month":
        return day.replace(day=1)
    if rule.every == "week":
        return day - dt.timedelta(days=day.weekday())
    if rule.every == "year":
        return dt.date(day.year, 1, 1)
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def periods(rule: CadenceRule, start: dt.date, until: dt.date) -> Iterator[Period]:
    """(label, reference day, due day) of each period from the one containing ``start``
    whose due day is on or before ``until``."""
    first = period_start(rule, start)
    if rule.every == "month":
        cur = first
        while True:
            nxt = add_months(cur, 1)
            due = _clamped(nxt.year, nxt.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-{cur.month:02d}", nxt - dt.timedelta(days=1), due
            cur = nxt
    elif rule.every == "week":
        monday = first
        while True:
            due = monday + dt.timedelta(days=rule.due_day - 1)
            if due > until:
                return
            yield week_label(monday), due, due
            monday += dt.timedelta(days=7)
    elif rule.every == "year":
        assert rule.due_month is not None
        year = first.year
        while True:
            due = _clamped(year, rule.due_month, rule.due_day)
            if due > until:
                return
            yield str(year + rule.year_offset), due, due
            year += 1
    else:
        cur = first
        while True:
            due = _clamped(cur.year, cur.month, rule.due_day)
            if due > until:
                return
            yield f"{cur.year}-Q{(cur.month - 1) // 3 + 1}", due, due
            cur = add_months(cur, 3)


@dataclass(frozen=True, slots=True)
class CadenceClock:
    rule: CadenceRule
    clocks: dict[Level, Callable[[dt.date], dt.date]]
    levels_at: Callable[[dt.date], LevelDays]  # level_days(clocks)
    # (first day of a period, until) -> periods(rule, that day, until), cached
    period_list: Callable[[dt.date, dt.date], tuple[Period, ...]]

    def __call__(self, facts: Facts, notices: list[str]) -> list[Episode]:
        rule, levels_at = self.rule, self.levels_at
        if rule.stages is not None:
            wanted = set(rule.stages)
            spans = [s for s in facts.spans if s.stage in wanted]
        else:
            spans = facts.spans
        if not spans:
            return []
        filed: dict[str, dt.date] = {}
        anything: dt.date | None = None  # the first filing of any period (owed: first)
        for _, e in facts.of_type(rule.report):
            if anything is None:
                anything = e.date
            if e.period is not None and e.period not in filed:
                filed[e.period] = e.date  # events are sorted: the first filing counts
        out: list[Episode] = []
        seen: set[str] = set()
        first_only = rule.owed == "first"
        for span in spans:
            taken = False
            for label, ref, due in self.period_list(period_start(rule, span.start), facts.as_of):
                if label in seen or ref < span.start or (span.end is not None and ref >= span.end):
                    continue
                if taken:
                    break  # owed: first — only the first period of each stay is owed
                taken = first_only
                seen.add(label)
                # Proposed once: any filing of the report counts for the first period.
                got = anything if first_only else filed.get(label)
                if rule.ends_with_stage and span.end is not None and (got is None or span.end < got):
                    got = span.end  # left the watched stages: no longer owed from that day
                if got is not None and got <= due:
                    continue
                levels = levels_at(due)
                if levels[0][1] > facts.as_of or (got is not None and got < levels[0][1]):
                    continue
                out.append(Episode(
                    subject=f"{rule.subject} {label}" if rule.subject else label,
                    anchor=due,
                    levels=levels,
                    due=due,
                    cleared=got,
                    stage=span.stage,
                    info={"period": label},
                ))
        return out



def compile(pack: Pack, rule: CadenceRule) -> CadenceClock:
    clocks = crossings(pack, dict(rule.levels))

    def period_list(first: dt.date, until: dt.date) -> tuple[Period, ...]:
        return tuple(periods(rule, first, until))

    return CadenceClock(rule, clocks, level_days(clocks), lru_cache(maxsize=_PERIOD_LISTS_CACHED)(period_list))


def measures(rule: CadenceRule) -> str:
    if rule.every == "month":
        due = f"due on day {rule.due_day} of the following month"
    elif rule.every == "week":
        due = f"due on ISO weekday {rule.due_day} of its week"
    elif rule.every == "quarter":
        due = f"due on day {rule.due_day} of the quarter's first month"
    else:
        about = " (about the next year)" if rule.year_offset else ""
        due = f"due on {rule.due_month}/{rule.due_day} each year{about}"
    text = f"{rule.report} every {rule.every}, {due}"
    if rule.stages is not None:
        text += f", while in stage {' or '.join(rule.stages)}"
    if rule.owed == "first":
        text += "; only the first period after the project enters " + (
            "a watched stage" if rule.stages is not None else "its first stage")
        text += " (any filing of the report counts)"
    if rule.ends_with_stage:
        text += "; a warning still open when the project leaves the stages closes that day"
    return text


def levels_in_words(pack: Pack, rule: CadenceRule) -> str:
    return words.duration_levels(pack, dict(rule.levels), "past the due day unfiled", "the due day")


# -- explained (``core/explain``): each period owed and its filing -------------------------------


@dataclass(frozen=True)
class PeriodTrace:
    """One period owed by ``as_of``: its due day, the filing that counts for it (``owed:
    first``: any filing of the report), the day the project left the watched stages when
    that ended it (``ends_with_stage``), and what came of it: ``on_time``; ``left_stages``
    (left by the due day: no longer owed); ``before_level`` (late, or left, before the first
    level); ``late`` (raised, then filed or left); ``missing`` (raised, still unfiled);
    ``not_yet`` (unfiled, its first level after as_of)."""

    period: str
    stage: str
    reference: dt.date
    due: dt.date
    filed: dt.date | None
    event: int | None
    left: dt.date | None
    levels: tuple[LevelRule, ...]
    state: Literal["on_time", "left_stages", "before_level", "late", "missing", "not_yet"]


def explain(pack: Pack, rule: CadenceRule, facts: Facts) -> list[PeriodTrace]:
    """The periods the compiled clock owes, in its order, with what clears each (as the
    clock reads it: the first filing of the period, or of any period with ``owed: first``)."""
    clock = pack.clocks[pack.rule_order[rule.id]]
    assert isinstance(clock, CadenceClock)
    spans = facts.spans if rule.stages is None else [s for s in facts.spans if s.stage in set(rule.stages)]
    filed: dict[str, tuple[dt.date, int]] = {}
    anything: tuple[dt.date, int] | None = None
    for i, e in facts.of_type(rule.report):
        anything = anything or (e.date, i)
        if e.period is not None and e.period not in filed:
            filed[e.period] = (e.date, i)
    out: list[PeriodTrace] = []
    seen: set[str] = set()
    for span in spans:
        taken = False
        for label, ref, due in periods(rule, span.start, facts.as_of):
            if label in seen or ref < span.start or (span.end is not None and ref >= span.end):
                continue
            if taken:
                break
            taken = rule.owed == "first"
            seen.add(label)
            got, event = (anything if taken else filed.get(label)) or (None, None)
            left = span.end if rule.ends_with_stage and span.end is not None and (got is None or span.end < got) \
                else None
            clear = left or got
            days = sorted(((lv, at(due)) for lv, at in clock.clocks.items()), key=lambda p: (p[1], LEVEL_RANK[p[0]]))
            state: Literal["on_time", "left_stages", "before_level", "late", "missing", "not_yet"]
            if clear is not None and clear <= due:
                state = "left_stages" if left else "on_time"
            elif clear is not None:
                state = "before_level" if clear < days[0][1] else "late"
            else:
                state = "not_yet" if days[0][1] > facts.as_of else "missing"
            levels = tuple(LevelRule(lv, "duration", pack.duration(rule.levels[lv]), reached_on=d)
                           for lv, d in sorted(days, key=lambda p: LEVEL_RANK[p[0]]))
            out.append(PeriodTrace(label, span.stage, ref, due, got, event, left, levels, state))
    return out
