"""期限 (deadline): from an anchor (a step done, a stage entered, a plan date) to a limit.

The red limit may depend on the investment band (建德 五.2: 开工 -> 竣工 18/24/36 months);
an earlier level may sit a fraction of the limit before it (建德 三(三): orange 1/6 before
red) or at its own duration. The clock stops when the target step is done.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeVar

from ..dates import add_months, reached_on
from ..models import LEVEL_RANK
from ..packspec import Anchor, DeadlineRule, Target
from . import Episode

if TYPE_CHECKING:
    from ..facts import Facts
    from ..pack import Threshold
    from ..packspec import Rule


_Ref = TypeVar("_Ref", Anchor, Target)


class MissingInvestment(Exception):
    """The rule's limit depends on investment_wan and the project gives none."""


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, DeadlineRule)
    if rule.for_each_step is None:
        return _episodes(rule, facts, rule.anchor, rule.target, None)
    out: list[Episode] = []
    for step in rule.for_each_step:
        out += _episodes(rule, facts, _for(rule.anchor, step), _for(rule.target, step), step)
    return out


def _for(ref: _Ref, step: str) -> _Ref:
    """``ref`` with ``"*"`` replaced by ``step``."""
    fields = {k: step for k in ("step_completed", "step_started") if getattr(ref, k) == "*"}
    return ref.model_copy(update=fields) if fields else ref


def _episodes(rule: DeadlineRule, facts: Facts, anchor_ref: Anchor, target_ref: Target,
              each: str | None) -> list[Episode]:
    from ..pack import deadline_plan

    anchor = facts.anchor_date(anchor_ref)
    if anchor is None or anchor > facts.as_of:
        return []
    cleared = facts.target_date(target_ref)
    if cleared is not None and cleared <= anchor:
        return []
    pack = facts.pack
    plan = deadline_plan(pack, rule)
    if len(plan) == 1:
        _, limit, thresholds = plan[0]
    else:
        inv = facts.history.project.investment_wan
        if inv is None:
            raise MissingInvestment(rule.id)
        _, limit, thresholds = next(p for p in plan if p[0] is None or inv < p[0])
    cal = pack.calendar
    levels = sorted(
        ((lv, reached_on(anchor, th.unit, th.value, cal)) for lv, th in thresholds.items()),
        key=lambda p: (p[1], LEVEL_RANK[p[0]]),
    )
    target = target_ref.step_completed or target_ref.step_started
    assert target is not None
    step = pack.step_of[target]
    subject = pack.step_of[each] if each is not None else (rule.subject or step)
    return [
        Episode(
            subject=subject,
            anchor=anchor,
            levels=tuple(levels),
            due=_due(anchor, limit, cal),
            cleared=cleared,
            stage=facts.stage_at(anchor),
            step=step,
            info={"limit": _describe(limit)},
        )
    ]


def _due(anchor: dt.date, limit: Threshold, cal: object) -> dt.date:
    """The last day within the limit."""
    from ..dates import WorkCalendar

    assert isinstance(cal, WorkCalendar)
    v = limit.value
    if v.denominator == 1 and v > 0:
        n = v.numerator
        if limit.unit == "days":
            return anchor + dt.timedelta(days=n)
        if limit.unit == "working_days":
            return cal.nth_workday_after(anchor, n)
        return add_months(anchor, n)
    return reached_on(anchor, limit.unit, v, cal) - dt.timedelta(days=1)


def _describe(limit: Threshold) -> str:
    unit = {"days": "天", "working_days": "个工作日", "months": "个月"}[limit.unit]
    v = limit.value
    return f"{v.numerator if v.denominator == 1 else float(v):g}{unit}"
