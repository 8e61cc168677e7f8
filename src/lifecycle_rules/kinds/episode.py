"""An episode: one stretch of one rule on one subject, as a rule kind finds it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lifecycle_rules.core.dates import ANCHORS_CACHED
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level

LevelDays = tuple[tuple[Level, dt.date], ...]


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


def level_days(clocks: Mapping[Level, Callable[[dt.date], dt.date]]) -> Callable[[dt.date], LevelDays]:
    """anchor -> the day each level is reached, in the order reached (on one day, the lower
    level first): compiled once per rule, its answers cached by anchor day like each
    level's own clock (projects share days; a stagnation clock asks at every progress)."""
    items = tuple(clocks.items())

    def at(anchor: dt.date) -> LevelDays:
        return tuple(sorted(((lv, day(anchor)) for lv, day in items), key=lambda p: (p[1], LEVEL_RANK[p[0]])))

    return lru_cache(maxsize=ANCHORS_CACHED)(at)
