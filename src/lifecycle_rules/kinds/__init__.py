"""Rule kinds: each a small pure function from (rule, facts) to episodes.

An episode is one stretch of one rule on one subject: where its clock starts, the day
each level is reached, and the day the condition cleared (the step got done, progress
came, the report was filed). The engine turns episodes into warnings: sign-off, tier,
units and message are added there, never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.vocabulary import Level

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.spec import Rule


@dataclass(slots=True)
class Episode:
    subject: str
    anchor: dt.date
    levels: tuple[tuple[Level, dt.date], ...]
    due: dt.date | None = None
    cleared: dt.date | None = None
    stage: str | None = None
    step: str | None = None
    keyed_by_anchor: bool = False
    info: dict[str, Any] = field(default_factory=dict)


KindFn = Callable[["Rule", "Facts"], list[Episode]]


def registry() -> dict[str, KindFn]:
    from lifecycle_rules.kinds import cadence, deadline, shortfall, stagnation

    return {
        "deadline": deadline.episodes,
        "stagnation": stagnation.episodes,
        "shortfall": shortfall.episodes,
        "cadence": cadence.episodes,
    }
