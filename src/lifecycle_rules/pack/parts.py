"""The pieces of the pack format that every rule kind shares: conditions, durations,
limits, anchors and targets, level definitions, and ``RuleBase``. Each rule kind's own
model lives in its module under ``kinds/``; ``spec`` assembles the whole ``pack.yaml``."""

from __future__ import annotations

import string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from lifecycle_rules.core.vocabulary import Level, Sector

# strict: a pack author gets what they wrote or an error: true is not 1, "3" is not 3.
_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

Number = Annotated[
    int | float | str,
    Field(description="a number, a fraction like '1/6', or '$name' of a pack parameter"),
]

MESSAGE_FIELDS = frozenset(
    {
        "project_id", "project_name", "project", "region", "subject", "level_name", "action",
        "since", "due", "anchor", "stage", "limit", "count", "title", "period",
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
        # Field names only: a format spec ({project_name:>300000000}) or a conversion
        # would take its effect from project data, and attribute or index access
        # ({project_name.x}) reaches into objects; none has a use in a clerk's sentence.
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"bad message template: {exc}") from None
        for _, name, spec, conversion in parts:
            if name is not None and (spec or conversion):
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                raise ValueError(f"placeholder {shown[:60]!r}: only field names are allowed, as {{{name}}} "
                                 "(no format spec, no conversion)")
        names = {name for _, name, _, _ in parts if name is not None}
        unknown = names - MESSAGE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(MESSAGE_FIELDS)}"
            )
        return value


