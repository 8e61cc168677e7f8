"""Frozen value objects: a project's history (input, SPEC §3) and the warnings that
stand on a day (output, SPEC §4)."""

from __future__ import annotations

import datetime as dt
import json
import reprlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .dates import iso_week_of, month_of, parse_iso_date
from .errors import HistoryError, LifecycleRulesError

Sector = Literal[
    "industrial",
    "commercial_residential",
    "government",
    "energy",
    "infrastructure",
    "livelihood",
    "other",
]
Level = Literal["yellow", "orange", "red"]
LEVELS: tuple[Level, ...] = ("yellow", "orange", "red")
LEVEL_RANK: dict[str, int] = {"yellow": 1, "orange": 2, "red": 3}
Status = Literal["open", "in_progress", "closed", "closure_overdue"]
Action = Literal["no_action_needed", "in_progress", "completed", "project_exited"]

# Event types every pack understands; packs may declare more.
CORE_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "step_started",
        "step_completed",
        "progress",
        "monthly_report",
        "weekly_report",
        "disposition",
        "extension",
        "project_exited",
    }
)

# Unknown fields are kept aside and reported as notices by evaluate(), not fatal: an
# export may carry columns of its own. Known fields are validated strictly.
_FROZEN = ConfigDict(frozen=True, extra="allow", str_strip_whitespace=True)


class Project(BaseModel):
    """项目: who the project is. ``attributes`` holds pack-specific facts (e.g. 技术改造)."""

    model_config = _FROZEN

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=1000)
    sector: Sector = "other"
    in_development_zone: bool = False
    investment_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    region: str = Field(default="", max_length=200)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)


FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


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
    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    step: str | None = Field(default=None, min_length=1, max_length=100)
    period: str | None = Field(default=None, max_length=16)
    planned_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    actual_wan: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    compliant: bool | None = None
    warning: str | None = Field(default=None, min_length=1, max_length=500)
    action: Action | None = None
    until: Day | None = None
    note: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=500)



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
                    "disposition", "extension"})


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


class Warning(BaseModel):
    """预警: one rule firing on one subject of one project, as it stands on ``as_of``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    key: str
    rule: str
    subject: str
    level: Level
    since: dt.date
    due: dt.date | None
    tier: int | None
    status: Status
    responsible: tuple[str, ...]
    clause: str
    message: str
    level_name: str = ""
    action: str = ""
    stage: str | None = None
    closed_on: dt.date | None = None
    pushes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, keys in SPEC §4 order."""
        return {
            "project_id": self.project_id,
            "key": self.key,
            "rule": self.rule,
            "subject": self.subject,
            "level": self.level,
            "since": self.since.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "tier": self.tier,
            "status": self.status,
            "responsible": list(self.responsible),
            "clause": self.clause,
            "message": self.message,
            "level_name": self.level_name,
            "action": self.action,
            "stage": self.stage,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "pushes": self.pushes,
        }


def as_of_day(value: dt.date | str) -> dt.date:
    """An evaluation day: an ISO date between FIRST_DAY and LAST_DAY, or LifecycleRulesError."""
    try:
        day = parse_iso_date(value)
    except ValueError as exc:
        raise LifecycleRulesError(f"as_of: {exc}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise LifecycleRulesError(f"as_of: a date between {FIRST_DAY} and {LAST_DAY} is expected")
    return day


class Result(BaseModel):
    """What ``evaluate`` returns for one project on one day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    as_of: dt.date
    pack: str
    warnings: tuple[Warning, ...] = ()
    notices: tuple[str, ...] = ()
    # Years of the working-day schedule this result needed and did not have (SPEC §5):
    # what they left open is in the notices that begin with ``calendar:``.
    unknown_years: tuple[int, ...] = ()

    @property
    def open_warnings(self) -> tuple[Warning, ...]:
        return tuple(w for w in self.warnings if w.status != "closed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "as_of": self.as_of.isoformat(),
            "pack": self.pack,
            "warnings": [w.to_dict() for w in self.warnings],
            "notices": list(self.notices),
            "unknown_years": list(self.unknown_years),
        }


_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def built(cls: type[_M], values: dict[str, Any]) -> _M:
    """An instance of a frozen, extra-forbidding model from values already valid and
    complete (every field given): what ``model_construct`` does, without its per-field
    Python loop (the batch hot path builds one Result per project). ``tests/test_engine``
    holds it equal to validating the same values."""
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
