"""预警办理与销号 (sign-off): where a warning stands in its handling cycle on ``as_of``.

A warning opens at its first level. A disposition answers it: the pack's closing actions
close it at once (建德 三(四)4: 无需办理, 已完成办理, 项目退出); any other answer
(正在办理) puts it in ``in_progress``, whose cycle runs from that day: one push per
``cycle_days``, and still open after push ``overdue_after_pushes`` it is
``closure_overdue`` (销号超时) — unless an extension (延期) runs later. The condition
clearing (the step got done) or the project exiting closes it. A level reached after a
closure opens it again at that level. A higher level reached while it is open or in
progress continues it, or, with ``signoff.higher_level: reopens``, is a new platform
warning: open, unanswered, the earlier cycle and extension not carried over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lifecycle_rules.core.history import EventView
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level, Status
from lifecycle_rules.pack.spec import Signoff


@dataclass(frozen=True)
class Standing:
    level: Level
    since: dt.date
    status: Status
    closed_on: dt.date | None
    pushes: int
    first_reached: dict[str, dt.date]


def standing(
    levels: tuple[tuple[Level, dt.date], ...],
    *,
    cleared: dt.date | None,
    exit_date: dt.date | None,
    handling: list[EventView],
    signoff: Signoff,
    as_of: dt.date,
    notices: list[str],
    key: str,
) -> Standing | None:
    """The warning's standing on ``as_of``, or None if no level is reached by then."""
    stop = min((d for d in (cleared, exit_date) if d is not None), default=None)
    # A level reached on the very day the condition clears was still reached: the step
    # done on day 91 of a 90-day limit was late (SPEC §5). It opens and closes that day.
    reach = [(d, lv) for lv, d in levels if d <= as_of and (stop is None or d <= stop)]
    if not reach:
        for e in handling:
            if e.warning is None:
                continue  # a project-wide extension need not meet every warning
            notices.append(f"{e.type} of {e.date.isoformat()} for warning {key} came before "
                           "the warning existed; ignored")
        return None
    if not handling:
        # The common case, short: with nothing answered, the warning only rises (levels
        # in date order) until the condition clears or the project exits.
        reach.sort(key=lambda p: (p[0], LEVEL_RANK[p[1]]))
        top: Level = reach[0][1]
        since = reach[0][0]
        reached: dict[str, dt.date] = {top: since}
        for d, higher in reach[1:]:
            if LEVEL_RANK[higher] > LEVEL_RANK[top]:
                top, since = higher, d
                reached.setdefault(higher, d)
        if stop is not None and stop <= as_of:
            return Standing(top, since, "closed", stop, 0, reached)
        return Standing(top, since, "open", None, 0, reached)
    # (date, order, payload): levels first, then handling, then closing facts, on a day.
    timeline: list[tuple[dt.date, int, Any]] = [(d, 0, lv) for d, lv in reach]
    timeline += [(e.date, 1, e) for e in handling]
    if stop is not None and stop <= as_of:
        timeline.append((stop, 2, "stop"))
    timeline.sort(key=lambda t: (t[0], t[1], LEVEL_RANK.get(str(t[2]), 0)))

    level: Level | None = None
    since = reach[0][0]
    status: Status = "open"
    closed_on: dt.date | None = None
    cycle_start: dt.date | None = None
    extended_to: dt.date | None = None
    first: dict[str, dt.date] = {}
    for day, order, item in timeline:
        if order == 1:
            assert not isinstance(item, str)
            if level is None:
                if item.warning is None:
                    continue
                notices.append(f"{item.type} of {day.isoformat()} for warning {key} came "
                               "before the warning existed; ignored")
                continue
            if item.type == "extension":
                assert item.until is not None
                extended_to = item.until if extended_to is None else max(extended_to, item.until)
                continue
            if status == "closed":
                notices.append(f"disposition of {day.isoformat()} for warning {key}: "
                               "the warning was already closed; ignored")
                continue
            assert item.action is not None
            closing = signoff.closing_actions_by_level.get(level, signoff.closing_actions)
            if item.action in closing:
                status, closed_on = "closed", day
            elif status != "in_progress":
                status, cycle_start = "in_progress", day
        elif item == "stop":
            if status != "closed":
                status, closed_on = "closed", day
        else:
            lv: Level = item
            if level is not None and LEVEL_RANK[lv] <= LEVEL_RANK[level] and status != "closed":
                continue
            if status == "closed" or signoff.higher_level == "reopens":
                # A new platform warning (建德 三(四)2-3: 平台出现预警信息后 ... 预警办理): it
                # opens, unanswered; its own cycle starts from its own answer, and an
                # earlier extension does not carry over.
                status, closed_on, cycle_start, extended_to = "open", None, None, None
            level, since = lv, day
            first.setdefault(lv, day)
    assert level is not None
    pushes = 0
    if status == "in_progress" and cycle_start is not None and signoff.cycle_days:
        elapsed = (as_of - cycle_start).days
        pushes = elapsed // signoff.cycle_days
        limit = signoff.cycle_days * (signoff.overdue_after_pushes or 0)
        if elapsed > limit and (extended_to is None or as_of > extended_to):
            status = "closure_overdue"
    return Standing(level, since, status, closed_on, pushes, first)
