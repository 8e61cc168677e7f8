"""What ``evaluate`` returns (SPEC §4): the warnings standing on a day, and the Result
holding them with the notices of what was left out."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from lifecycle_rules.core.dates import parse_iso_date
from lifecycle_rules.core.vocabulary import FIRST_DAY, LAST_DAY, Level, Status
from lifecycle_rules.errors import LifecycleRulesError


class ProjectWarning(BaseModel):
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
    # Provenance (SPEC §4): the day evaluated, the pack as id@version and the digest of
    # its content and the parameter values in force (``Pack.digest``). Both engines set
    # them; a warning made by hand may leave them empty.
    as_of: dt.date | None = None
    pack: str = ""
    pack_digest: str = ""

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
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "pack": self.pack,
            "pack_digest": self.pack_digest,
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
    pack: str  # id@version
    pack_digest: str = ""  # Pack.digest: the pack's content and the parameter values in force
    # Who the project is, for what people read (the office's CSV/XLSX, bulletins,
    # letters); not part of a warning's JSON Lines row.
    project_name: str = ""
    region: str = ""
    warnings: tuple[ProjectWarning, ...] = ()
    notices: tuple[str, ...] = ()
    # Years of the working-day schedule this result needed and did not have (SPEC §5):
    # what they left open is in the notices that begin with ``calendar:``.
    unknown_years: tuple[int, ...] = ()

    @property
    def open_warnings(self) -> tuple[ProjectWarning, ...]:
        return tuple(w for w in self.warnings if w.status != "closed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "as_of": self.as_of.isoformat(),
            "pack": self.pack,
            "pack_digest": self.pack_digest,
            "project_name": self.project_name,
            "region": self.region,
            "warnings": [w.to_dict() for w in self.warnings],
            "notices": list(self.notices),
            "unknown_years": list(self.unknown_years),
        }


_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def trusted(cls: type[_M], values: dict[str, Any]) -> _M:
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
