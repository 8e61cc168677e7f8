"""A project's history (SPEC §3) as frozen pydantic models, the contract: validation,
errors that name the project, event and field, and the ``*View`` protocols through
which the core reads a history (these models, or the lean structs of ``lean``)."""

from __future__ import annotations

import datetime as dt
import json
import reprlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from lifecycle_rules.core.dates import iso_week_of, month_of
from lifecycle_rules.core.vocabulary import FIRST_DAY, LAST_DAY, Action, Limits, Sector
from lifecycle_rules.errors import HistoryError

# Unknown fields are kept aside and reported as notices by evaluate(), not fatal: an
# export may carry columns of its own. Known fields are validated strictly.
_FROZEN = ConfigDict(frozen=True, extra="allow", str_strip_whitespace=True)


class Project(BaseModel):
    """项目: who the project is. ``attributes`` holds pack-specific facts (e.g. 技术改造)."""

    model_config = _FROZEN

    id: str = Field(min_length=1, max_length=Limits.ID)
    name: str = Field(default="", max_length=Limits.NAME)
    sector: Sector = "other"
    in_development_zone: bool = False
    investment_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    region: str = Field(default="", max_length=Limits.REGION)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)


def _date_only(value: Any) -> Any:
    # Dates only (days in Asia/Shanghai): no timestamps, no numbers read as epoch seconds.
    if isinstance(value, str):
        if len(value) > 10 and value[10:11] in ("T", " "):
            raise ValueError("expected a date like 2024-07-02, not a timestamp")
    elif not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError("expected a date like 2024-07-02")
    return value


def _in_range(value: dt.date) -> dt.date:
    # Clocks add months and years to dates: keep far from date.max, and from typos like 0024.
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a date between {FIRST_DAY} and {LAST_DAY} is expected")
    return value


# A day of a history: an ISO date (or a date), in 1900-2199; never a timestamp or a number.
Day = Annotated[dt.date, BeforeValidator(_date_only), AfterValidator(_in_range)]


class Plan(BaseModel):
    """计划: the schedule's dates."""

    model_config = _FROZEN

    start: Day | None = None
    completion: Day | None = None
    production: Day | None = None



class Event(BaseModel):
    """One dated event of a project's history."""

    model_config = _FROZEN

    date: Day
    type: str = Field(min_length=1, max_length=Limits.TYPE, pattern=Limits.TYPE_PATTERN)
    step: str | None = Field(default=None, min_length=1, max_length=Limits.STEP)
    period: str | None = Field(default=None, max_length=Limits.PERIOD)
    planned_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    actual_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    compliant: bool | None = None
    warning: str | None = Field(default=None, min_length=1, max_length=Limits.WARNING_KEY)
    action: Action | None = None
    until: Day | None = None
    note: str | None = Field(default=None, max_length=Limits.NOTE)
    source: str | None = Field(default=None, max_length=Limits.SOURCE)
    severity: str | None = Field(default=None, min_length=1, max_length=Limits.SEVERITY)



# What the core reads of a history. The pydantic models above satisfy these, and so do
# the lean structs the batch path decodes into (``structs``): same names, same values.
class ProjectView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sector(self) -> str: ...
    @property
    def in_development_zone(self) -> bool: ...
    @property
    def investment_wan(self) -> float | None: ...
    @property
    def region(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, str | int | float | bool]: ...


class PlanView(Protocol):
    @property
    def start(self) -> dt.date | None: ...
    @property
    def completion(self) -> dt.date | None: ...
    @property
    def production(self) -> dt.date | None: ...


class EventView(Protocol):
    @property
    def date(self) -> dt.date: ...
    @property
    def type(self) -> str: ...
    @property
    def step(self) -> str | None: ...
    @property
    def period(self) -> str | None: ...
    @property
    def planned_wan(self) -> float | None: ...
    @property
    def actual_wan(self) -> float | None: ...
    @property
    def compliant(self) -> bool | None: ...
    @property
    def warning(self) -> str | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def until(self) -> dt.date | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def severity(self) -> str | None: ...


class HistoryView(Protocol):
    @property
    def project(self) -> ProjectView: ...
    @property
    def plan(self) -> PlanView: ...
    @property
    def events(self) -> Sequence[EventView]: ...


def check_event(e: EventView) -> None:
    """The fields each event type needs (one pass from History: cheaper than a pydantic
    validator per event on the batch path; ``structs`` runs it too)."""
    t = e.type
    if t in ("step_started", "step_completed") and e.step is None:
        raise _missing("step", t)
    if t == "monthly_report":
        if e.period is None:
            raise _missing("period", t)
        try:
            month_of(e.period)
        except ValueError as exc:
            raise _field_error("period", str(exc)) from None
        if e.compliant is not False:
            for name in ("planned_wan", "actual_wan"):
                if getattr(e, name) is None:
                    raise _missing(name, t)
    elif t == "weekly_report":
        if e.period is None:
            raise _missing("period", t)
        try:
            iso_week_of(e.period)
        except ValueError as exc:
            raise _field_error("period", str(exc)) from None
    elif t == "disposition":
        if e.warning is None:
            raise _missing("warning", t)
        if e.action is None:
            raise _missing("action", t)
    # Without a warning key, an extension (延期) covers all the project's warnings.
    elif t == "extension" and e.until is None:
        raise _missing("until", t)
    elif t == "problem_reported" and e.severity is None:
        raise _missing("severity", t)


class FieldProblem(ValueError):
    def __init__(self, field: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.index = index


def _missing(field: str, event_type: str) -> FieldProblem:
    return FieldProblem(field, f"a {event_type} event needs {field!r}")


def _field_error(field: str, message: str) -> FieldProblem:
    return FieldProblem(field, message)


class History(BaseModel):
    """A project's attributes, plan and dated events (SPEC §3)."""

    model_config = _FROZEN

    project: Project
    plan: Plan = Field(default_factory=Plan)
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _events_of_type(self) -> History:
        for i, e in enumerate(self.events):
            if e.type in TYPED_EVENTS:
                try:
                    check_event(e)
                except FieldProblem as problem:
                    problem.index = i
                    raise
        return self


TYPED_EVENTS = frozenset({"step_started", "step_completed", "monthly_report", "weekly_report",
                    "disposition", "extension", "problem_reported"})


def parse_history(data: History | Mapping[str, Any] | str | bytes) -> History:
    """A History from a model, a dict or JSON text; errors name project, event and field."""
    if isinstance(data, History):
        return data
    try:
        if isinstance(data, str | bytes):
            return History.model_validate_json(data)
        return History.model_validate(data)
    except ValidationError as exc:
        raise _history_error(data, exc) from None


def _project_id_of(data: object) -> str | None:
    if isinstance(data, str | bytes):
        # Only on the error path: parse once more to name the project in the error.
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None
    if isinstance(data, Mapping):
        project = data.get("project")
        if isinstance(project, Mapping):
            pid = project.get("id")
            return None if pid is None else _short(str(pid))
    return None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 3


def _history_error(data: object, exc: ValidationError) -> HistoryError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    event_index: int | None = None
    field: str | None = None
    if loc[:1] == ("events",) and len(loc) >= 2 and isinstance(loc[1], int):
        event_index = loc[1]
        field = ".".join(str(p) for p in loc[2:]) or None
    else:
        field = ".".join(str(p) for p in loc) or None
    message = str(err.get("msg", "invalid"))
    ctx = err.get("ctx") or {}
    problem = ctx.get("error") if isinstance(ctx, dict) else None
    if isinstance(problem, FieldProblem):
        field = problem.field
        message = str(problem)
        if problem.index is not None:
            event_index = problem.index
    else:
        message = message.removeprefix("Value error, ")
        if "input" in err and err["type"] != "missing" and field:
            shown = _short(_REPR.repr(err["input"]))
            message = f"{message} (got {shown})"
    more = exc.error_count() - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    pid = _project_id_of(data)
    return HistoryError(message, project_id=pid, event_index=event_index, field=field)


