"""The rule-pack format: pydantic models of ``pack.yaml``.

These models are the format's reference: ``lifecycle-rules schema`` writes their JSON
Schema for editors, and ``docs/pack-format.md`` explains each key. A pack is data; the
engine gives it meaning (``pack.py`` compiles it, ``kinds/`` evaluates each rule kind).
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from lifecycle_rules.core.vocabulary import Action, Level, Sector

# strict: a pack author gets what they wrote or an error: true is not 1, "3" is not 3.
_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

Number = Annotated[
    int | float | str,
    Field(description="a number, a fraction like '1/6', or '$name' of a pack parameter"),
]

MESSAGE_FIELDS = frozenset(
    {
        "project_id", "project_name", "region", "subject", "level_name", "action",
        "since", "due", "anchor", "stage", "limit", "count", "title",
    }
)
MILESTONES = ("签约", "落地", "开工", "竣工", "投产", "达产")


def _exactly_one(model: BaseModel, keys: tuple[str, ...]) -> None:
    given = [k for k in keys if getattr(model, k) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(keys)}")


class Range(BaseModel):
    """A range of an amount in 万元: ``min`` inclusive, ``below`` exclusive."""

    model_config = _STRICT
    min: float | None = None
    below: float | None = None


class Condition(BaseModel):
    """Applicability (适用范围): every key given must hold."""

    model_config = _STRICT
    sectors: list[Sector] | None = None
    exclude_sectors: list[Sector] | None = None
    in_development_zone: StrictBool | None = None
    investment_wan: Range | None = None
    stages: list[str] | None = Field(
        default=None,
        description="the project's stage is one of these: for a rule, the stage its episode "
        "belongs to (deadline: at the anchor; stagnation: when the silence began; shortfall: "
        "when the first level was reached; cadence: the stage the period was owed in); "
        "for a route or an assignment, the warning's stage. Not allowed in scope.",
    )
    attributes: dict[str, str | int | float | StrictBool] | None = None


class Assignment(BaseModel):
    """Units that act, when the condition holds (first match wins)."""

    model_config = _STRICT
    when: Condition | None = None
    units: list[str] = Field(min_length=1)


def _assignments(value: Any) -> Any:
    # A plain list of unit names is the unconditional assignment.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [{"units": value}] if value else []
    return value


class LevelDef(BaseModel):
    """A level's local name (黄灯预警 ...), the action it triggers (提示函, 督办 ...) and the
    units it goes to at that level, whatever the tier (同江: the letter is copied to the
    city leader in charge; supervision goes to the party committee and government)."""

    model_config = _STRICT
    name: str
    action: str = ""
    units: list[str] = []


class Parameter(BaseModel):
    """A value the policy does not publish: a stated default a deployment may override."""

    model_config = _STRICT
    default: int | float | str
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
    clause: str
    reading: str | None = None

    @model_validator(mode="after")
    def _tiers_complete(self) -> Ladder:
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
    clause: str | None = None
    reading: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Signoff:
        if (self.cycle_days is None) != (self.overdue_after_pushes is None):
            raise ValueError("cycle_days and overdue_after_pushes go together")
        return self


class Duration(BaseModel):
    """Exactly one of days, working_days, months."""

    model_config = _STRICT
    days: Number | None = None
    working_days: Number | None = None
    months: Number | None = None

    @model_validator(mode="after")
    def _one(self) -> Duration:
        _exactly_one(self, ("days", "working_days", "months"))
        return self


class Band(Duration):
    """One investment band of a limit: applies while investment_wan < ``below``."""

    below: float | None = Field(default=None, description="exclusive upper bound in 万元")


class Limit(BaseModel):
    """A deadline's red limit: one duration, or bands by investment (万元)."""

    model_config = _STRICT
    days: Number | None = None
    working_days: Number | None = None
    months: Number | None = None
    by_investment: list[Band] | None = None

    @model_validator(mode="after")
    def _one(self) -> Limit:
        _exactly_one(self, ("days", "working_days", "months", "by_investment"))
        if self.by_investment is not None:
            bands = self.by_investment
            if not bands or bands[-1].below is not None:
                raise ValueError("the last band must have no 'below' (it takes the rest)")
            bounds = [b.below for b in bands[:-1]]
            if any(b is None for b in bounds) or bounds != sorted(bounds):  # type: ignore[type-var]
                raise ValueError("bands must have increasing 'below' bounds")
        return self


class EarlyLevel(BaseModel):
    """A level some fraction of the red limit before it (``1/6``: orange at 75 of 90 days),
    or at its own duration from the anchor."""

    model_config = _STRICT
    before_limit: Number | None = None
    days: Number | None = None
    working_days: Number | None = None
    months: Number | None = None

    @model_validator(mode="after")
    def _one(self) -> EarlyLevel:
        _exactly_one(self, ("before_limit", "days", "working_days", "months"))
        return self


class Anchor(BaseModel):
    """Where a clock starts: a step completed or started, a stage entered, or a plan date."""

    model_config = _STRICT
    step_completed: str | None = None
    step_started: str | None = None
    stage_entered: str | None = None
    plan: Literal["start", "completion", "production"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Anchor:
        _exactly_one(self, ("step_completed", "step_started", "stage_entered", "plan"))
        return self


class Target(BaseModel):
    """What ends a deadline's clock: a step completed (or started)."""

    model_config = _STRICT
    step_completed: str | None = None
    step_started: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        _exactly_one(self, ("step_completed", "step_started"))
        return self


class RuleBase(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=80)
    clause: str = Field(min_length=1, description="the policy clause, e.g. 'jiande-2024.txt 五.2'")
    title: str = Field(min_length=1, description="short Chinese name of the rule")
    message: str = Field(min_length=1, description="Chinese sentence template; {fields} allowed")
    when: Condition | None = None
    reading: str | None = Field(default=None, description="how the pack reads a vague clause")
    level_overrides: dict[Level, LevelDef] = Field(
        default={},
        description="this rule's own name, action and units for a level, replacing the pack's "
        "(a clock whose miss is not the pack's 督办, say)",
    )
    quote: str | None = Field(default=None, description="the clause's own words, in Chinese")
    summary: str | None = Field(default=None, description="what the rule does, in English")
    subject: str | None = None

    @field_validator("message")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"bad message template: {exc}") from None
        unknown = names - MESSAGE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(MESSAGE_FIELDS)}"
            )
        return value


class DeadlineRule(RuleBase):
    """期限: from an anchor to a limit; levels at thresholds, cleared when the target is done.

    With ``for_each_step``, the rule runs once per listed step (its subject), and ``"*"``
    in ``anchor`` or ``target`` stands for that step (江阴: each approval item)."""

    kind: Literal["deadline"]
    anchor: Anchor
    target: Target
    limit: Limit
    levels: dict[Level, Literal["limit"] | EarlyLevel]
    for_each_step: list[str] | None = Field(
        default=None, min_length=1, description="run once per step; '*' in anchor/target is the step"
    )

    @model_validator(mode="after")
    def _red_is_limit(self) -> DeadlineRule:
        limits = [lv for lv, spec in self.levels.items() if spec == "limit"]
        if len(limits) != 1:
            raise ValueError("exactly one level must be 'limit' (the level reached at the limit)")
        return self


class StagnationRule(RuleBase):
    """停滞: no progress for a duration while the project is in one of ``stages``."""

    kind: Literal["stagnation"]
    stages: list[str] = Field(min_length=1)
    progress: list[str] = ["progress", "step_started", "step_completed"]
    levels: dict[Level, Duration] = Field(min_length=1)


class ShortfallRule(RuleBase):
    """投资未达序时 / 月调度不符合要求: monthly reports counted, level by count."""

    kind: Literal["shortfall"]
    stages: list[str] | None = None
    counts: Literal["shortfall", "noncompliant"] = "shortfall"
    counting: Literal["cumulative", "consecutive"] = "cumulative"
    report: str = "monthly_report"
    levels: dict[Level, int] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 1 for v in value.values()):
            raise ValueError("counts must be 1 or more")
        return value


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
    levels: dict[Level, Duration] = Field(min_length=1)


Rule = Annotated[
    DeadlineRule | StagnationRule | ShortfallRule | CadenceRule, Field(discriminator="kind")
]


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
    """A sum of one amount over the reports whose period falls in the rate's window (the
    last report of a period counts: a correction replaces it)."""

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
    not_encoded: list[NotEncoded] = Field(
        default=[], description="clauses read and deliberately left out, each with its reason"
    )

    _unify = field_validator("project_unit", mode="before")(
        classmethod(lambda cls, v: _assignments(v))
    )
