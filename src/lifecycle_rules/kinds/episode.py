"""An episode: one stretch of one rule on one subject, as a rule kind finds it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lifecycle_rules.core.vocabulary import Level


@dataclass(slots=True)
class Episode:
    """Where the clock starts, the day each level is reached, the day the condition
    cleared (the step got done, progress came, the report was filed). The engine turns
    episodes into warnings: sign-off, tier, units and message are added there."""

    subject: str
    anchor: dt.date
    levels: tuple[tuple[Level, dt.date], ...]
    due: dt.date | None = None
    cleared: dt.date | None = None
    stage: str | None = None
    step: str | None = None
    keyed_by_anchor: bool = False
    info: dict[str, Any] = field(default_factory=dict)
