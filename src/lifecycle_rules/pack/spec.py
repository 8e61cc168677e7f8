"""The rule-pack format: pydantic models of ``pack.yaml``.

These models are the format's reference: ``lifecycle-rules schema`` writes their JSON
Schema for editors, and ``docs/pack-format.md`` explains each key. A pack is data; the
engine gives it meaning (``pack.py`` compiles it, ``kinds/`` evaluates each rule kind).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from lifecycle_rules.core.vocabulary import Action, Level
from lifecycle_rules.kinds import REGISTRY
from lifecycle_rules.kinds.cadence import CadenceRule
from lifecycle_rules.kinds.deadline import DeadlineRule
from lifecycle_rules.kinds.shortfall import ShortfallRule
from lifecycle_rules.kinds.stagnation import StagnationRule
from lifecycle_rules.pack.parts import (
    _STRICT,
    MESSAGE_FIELDS,
    MILESTONES,
    Anchor,
    Assignment,
    Band,
    Condition,
    Duration,
    EarlyLevel,
    LevelDef,
    Limit,
    Number,
    Range,
    RuleBase,
    Target,
    _assignments,
    _exactly_one,
)


class Parameter(BaseModel):
    """A value the policy does not publish: a stated default a deployment may override,
    or no default (``default: null``): the rules that use it are inactive until a
    deployment sets it ("needs a limit"). Never invent a limit the policy does not give."""

    model_config = _STRICT
    default: int | float | str | None
    description: str
    reading: str | None = None


class StepDef(BaseModel):
    """环节: a step of the lifecycle, its aliases as found in exports, and who answers for it."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    aliases: list[str] = []
    responsible: list[Assignment] = []
    clause: str | None = None

    _unify = field_validator("responsible", mode="before")(classmethod(lambda cls, v: _assignments(v)))


class StageEntry(BaseModel):
    model_config = _STRICT
    completed: list[str] = []
    started: list[str] = []


class StageDef(BaseModel):
    """阶段: entered when one of the listed steps is completed (or started)."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    entered_by: StageEntry
    responsible: list[Assignment] = []
    clause: str | None = None

    _unify = field_validator("responsible", mode="before")(classmethod(lambda cls, v: _assignments(v)))


class Route(BaseModel):
    """Who convenes at each tier, for the projects the condition selects."""

    model_config = _STRICT
    when: Condition | None = None
    tiers: dict[int, list[str]]
    reading: str | None = None


class Ladder(BaseModel):
    """协调机制: tier from the count of the project's warnings at ``counts`` level."""

    model_config = _STRICT
    counts: Level = "red"
    max_tier: int = Field(default=3, ge=1, le=9)
    routes: list[Route] = Field(min_length=1)
    # Escalation by a recorded judgement (建德 三(五): 第二次预警或复杂问题 -> tier 2): a
    # problem_reported event's severity lifts a warning to the tier given here; a
    # warning's tier is the higher of its count and its severity.
    severity: dict[str, int] = {}
    severity_clause: str | None = None
    clause: str
    reading: str | None = None

    @model_validator(mode="after")
    def _tiers_complete(self) -> Ladder:
        for name, tier in self.severity.items():
            if not 1 <= tier <= self.max_tier:
                raise ValueError(f"severity {name!r}: tier {tier} is not one of 1..{self.max_tier}")
        for i, route in enumerate(self.routes):
            missing = set(range(1, self.max_tier + 1)) - set(route.tiers)
            extra = set(route.tiers) - set(range(1, self.max_tier + 1))
            if missing or extra:
                raise ValueError(
                    f"routes[{i}].tiers must have exactly tiers 1..{self.max_tier}"
                    + (f"; missing {sorted(missing)}" if missing else "")
                    + (f"; unexpected {sorted(extra)}" if extra else "")
                )
        if self.routes[-1].when is not None:
            raise ValueError("the last route must have no 'when', so every project has a route")
        return self


class Signoff(BaseModel):
    """预警办理与销号: which dispositions close a warning, cycles and overdue."""

    model_config = _STRICT
    closing_actions: list[Action] = ["no_action_needed", "completed", "project_exited"]
    closing_actions_by_level: dict[Level, list[Action]] = {}
    cycle_days: int | None = Field(default=None, ge=1)
    overdue_after_pushes: int | None = Field(default=None, ge=1)
    # A higher level reached while the warning is open or in progress: ``continues`` the
    # warning (its answer and cycle carry on), or ``reopens`` it as a new platform warning
    # (建德 三(四)2-3: open, unanswered, its own cycle from its own answer). After a
    # closure a higher level always reopens.
    higher_level: Literal["continues", "reopens"] = "continues"
    clause: str | None = None
    reading: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Signoff:
        if (self.cycle_days is None) != (self.overdue_after_pushes is None):
            raise ValueError("cycle_days and overdue_after_pushes go together")
        return self


# The rule union: each kind's model, from the registry of rule kinds (one module each
# under kinds/). The static spelling is for type checkers; tests/test_kinds.py holds it
# equal to the registry.
if TYPE_CHECKING:
    Rule = Annotated[DeadlineRule | StagnationRule | ShortfallRule | CadenceRule, Field(discriminator="kind")]
else:
    Rule = Annotated[Union[tuple(k.Model for k in REGISTRY.values())], Field(discriminator="kind")]  # noqa: UP007


class ProjectSet(BaseModel):
    """Which projects a rate counts: a step done, or a plan date, inside ``within``.

    ``within: window`` means inside the rate's window (the calendar year of ``as_of`` up
    to ``as_of`` for ``window: year``); ``within: ever`` means on or before ``as_of``."""

    model_config = _STRICT
    step_completed: str | None = None
    plan: Literal["start", "completion", "production"] | None = None
    within: Literal["window", "ever"] = "ever"

    @model_validator(mode="after")
    def _one(self) -> ProjectSet:
        _exactly_one(self, ("step_completed", "plan"))
        return self


class ReportSum(BaseModel):
    """A sum of one amount over the reports (the last report of a period counts: a
    correction replaces it): with ``window: year`` over all twelve months of as_of's year
    (no value while a reporting project lacks a month), with ``window: all`` over every
    period up to as_of."""

    model_config = _STRICT
    report: str = "monthly_report"
    field: Literal["planned_wan", "actual_wan"]


class RateDef(BaseModel):
    """A portfolio rate (江阴 一、12: 签约项目备案率 …): numerator over denominator.

    ``count``: the denominator counts the projects of ``denominator``; the numerator
    counts those of them that are also in ``numerator``. ``sum``: two report sums."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=80)
    name: str = Field(min_length=1, description="the rate's Chinese name")
    clause: str = Field(min_length=1)
    kind: Literal["count", "sum"]
    window: Literal["year", "all"] = Field(
        description="year: 1 January of as_of's year to as_of; all: everything up to as_of"
    )
    numerator: ProjectSet | ReportSum
    denominator: ProjectSet | ReportSum
    reading: str | None = None

    @model_validator(mode="after")
    def _shapes(self) -> RateDef:
        want = ProjectSet if self.kind == "count" else ReportSum
        for side in ("numerator", "denominator"):
            if not isinstance(getattr(self, side), want):
                raise ValueError(f"a {self.kind} rate's {side} is a {want.__name__}")
        return self


class CalendarYear(BaseModel):
    """The official schedule of a year chinesecalendar does not know yet."""

    model_config = _STRICT
    holidays: list[dt.date] = []
    workdays: list[dt.date] = Field(default=[], description="make-up workdays (调休上班)")
    source: str = Field(min_length=1, description="where the schedule comes from")


class PolicyRef(BaseModel):
    model_config = _STRICT
    file: str
    title: str
    issued: dt.date | None = None
    status: str = ""


class Effective(BaseModel):
    """When this version of the pack is in force (生效日期): ``from`` its first day, ``until``
    its last (both inclusive). ``null`` means the text does not state the day: no bound is
    checked on that side (``until: null``: in force until a newer version replaces it).
    ``draft: true`` marks a draft for comment (征求意见稿): it has no force of its own and
    is evaluated as the office's working rules; its dates, if stated, are still checked."""

    model_config = _STRICT
    from_: dt.date | None = Field(alias="from", description="the first day in force; null: not stated")
    until: dt.date | None = Field(description="the last day in force; null: not stated (no end)")
    draft: bool = Field(default=False, description="a draft for comment (征求意见稿): no force of its own")
    reading: str | None = None

    @model_validator(mode="after")
    def _order(self) -> Effective:
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise ValueError(f"until {self.until.isoformat()} is before from {self.from_.isoformat()}")
        return self


class NotEncoded(BaseModel):
    """A clause the pack read and deliberately does not turn into warnings, and why."""

    model_config = _STRICT
    clause: str = Field(min_length=1)
    reading: str = Field(min_length=1)


class PackSpec(BaseModel):
    """The whole ``pack.yaml``."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: str = Field(min_length=1)
    city: str
    policy: PolicyRef
    effective: Effective | None = Field(
        default=None, description="when this version is in force (from, until; null: not stated); "
        "without it, no dates are stated and none is checked")
    levels: dict[Level, LevelDef] = Field(min_length=1)
    parameters: dict[str, Parameter] = {}
    scope: Condition | None = None
    scope_clause: str | None = None
    event_types: list[str] = []
    steps: list[StepDef] = Field(min_length=1)
    milestones: dict[str, str]
    stages: list[StageDef] = []
    initial_stage: str | None = None
    project_unit: list[Assignment] = []
    ladder: Ladder | None = None
    signoff: Signoff = Signoff()
    calendar: dict[int, CalendarYear] = {}
    rules: list[Rule] = Field(min_length=1)
    rates: list[RateDef] = Field(default=[], description="portfolio rates over many projects")
    columns: dict[str, dict[str, str | bool | list[str]] | list[str]] = Field(
        default={},
        description="the pack's own column synonyms for exports, in the sections of the default "
        "column mapping (io/readers/columns.yaml: project, plan, milestones, events, ignored, "
        "sectors ...): laid over the default, under a run's --mapping",
    )
    not_encoded: list[NotEncoded] = Field(
        default=[], description="clauses read and deliberately left out, each with its reason"
    )

    _unify = field_validator("project_unit", mode="before")(
        classmethod(lambda cls, v: _assignments(v))
    )


__all__ = [  # what other modules import from here, the kinds' models and shared parts included
    "MESSAGE_FIELDS",
    "MILESTONES",
    "Anchor",
    "Assignment",
    "Band",
    "CadenceRule",
    "CalendarYear",
    "Condition",
    "DeadlineRule",
    "Duration",
    "EarlyLevel",
    "Effective",
    "Ladder",
    "LevelDef",
    "Limit",
    "NotEncoded",
    "Number",
    "PackSpec",
    "Parameter",
    "PolicyRef",
    "ProjectSet",
    "Range",
    "RateDef",
    "ReportSum",
    "Route",
    "Rule",
    "RuleBase",
    "ShortfallRule",
    "Signoff",
    "StageDef",
    "StageEntry",
    "StagnationRule",
    "StepDef",
    "Target",
]
