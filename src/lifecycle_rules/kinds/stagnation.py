"""停滞 (stagnation): no progress for a duration while the project is in given stages.

The clock starts at the last progress event, or at the stage's start if none (SPEC §5:
last progress 03-15 and 2 months -> reached 05-16). Each silence is its own episode,
keyed by its anchor date; progress clears it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lifecycle_rules.core.dates import crossing
from lifecycle_rules.core.explain_model import LevelRule
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.kinds.episode import Episode, LevelDays, level_days
from lifecycle_rules.pack import checks, words
from lifecycle_rules.pack.parts import Duration, RuleBase

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.compile import Pack


class StagnationRule(RuleBase):
    """停滞: no progress for a duration while the project is in one of ``stages``."""

    kind: Literal["stagnation"]
    stages: list[str] = Field(min_length=1)
    progress: list[str] = ["progress", "step_started", "step_completed"]  # noqa: RUF012 (pydantic copies defaults)
    levels: dict[Level, Duration] = Field(min_length=1)


Model = StagnationRule


def check(pack: Pack, rule: StagnationRule, path: str) -> None:
    checks.stages(pack, f"{path}.stages", rule.stages)
    for t in rule.progress:
        if t not in pack.event_types:
            raise checks.err(f"{path}.progress", f"unknown event type {t!r}")
    checks.ordered(path, {lv: pack.duration(d) for lv, d in rule.levels.items()})


def crossings(pack: Pack, levels: dict[Level, Duration]) -> dict[Level, Callable[[dt.date], dt.date]]:
    """Each level's clock, compiled once per pack: anchor -> the day the level is reached."""
    out: dict[Level, Callable[[dt.date], dt.date]] = {}
    for lv, d in levels.items():
        th = pack.duration(d)
        out[lv] = crossing(th.unit, th.value, pack.calendar)
    return out


@dataclass(frozen=True, slots=True)
class StagnationClock:
    rule: StagnationRule
    clocks: dict[Level, Callable[[dt.date], dt.date]]
    levels_at: Callable[[dt.date], LevelDays]  # level_days(clocks)

    def __call__(self, facts: Facts, notices: list[str]) -> list[Episode]:
        rule, levels_at = self.rule, self.levels_at
        wanted = set(rule.stages)
        # Adjacent spans in watched stages form one watched stretch: entering the next watched
        # stage is itself a step event, so the clock restarts there anyway.
        stretches: list[tuple[dt.date, dt.date | None]] = []
        for span in facts.spans:
            if span.stage not in wanted:
                continue
            if stretches and stretches[-1][1] == span.start:
                stretches[-1] = (stretches[-1][0], span.end)
            else:
                stretches.append((span.start, span.end))
        if not stretches:
            return []
        kinds = set(rule.progress)
        progress = sorted({e.date for _, e in facts.events if e.type in kinds})
        out: list[Episode] = []
        for start, end in stretches:
            anchors = [start] + [d for d in progress if start < d and (end is None or d < end)]
            for i, anchor in enumerate(anchors):
                nxt = anchors[i + 1] if i + 1 < len(anchors) else end
                levels = levels_at(anchor)
                if nxt is not None and levels[0][1] > nxt:
                    continue
                if levels[0][1] > facts.as_of:
                    continue
                stage = facts.stage_at(anchor)
                out.append(Episode(
                    subject=rule.subject or (stage or ""),
                    anchor=anchor,
                    levels=levels,
                    due=None,
                    cleared=nxt,
                    stage=stage,
                    keyed_by_anchor=True,
                ))
        return out


def compile(pack: Pack, rule: StagnationRule) -> StagnationClock:
    clocks = crossings(pack, dict(rule.levels))
    return StagnationClock(rule, clocks, level_days(clocks))


def measures(rule: StagnationRule) -> str:
    return f"no {', '.join(rule.progress)} event while in stage {' or '.join(rule.stages)}"


def levels_in_words(pack: Pack, rule: StagnationRule) -> str:
    return words.duration_levels(pack, dict(rule.levels), "without progress")


# -- explained (``core/explain``): each silence the clock saw, raised or not ---------------------


@dataclass(frozen=True)
class SilenceTrace:
    """One silence in the watched stages: from the stretch's start or a progress event to the
    next progress (or leaving the stages); ``why_none`` says why it raised no episode."""

    start: dt.date
    stage: str | None
    started_by: int | None  # the progress event that restarted the clock (None: the stretch's start)
    end: dt.date | None
    ended_by: int | None  # the progress event that ended it (None: the stages left, or still silent)
    levels: tuple[LevelRule, ...]
    why_none: Literal["progress_before_first_level", "first_level_after_as_of"] | None


def explain(pack: Pack, rule: StagnationRule, facts: Facts) -> list[SilenceTrace]:
    """Every silence of the watched stretches, by the compiled clock's level days."""
    clock = pack.clocks[pack.rule_order[rule.id]]
    assert isinstance(clock, StagnationClock)
    wanted = set(rule.stages)
    stretches: list[tuple[dt.date, dt.date | None]] = []
    for span in facts.spans:
        if span.stage in wanted:
            if stretches and stretches[-1][1] == span.start:
                stretches[-1] = (stretches[-1][0], span.end)
            else:
                stretches.append((span.start, span.end))
    kinds = set(rule.progress)
    first_event: dict[dt.date, int] = {}
    for i, e in facts.events:
        if e.type in kinds:
            first_event.setdefault(e.date, i)
    out: list[SilenceTrace] = []
    for start, end in stretches:
        anchors = [start] + [d for d in sorted(first_event) if start < d and (end is None or d < end)]
        for k, anchor in enumerate(anchors):
            nxt = anchors[k + 1] if k + 1 < len(anchors) else end
            days = sorted(((lv, at(anchor)) for lv, at in clock.clocks.items()),
                          key=lambda p: (p[1], LEVEL_RANK[p[0]]))
            why: Literal["progress_before_first_level", "first_level_after_as_of"] | None = None
            if nxt is not None and days[0][1] > nxt:
                why = "progress_before_first_level"
            elif days[0][1] > facts.as_of:
                why = "first_level_after_as_of"
            levels = tuple(LevelRule(lv, "duration", pack.duration(rule.levels[lv]), reached_on=d)
                           for lv, d in sorted(days, key=lambda p: LEVEL_RANK[p[0]]))
            ended_by = first_event[anchors[k + 1]] if k + 1 < len(anchors) else None
            out.append(SilenceTrace(anchor, facts.stage_at(anchor), first_event[anchor] if k else None, nxt,
                                    ended_by, levels, why))
    return out
