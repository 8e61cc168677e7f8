"""投资未达序时 (shortfall) and 月调度不符合要求 (non-compliant reports).

Monthly reports are read in filing order, and a later report of a month replaces the
earlier one (a correction): on each day a month counts when its latest report by then
shows it short (or non-compliant). A level, once reached, stays (SPEC §1: a level only
rises until it is closed): a correction does not withdraw a letter sent, but the month
no longer counts towards a later level. ``cumulative`` counts every such month;
``consecutive`` counts months in a row (December and January are in a row).

What a warning is, by ``per``:

- ``project`` (default): one warning per project and rule, its level by the count; it
  does not clear by itself (closure is by disposition).
- ``period``: one warning per qualifying month (同江 二(二)3: a letter for each missed
  month's dispatch), keyed by the month, from the filing that shows it short; a
  correction showing the month met clears it.
- ``run``: one warning per run of consecutive qualifying months (同江: 连续2个月 ->
  督办), keyed by the run's first month, its levels by the run's length; a later run
  raises its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from lifecycle_rules.core.dates import add_months, month_of, ordinal
from lifecycle_rules.core.history import EventView
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds.episode import Episode
from lifecycle_rules.pack import checks, words
from lifecycle_rules.pack.parts import RuleBase

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.compile import Pack


class ShortfallRule(RuleBase):
    """投资未达序时 / 月调度不符合要求: monthly reports counted, level by count."""

    kind: Literal["shortfall"]
    stages: list[str] | None = None
    counts: Literal["shortfall", "noncompliant"] = "shortfall"
    counting: Literal["cumulative", "consecutive"] = "cumulative"
    per: Literal["project", "period", "run"] = Field(
        default="project",
        description="one warning per project (level by count), per qualifying month, or "
        "per run of consecutive qualifying months",
    )
    report: str = "monthly_report"
    levels: dict[Level, int] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 1 for v in value.values()):
            raise ValueError("counts must be 1 or more")
        return value

    @model_validator(mode="after")
    def _per(self) -> ShortfallRule:
        if self.per == "period" and (len(self.levels) != 1 or set(self.levels.values()) != {1}):
            raise ValueError("per: period is one warning per qualifying month: give one level, at 1")
        if self.per == "run" and self.counting != "consecutive":
            raise ValueError("per: run counts months in a row: set counting: consecutive")
        return self


Model = ShortfallRule


def check(pack: Pack, rule: ShortfallRule, path: str) -> None:
    checks.stages(pack, f"{path}.stages", rule.stages)
    checks.event_type(pack, f"{path}.report", rule.report)
    ranked = sorted(rule.levels.items(), key=lambda kv: LEVEL_RANK[kv[0]])
    for (lo, a), (hi, b) in pairwise(ranked):
        if a >= b:
            raise checks.err(f"{path}.levels", f"{hi} must need more reports than {lo} ({b} vs {a})")




def _qualifies(rule: ShortfallRule, e: EventView) -> bool | None:
    """Does the report count (True), show the month met (False), or say nothing of it
    (None: a shortfall rule's report without amounts)?"""
    if rule.counts == "noncompliant":
        return e.compliant is False
    if e.planned_wan is None or e.actual_wan is None:
        return None
    return e.actual_wan < e.planned_wan


def _period_end(period: str) -> dt.date:
    y, m = month_of(period)
    return add_months(dt.date(y, m, 1), 1) - dt.timedelta(days=1)


def _index(period: str) -> int:
    y, m = month_of(period)
    return y * 12 + m


def filings(rule: ShortfallRule, facts: Facts) -> list[tuple[dt.date, str, bool]]:
    """(filing day, month, counts) of each report that says whether its month counts,
    in filing order, for the months that end in a watched stage."""
    wanted = set(rule.stages) if rule.stages is not None else None
    out: list[tuple[dt.date, str, bool]] = []
    in_stage: dict[str, bool] = {}
    for _, e in facts.of_type(rule.report):  # sorted by date
        period = e.period
        if period is None:
            continue
        verdict = _qualifies(rule, e)
        if verdict is None:
            continue
        if wanted is not None:
            ok = in_stage.get(period)
            if ok is None:
                ok = in_stage[period] = facts.stage_at(_period_end(period)) in wanted
            if not ok:
                continue
        out.append((e.date, period, verdict))
    return out


def _run_at(counting: set[int], k: int) -> tuple[int, int]:
    """The first and last month index of the run of counting months holding ``k``."""
    lo = hi = k
    while lo - 1 in counting:
        lo -= 1
    while hi + 1 in counting:
        hi += 1
    return lo, hi


def episodes(rule: ShortfallRule, facts: Facts, notices: list[str]) -> list[Episode]:
    timeline = filings(rule, facts)
    if not timeline:
        return []
    if rule.per == "period":
        return _per_period(rule, facts, timeline)
    if rule.per == "run":
        return _per_run(rule, facts, timeline)
    return _per_project(rule, facts, timeline)


def _per_project(rule: ShortfallRule, facts: Facts, timeline: list[tuple[dt.date, str, bool]]) -> list[Episode]:
    state: dict[str, bool] = {}
    counting: set[int] = set()
    reached: dict[Level, dt.date] = {}
    at_reach = 0  # the count when the highest level so far was reached
    first: dict[str, dt.date] = {}  # the first filing that showed each month short
    need = sorted(rule.levels.items(), key=lambda kv: kv[1])
    for day, period, verdict in timeline:
        state[period] = verdict
        k = _index(period)
        if not verdict:
            counting.discard(k)
            continue
        counting.add(k)
        first.setdefault(period, day)
        if rule.counting == "cumulative":
            size = len(counting)
        else:
            lo, hi = _run_at(counting, k)
            size = hi - lo + 1
        for level, n in need:
            if n <= size and level not in reached:
                reached[level] = day
                at_reach = max(at_reach, n)
    if not reached:
        return []
    levels = sorted(reached.items(), key=lambda p: (p[1], LEVEL_RANK[p[0]]))
    periods = sorted((p for p, v in state.items() if v), key=_index)
    # The clock starts at the earliest month counted (or once counted, if all were corrected).
    earliest = periods[0] if periods else min(first, key=_index)
    return [Episode(
        subject=rule.subject or "月度投资",
        anchor=first[earliest],
        levels=tuple(levels),
        stage=facts.stage_at(levels[0][1]),
        # Months counting now; never fewer than the level it stands at was reached with (a
        # correction does not make a lit level read "0 months").
        info={"count": max(len(periods), at_reach), "periods": periods},
    )]


def _per_period(rule: ShortfallRule, facts: Facts, timeline: list[tuple[dt.date, str, bool]]) -> list[Episode]:
    """A month's warning stands from the filing that (last) showed it short; a later
    report showing it met clears it, and one showing it short again raises it again."""
    (level, _), = rule.levels.items()
    short_since: dict[str, dt.date] = {}  # the start of the month's latest short spell
    cleared: dict[str, dt.date | None] = {}
    for day, period, verdict in timeline:
        if verdict:
            if period not in short_since or cleared.get(period) is not None:
                short_since[period], cleared[period] = day, None
        elif period in short_since and cleared[period] is None:
            cleared[period] = day
    subject = rule.subject or "月度投资"
    return [Episode(
        subject=f"{subject} {period}",
        anchor=day,
        levels=((level, day),),
        cleared=cleared[period],
        stage=facts.stage_at(day),
        info={"count": 1, "period": period},
    ) for period, day in sorted(short_since.items(), key=lambda p: _index(p[0]))]


def _per_run(rule: ShortfallRule, facts: Facts, timeline: list[tuple[dt.date, str, bool]]) -> list[Episode]:
    """Runs of months in a row, cut into stretches of the top level's count (同江: every two
    months in a row is again 连续2个月): each stretch is one warning, keyed by its first
    month, its levels by its length. A run's stretches are counted from the earliest
    stretch already raised in it (a correction that adds a month before it raises
    nothing for that month), or from its first month; a stretch that would share a month
    with one already raised is not raised."""
    need = sorted(rule.levels.items(), key=lambda kv: kv[1])
    size = need[-1][1]
    counting: set[int] = set()
    raised: dict[int, dict[Level, dt.date]] = {}  # by the stretch's first month: level -> day
    lengths: dict[int, int] = {}
    for day, period, verdict in timeline:
        k = _index(period)
        if not verdict:
            counting.discard(k)
            continue
        counting.add(k)
        lo, hi = _run_at(counting, k)
        base = next((s for s in sorted(raised) if lo <= s <= hi), lo)
        start = base + (k - base) // size * size if k >= base else None
        if start is None:
            continue
        length = min(hi, start + size - 1) - start + 1
        if length < need[0][1]:
            continue
        if any(s != start and abs(s - start) < size for s in raised):
            continue  # it would share months with a stretch already raised
        got = raised.setdefault(start, {})
        lengths[start] = max(lengths.get(start, 0), length)
        for level, n in need:
            if n <= length and level not in got:
                got[level] = day
    subject = rule.subject or "月度投资"
    out: list[Episode] = []
    for start, got in sorted(raised.items()):
        y, m = divmod(start - 1, 12)
        label = f"{y}-{m + 1:02d}"
        levels = sorted(got.items(), key=lambda p: (p[1], LEVEL_RANK[p[0]]))
        out.append(Episode(
            subject=f"{subject} {label}",
            anchor=levels[0][1],
            levels=tuple(levels),
            stage=facts.stage_at(levels[0][1]),
            info={"count": lengths[start], "period": label},
        ))
    return out


def compile(pack: Pack, rule: ShortfallRule) -> Callable[[Facts, list[str]], list[Episode]]:
    return partial(episodes, rule)


def measures(rule: ShortfallRule) -> str:
    what = ("months whose report has actual_wan < planned_wan" if rule.counts == "shortfall"
            else "months whose report is compliant: false")
    text = f"{rule.counting} count of {what} ({rule.report}; a month's latest report counts)"
    if rule.stages is not None:
        text += f", in stage {' or '.join(rule.stages)}"
    return text + {"project": "; one warning per project",
                   "period": "; one warning per qualifying month",
                   "run": "; one warning per run of months in a row"}[rule.per]


def levels_in_words(pack: Pack, rule: ShortfallRule) -> str:
    what = "month short of the 序时 target" if rule.counts == "shortfall" else "non-compliant report"
    if rule.per == "period":
        (level, _), = rule.levels.items()
        return (f"{level} for each {what}, from the filing that shows it (a correction showing "
                "the month met clears it)")
    how = "months in a row" if rule.counting == "consecutive" else "counted in all"
    where = " of one run" if rule.per == "run" else ""
    parts = [f"{level} at the {ordinal(rule.levels[level])} {what}{where}"
             for level in words.levels_sorted(rule.levels)]
    return "; ".join(parts) + f" ({how}; reached on the filing date of the report that makes the count)"


# -- explained (``core/explain``): each month's reports and whether the month counts -------------


@dataclass(frozen=True)
class ReportSeen:
    """One report of a month: when it was filed and what it says (counts: short or not
    compliant; met; None: it says nothing the rule compares)."""

    event: int
    filed: dt.date
    counts: bool | None
    planned_wan: float | None
    actual_wan: float | None
    compliant: bool | None


@dataclass(frozen=True)
class MonthTrace:
    """One month reported on by ``as_of``, and whether it counts then: ``counted`` (its
    latest report shows it short), ``met``, ``corrected`` (counted once, a later report shows
    it met), ``silent`` (no report says), ``outside_stages`` (the month ends outside them)."""

    period: str
    stage: str | None  # on the month's last day
    reports: tuple[ReportSeen, ...]  # in filing order; the latest that says decides
    state: Literal["counted", "met", "corrected", "silent", "outside_stages"]


def explain(pack: Pack, rule: ShortfallRule, facts: Facts) -> list[MonthTrace]:
    """Every month the rule's reports name by ``facts.as_of``, by ``_qualifies`` and the stage."""
    wanted = set(rule.stages) if rule.stages is not None else None
    by_month: dict[str, list[ReportSeen]] = {}
    for i, e in facts.of_type(rule.report):  # sorted by date
        if e.period is not None:
            by_month.setdefault(e.period, []).append(
                ReportSeen(i, e.date, _qualifies(rule, e), e.planned_wan, e.actual_wan, e.compliant))
    out: list[MonthTrace] = []
    for period in sorted(by_month, key=_index):
        reports = by_month[period]
        stage = facts.stage_at(_period_end(period))
        said = [r.counts for r in reports if r.counts is not None]
        state: Literal["counted", "met", "corrected", "silent", "outside_stages"]
        if wanted is not None and stage not in wanted:
            state = "outside_stages"
        elif not said:
            state = "silent"
        elif said[-1]:
            state = "counted"
        else:
            state = "corrected" if any(said) else "met"
        out.append(MonthTrace(period, stage, tuple(reports), state))
    return out
