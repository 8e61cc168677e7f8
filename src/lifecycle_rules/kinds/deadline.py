"""期限 (deadline): from an anchor (a step done, a stage entered, a plan date) to a limit.

The red limit may depend on the investment band (建德 五.2: 开工 -> 竣工 18/24/36 months);
an earlier level may sit a fraction of the limit before it (建德 三(三): orange 1/6 before
red) or at its own duration. The clock stops when the target step is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from ..models import LEVEL_RANK
from ..pack import deadline_plan
from ..packspec import Anchor, DeadlineRule, Target
from . import Episode

if TYPE_CHECKING:
    from ..facts import Facts
    from ..packspec import Rule


_Ref = TypeVar("_Ref", Anchor, Target)


class MissingInvestment(Exception):
    """The rule's limit depends on investment_wan and the project gives none."""


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, DeadlineRule)
    if rule.for_each_step is None:
        return _episodes(rule, facts, rule.anchor, rule.target, None)
    out: list[Episode] = []
    memo = facts.pack.memo
    for step in rule.for_each_step:
        refs = memo.get(("for_each", f"{rule.id}\x00{step}"))
        if refs is None:
            refs = memo[("for_each", f"{rule.id}\x00{step}")] = (_for(rule.anchor, step),
                                                                 _for(rule.target, step))
        out += _episodes(rule, facts, refs[0], refs[1], step)
    return out


def _for(ref: _Ref, step: str) -> _Ref:
    """``ref`` with ``"*"`` replaced by ``step``."""
    fields = {k: step for k in ("step_completed", "step_started") if getattr(ref, k) == "*"}
    return ref.model_copy(update=fields) if fields else ref


def _episodes(rule: DeadlineRule, facts: Facts, anchor_ref: Anchor, target_ref: Target,
              each: str | None) -> list[Episode]:
    anchor = facts.anchor_date(anchor_ref)
    if anchor is None or anchor > facts.as_of:
        return []
    cleared = facts.target_date(target_ref)
    if cleared is not None and cleared <= anchor:
        return []
    pack = facts.pack
    plan = deadline_plan(pack, rule)
    if len(plan) == 1:
        band = plan[0]
    else:
        inv = facts.history.project.investment_wan
        if inv is None:
            raise MissingInvestment(rule.id)
        band = next(b for b in plan if b.below is None or inv < b.below)
    levels = tuple([(lv, at(anchor)) for lv, at in band.levels])
    if not band.ordered:
        levels = tuple(sorted(levels, key=lambda p: (p[1], LEVEL_RANK[p[0]])))
    target = target_ref.step_completed or target_ref.step_started
    assert target is not None
    step = pack.step_of[target]
    subject = pack.step_of[each] if each is not None else (rule.subject or step)
    return [
        Episode(
            subject=subject,
            anchor=anchor,
            levels=levels,
            due=band.due(anchor),
            cleared=cleared,
            stage=facts.stage_at(anchor),
            step=step,
            info={"limit": band.limit},
        )
    ]
