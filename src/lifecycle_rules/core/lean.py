"""The history as lean msgspec structs: the batch hot path's decoder.

A JSON history decoded here is checked in one native pass (msgspec) and becomes plain
frozen structs with the same field names as the pydantic models in ``models``, so the
core reads either through the ``*View`` protocols. It costs about a fifth of pydantic
validation, which was the largest single cost per project in batch.

The pydantic models stay the contract. This decoder accepts a strict *subset* of what
they accept, with the same values; anything else (unknown fields, which become notices;
whitespace that pydantic would strip; any error) makes ``decode`` return None, and the
caller falls back to ``models.parse_history``, which gives the full error or notices.
``tests/test_structs.py`` holds the decoder to that: whatever it accepts, pydantic
accepts with equal values (free text, steps and periods equal once stripped; see
below), and ``evaluate`` gives the same result or error either way.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from lifecycle_rules.core.history import TYPED_EVENTS, FieldProblem, check_event
from lifecycle_rules.core.vocabulary import FIRST_DAY, LAST_DAY, Action, Limits, Sector

# No leading or trailing whitespace (Python's, a superset of the Unicode White_Space that
# pydantic strips): such a string falls back to pydantic, which strips it.
_TRIMMED = r"(?s)^(?:\S(?:.*\S)?)?\Z"
_Amount = Annotated[float, Meta(ge=0, le=sys.float_info.max)]  # finite, not negative


_Id = Annotated[str, Meta(min_length=1, max_length=Limits.ID, pattern=_TRIMMED)]
_Name = Annotated[str, Meta(max_length=Limits.NAME, pattern=_TRIMMED)]
_Region = Annotated[str, Meta(max_length=Limits.REGION, pattern=_TRIMMED)]
# A step with whitespace at an edge makes ``decode`` fall back to the models, which strip
# it (one str.strip per step, cheaper than a regex); a report's period is checked by
# ``check_event``, which refuses one with whitespace, so it falls back too.
_Step = Annotated[str, Meta(min_length=1, max_length=Limits.STEP)]
_Period = Annotated[str, Meta(max_length=Limits.PERIOD)]
_Warning = Annotated[str, Meta(min_length=1, max_length=Limits.WARNING_KEY, pattern=_TRIMMED)]
# Free text the rules never read (only the tie-break of ``facts._event_key``, which
# strips it): not held to _TRIMMED, which would cost a regex search per event.
_Note = Annotated[str, Meta(max_length=Limits.NOTE)]
_Source = Annotated[str, Meta(max_length=Limits.SOURCE)]
_Severity = Annotated[str, Meta(min_length=1, max_length=Limits.SEVERITY, pattern=_TRIMMED)]
_Key = Annotated[str, Meta(pattern=_TRIMMED)]
# An event's type is held to Limits.TYPE_PATTERN in ``decode``, once per distinct type (a
# pattern here would run a regex on every event: half of the decoder's time).
_Type = Annotated[str, Meta(min_length=1, max_length=Limits.TYPE)]


class ProjectStruct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    id: _Id
    name: _Name = ""
    sector: Sector = "other"
    in_development_zone: bool = False
    investment_wan: _Amount | None = None
    region: _Region = ""
    attributes: dict[_Key, _Key | int | float | bool] = {}


class PlanStruct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    start: dt.date | None = None
    completion: dt.date | None = None
    production: dt.date | None = None


class EventStruct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    date: dt.date
    type: _Type
    step: _Step | None = None
    period: _Period | None = None
    planned_wan: _Amount | None = None
    actual_wan: _Amount | None = None
    compliant: bool | None = None
    warning: _Warning | None = None
    action: Action | None = None
    until: dt.date | None = None
    note: _Note | None = None
    source: _Source | None = None
    severity: _Severity | None = None


class HistoryStruct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    project: ProjectStruct
    plan: PlanStruct = PlanStruct()
    events: tuple[EventStruct, ...] = ()


_DECODER = msgspec.json.Decoder(HistoryStruct)
_STEP_EVENTS = frozenset({"step_started", "step_completed"})  # check_event's commonest case, inline


_TYPE_RE = re.compile(Limits.TYPE_PATTERN.replace("$", r"\Z"))
_TYPE_OK: set[str] = set()  # types seen to match the pattern (bounded: _TYPES_KEPT)
_TYPES_KEPT = 4096


def _type_ok(t: str) -> bool:
    if _TYPE_RE.match(t) is None:
        return False
    if len(_TYPE_OK) < _TYPES_KEPT:
        _TYPE_OK.add(t)
    return True


def _in_range(day: dt.date | None) -> bool:
    return day is None or FIRST_DAY <= day <= LAST_DAY


def decode(text: str | bytes) -> HistoryStruct | None:
    """The history in ``text`` if it is valid and plain; None: let pydantic decide."""
    try:
        hist = _DECODER.decode(text)
    except (msgspec.MsgspecError, UnicodeError):  # e.g. a str with a lone surrogate
        return None
    plan = hist.plan
    if not (_in_range(plan.start) and _in_range(plan.completion) and _in_range(plan.production)):
        return None
    low, high = FIRST_DAY, LAST_DAY
    type_ok = _TYPE_OK
    for e in hist.events:
        if e.type not in type_ok and not _type_ok(e.type):
            return None
        if not low <= e.date <= high or (e.until is not None and not low <= e.until <= high):
            return None
        step = e.step
        if step is not None and step != step.strip():
            return None  # the models strip it (``evaluate`` then decodes once, through them)
        if e.type in _STEP_EVENTS:
            if e.step is None:
                return None
        elif e.type in TYPED_EVENTS:
            try:
                check_event(e)
            except FieldProblem:
                return None
    return hist
