"""停滞 (stagnation): no progress for a duration while the project is in given stages.

The clock starts at the last progress event, or at the stage's start if none (SPEC §5:
last progress 03-15 and 2 months -> reached 05-16). Each silence is its own episode,
keyed by its anchor date; progress clears it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from lifecycle_rules.core.vocabulary import LEVEL_RANK
from lifecycle_rules.kinds import Episode
from lifecycle_rules.pack.compile import level_crossings
from lifecycle_rules.pack.spec import StagnationRule

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts
    from lifecycle_rules.pack.spec import Rule


def episodes(rule: Rule, facts: Facts) -> list[Episode]:
    assert isinstance(rule, StagnationRule)
    pack = facts.pack
    wanted = set(rule.stages)
    # Adjacent spans in watched stages form one watched stretch: entering the next watched
    # stage is itself a step event, so the clock restarts there anyway.
    stretches: list[tuple[dt.date, dt.date | None]] = []
    for span in facts.spans:
        if span.stage not in wanted:
            continue
        if stretches and stretches[-1][1] == span.start:
            stretches[-1] = (stretches[-1][0], span.end)
        else:
            stretches.append((span.start, span.end))
    if not stretches:
        return []
    kinds = set(rule.progress)
    progress = sorted({e.date for _, e in facts.events if e.type in kinds})
    clocks = level_crossings(pack, rule)
    out: list[Episode] = []
    for start, end in stretches:
        anchors = [start] + [d for d in progress if start < d and (end is None or d < end)]
        for i, anchor in enumerate(anchors):
            nxt = anchors[i + 1] if i + 1 < len(anchors) else end
            levels = sorted(
                ((lv, at(anchor)) for lv, at in clocks.items()),
                key=lambda p: (p[1], LEVEL_RANK[p[0]]),
            )
            if nxt is not None and levels[0][1] > nxt:
                continue
            if levels[0][1] > facts.as_of:
                continue
            stage = facts.stage_at(anchor)
            out.append(Episode(
                subject=rule.subject or (stage or ""),
                anchor=anchor,
                levels=tuple(levels),
                due=None,
                cleared=nxt,
                stage=stage,
                keyed_by_anchor=True,
            ))
    return out
