"""The trace ``explain`` returns (``core/explain.py``): why a warning fired, or did not,
on a day. Frozen values; ``to_dict()`` gives the JSON of ``docs/explain.md``.

Exact numbers (thresholds, fractions, elapsed months) are written as strings of exact
fractions (``"75"``, ``"250/3"``), dates as ISO strings; a day in a year whose working-day
schedule is not known (``core.dates.Undated``) has no date and is written as null.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel

from lifecycle_rules.core.dates import Threshold, Undated, Unit
from lifecycle_rules.core.results import ProjectWarning
from lifecycle_rules.core.vocabulary import Level, Status


def plain(value: Any) -> Any:
    """A trace value as JSON: dataclasses as objects (fields in order), dates ISO (an
    undated day null), exact fractions as strings, tuples as lists, warnings as SPEC §4 rows."""
    if isinstance(value, Undated):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, ProjectWarning):
        return value.to_dict()
    if isinstance(value, BaseModel):  # a piece of the pack (an anchor, a target), as written
        return value.model_dump(mode="json", exclude_none=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    raise TypeError(f"no JSON for {type(value).__name__}")


# -- pieces the rule kinds give (``kinds/<kind>.explain``) ----------------------------------------


@dataclass(frozen=True)
class EventSeen:
    """An event a clock could start from (or stop at), and whether it was the one taken."""

    event: int  # its index in the history's events (0 = the first)
    date: dt.date
    type: str
    step: str  # as the history names it
    role: Literal["chosen", "passed_over", "after_as_of"]


@dataclass(frozen=True)
class LevelRule:
    """How a level's threshold is set, and the day it is reached from the clock's start."""

    level: Level
    how: Literal["limit", "before_limit", "duration", "count"]
    threshold: Threshold | None = None  # in the rule's unit (None for a count)
    fraction: Fraction | None = None  # before_limit: the fraction of the limit
    limit: Threshold | None = None  # before_limit: the limit it is taken from
    count: int | None = None  # count: the number of months it takes
    reached_on: dt.date | None = None  # from the clock's start (None: no start, or a count)


# -- the trace ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionCheck:
    """One key of a condition (a rule's ``when``, the pack's ``scope``) against the project."""

    key: str  # sectors, exclude_sectors, in_development_zone, investment_wan, stages, attributes.NAME
    wants: str  # in words
    has: str  # the project's value, in words
    holds: bool


@dataclass(frozen=True)
class LevelTrace:
    """A level of one warning: its threshold (how it is set, with the arithmetic's terms),
    the day it comes, and whether it came."""

    level: Level
    name: str  # the pack's (or the rule's) local name: 红灯预警
    how: Literal["limit", "before_limit", "duration", "count"]
    threshold: Threshold | None  # in the rule's unit (None for a count)
    fraction: Fraction | None  # before_limit: the fraction of the limit
    limit: Threshold | None  # before_limit: the limit it is taken from
    count: int | None  # count: the number of months it takes
    ordinal: int | None  # day N, the N-th working day, the N-th month counted (None for months)
    day: dt.date | None  # the day it is reached (null: undated, or not known)
    reached: bool  # by as_of, and not after the clock stopped

    def rule(self) -> LevelRule:
        return LevelRule(self.level, self.how, self.threshold, self.fraction, self.limit, self.count, self.day)


@dataclass(frozen=True)
class Elapsed:
    """Time elapsed from the clock's start, in one unit, on ``on`` (as_of, or the day the
    clock stopped if that came first)."""

    unit: Unit
    on: dt.date
    stopped: bool  # ``on`` is the day the clock stopped
    value: Fraction | None  # None: it runs into a year whose schedule is not known
    counted: tuple[dt.date, ...] = ()  # working days: the days counted (up to the last level)
    makeup: tuple[dt.date, ...] = ()  # working days: weekend days counted (调休上班)
    holidays: tuple[dt.date, ...] = ()  # working days: days of the official holidays skipped
    unknown_from: dt.date | None = None  # working days: the first day of a year not known
    at_least: int | None = None  # working days: those counted before it (value is null then)


@dataclass(frozen=True)
class Answer:
    """A disposition or extension of the warning (or of the whole project), and its effect."""

    event: int
    date: dt.date
    type: Literal["disposition", "extension"]
    action: str | None
    until: dt.date | None
    project_wide: bool
    effect: Literal["closed", "cycle_started", "cycle_kept", "extended", "ignored"]
    note: str | None  # why it was ignored (the engine's notice), if it was
    status: Status | None  # the warning's status after it


@dataclass(frozen=True)
class SignoffTrace:
    """Where the warning stands in its sign-off cycle (预警办理与销号)."""

    answers: tuple[Answer, ...]
    stop: dt.date | None  # the clock stopped (condition cleared or project exited), by as_of
    stop_why: Literal["cleared", "exited"] | None
    cycle_days: int | None
    overdue_after_pushes: int | None
    cycle_start: dt.date | None  # the answer 正在办理 that started the current cycle
    push_days: tuple[dt.date, ...]  # the cycle's pushes (every cycle_days), up to the last counted
    overdue_from: dt.date | None  # the first day past the last push (销号超时 without an extension)
    extended_to: dt.date | None  # the latest extension in force
    renewed_on: dt.date | None  # a higher level made it a new platform warning that day (earlier answers spent)
    status: Status
    pushes: int
    closed_on: dt.date | None


@dataclass(frozen=True)
class Severity:
    """A problem_reported judgement that lifts the warning's tier (建德 三(五))."""

    event: int
    date: dt.date
    severity: str
    tier: int
    project_wide: bool


@dataclass(frozen=True)
class Counted:
    """A warning of the project counted for the tier: the day it reached the ladder's level."""

    day: dt.date
    key: str


@dataclass(frozen=True)
class TierTrace:
    """协调层级: the count of the project's warnings at the ladder's level, the severities,
    and the route whose units convene."""

    counts: Level  # the level the ladder counts (red)
    counts_name: str  # its local name: 红灯预警
    counted: tuple[Counted, ...]  # every warning that reached it (closed ones too), in order
    position: int | None  # this warning's place among them (when it is at that level or above)
    by_count: int  # the tier by the count, before the cap
    max_tier: int
    severities: tuple[Severity, ...]
    tier: int  # the tier (as evaluate gives it)
    route: int  # index in ladder.routes of the first route that matches
    route_words: str  # the route's condition in words: 工业
    route_units: tuple[str, ...]


@dataclass(frozen=True)
class UnitSource:
    """One responsible unit and the entry of the pack that put it there."""

    unit: str
    source: Literal["route", "level", "project_unit", "stage", "step"]
    path: str  # where in pack.yaml: ladder.routes[2].tiers[1], project_unit[1], stages[1].responsible[1] ...
    name: str  # the route's words, the level's name, the stage's or the step's name
    first: bool  # the first entry naming the unit (later ones are duplicates, dropped)


@dataclass(frozen=True)
class WarningTrace:
    """One episode of a rule (a subject's clock) and what became of it on as_of."""

    key: str
    subject: str
    stage: str | None
    anchor: dt.date  # where the clock starts (anchor, silence start, due day, first filing)
    due: dt.date | None
    levels: tuple[LevelTrace, ...]
    elapsed: tuple[Elapsed, ...]
    cleared: dt.date | None  # the condition cleared (step done, progress, filing, correction)
    cleared_by: str | None  # what cleared it, in words: 开工监管 完成, 有新进展, 已报送 ...
    outcome: Literal["warning", "closed", "not_reached", "stage", "undecided"]
    why: str  # in words (Chinese)
    signoff: SignoffTrace | None
    tier: TierTrace | None
    units: tuple[UnitSource, ...]
    calendar: str | None  # the calendar notice, when a day falls in a year not known
    verdict: ProjectWarning | None  # the warning evaluate gives (include_closed), if any


@dataclass(frozen=True)
class RuleTrace:
    """One rule of the pack on this project and day."""

    rule: str
    title: str
    kind: str
    clause: str
    cited: str  # the clause with the policy's document number: 建政办函〔2024〕22号 五.2
    applies: bool
    when: tuple[ConditionCheck, ...]
    inactive: tuple[str, ...]  # the parameters it waits for (no default, not set)
    outcome: Literal["warning", "closed", "none", "not_applicable", "inactive", "undecided"]
    why: str  # in words (Chinese); never empty
    warnings: tuple[WarningTrace, ...]
    details: tuple[Any, ...]  # the kind's own trace items (``kinds/<kind>.explain``)


@dataclass(frozen=True)
class Explanation:
    """Why each warning of one project fired, or did not, on ``as_of``."""

    project_id: str
    project_name: str
    as_of: dt.date
    pack: str  # id@version
    pack_digest: str  # what the pack decides with (SPEC §4), as evaluate's rows carry it
    document: str  # the policy's document number (or title)
    in_scope: bool
    scope: tuple[ConditionCheck, ...]
    scope_clause: str | None
    rules: tuple[RuleTrace, ...]
    notices: tuple[str, ...]
    unknown_years: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(self)
        return out

    def warnings(self) -> list[ProjectWarning]:
        """Every warning the trace holds, closed ones included, in evaluate's order."""
        return [v for r in self.rules
                for v in sorted((w.verdict for w in r.warnings if w.verdict is not None),
                                key=lambda v: (v.subject, v.key))]
