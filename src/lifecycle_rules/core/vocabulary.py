"""The words of the contract (SPEC §1, §3): sectors, levels, statuses, actions, event
types, and the bounds every history value is held to. Stated once: the pydantic models
(``history``), the lean decoder (``lean``) and the pack schema read them from here."""

from __future__ import annotations

import datetime as dt
from typing import Literal

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
        # A recorded judgement of a problem's gravity (建德 三(五): 一般/复杂/重大问题), with
        # ``severity`` and optionally the ``warning`` it concerns; the ladder's ``severity``
        # lifts the tier.
        "problem_reported",
    }
)

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


# Bounds of history values, stated once: the pydantic models (``history``) and the lean
# decoder (``lean``) both take them from here. Lengths in characters.
class Limits:
    ID = 200          # project.id
    NAME = 1000       # project.name
    REGION = 200      # project.region
    TYPE = 64         # event.type, matching TYPE_PATTERN
    STEP = 100        # event.step
    PERIOD = 16       # event.period (2024-03, 2024-W23)
    WARNING_KEY = 500  # event.warning (a warning's key)
    NOTE = 2000       # event.note
    SOURCE = 500      # event.source
    SEVERITY = 50     # event.severity (一般, 复杂, 重大)
    TYPE_PATTERN = r"^[a-z][a-z0-9_]*$"

# SPEC §4: the keys of a warning row, in order (JSON Lines, CSV and XLSX columns, fixtures):
# the twelve of the contract, the pack's words and the sign-off, then the row's provenance
# (the day evaluated, the pack as id@version, the digest of its content and parameters).
ROW_KEYS: tuple[str, ...] = (
    "project_id", "key", "rule", "subject", "level", "since", "due", "tier", "status",
    "responsible", "clause", "message", "level_name", "action", "stage", "closed_on", "pushes",
    "as_of", "pack", "pack_digest",
)
