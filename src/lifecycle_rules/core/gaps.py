"""What the known days decide when a working-day clock runs into a year whose official
schedule is not known yet (SPEC §5: never a guess).

A clock that counts working days into such a year gets an ``Undated`` day for that
level or due date: not a date, but the earliest day it can be. Then, for one episode:

- a level whose day is known is reached or not as usual;
- an undated level whose earliest day comes after the last day that matters (``as_of``,
  or the day the clock stopped) is decided: not reached; its day cannot be given yet;
- an undated level that may come by then is **undecided**: whether the warning stands,
  and at which level, depends on the missing year. The episode is not reported.

Every episode with an undated day gets one notice (they begin with ``calendar:``)
naming the rule, the subject, the missing year and what it leaves open. A warning whose
level is decided but whose due date is undated is reported without a due date. The
project's other rules are evaluated as usual: a calendar gap never rejects a record.

Both engines settle their episodes here (plumbing shared on purpose: it decides nothing
about the policy, only what an undated day can and cannot say).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle_rules.core.dates import Undated
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level

CALENDAR_NOTICE = "calendar: "  # every notice about a missing year begins with this


@dataclass(frozen=True, slots=True)
class Settled:
    """One episode after its undated days were settled."""

    levels: tuple[tuple[Level, dt.date], ...]  # known days only
    due: dt.date | None  # None when the due date is undated
    due_text: str  # for messages when the due date is undated
    undecided: tuple[Level, ...]  # levels whose reaching cannot be decided, lowest first
    notice: str | None
    years: tuple[int, ...]  # the missing years it needs


def settle(
    levels: Sequence[tuple[Level, dt.date]],
    due: dt.date | None,
    *,
    stop: dt.date | None,
    as_of: dt.date,
    rule: str,
    subject: str,
) -> Settled | None:
    """None when no day of the episode is undated (the common case, returned at once)."""
    if not isinstance(due, Undated) and not any(isinstance(d, Undated) for _, d in levels):
        return None
    horizon = as_of if stop is None or stop > as_of else stop
    open_on_as_of = stop is None or stop > as_of
    known = tuple((lv, d) for lv, d in levels if not isinstance(d, Undated))
    undated = sorted(((lv, d) for lv, d in levels if isinstance(d, Undated)),
                     key=lambda p: LEVEL_RANK[p[0]])
    undecided = [lv for lv, d in undated if d <= horizon]
    years = sorted({d.gap_year for _, d in undated} | ({due.gap_year} if isinstance(due, Undated) else set()))
    missing = " and ".join(str(y) for y in years)
    items: list[str] = []
    if isinstance(due, Undated):
        items.append(f"the due date ({due.describe()})")
    items += [f"{lv} ({d.describe()})" for lv, d in undated]
    head = (f"{CALENDAR_NOTICE}rule {rule}, {subject}: {_joined(items)} "
            f"{'falls' if len(items) == 1 else 'fall'} in {missing}, whose working-day schedule "
            "is not known")
    reached = [(lv, d) for lv, d in known if d <= horizon]
    notice: str | None
    if undecided:
        so_far = ""
        if reached:
            lv, d = max(reached, key=lambda p: (LEVEL_RANK[p[0]], p[1]))
            so_far = f" ({lv} since {d.isoformat()} is known)"
        notice = (f"{head}: whether {undecided[0]} is reached by {horizon.isoformat()} cannot be "
                  f"decided, so this warning is not reported{so_far}; supply {missing} with a "
                  "calendar file")
    elif reached or open_on_as_of:
        tails: list[str] = []
        if undated:
            tails.append(f"{_joined([lv for lv, _ in undated])} not reached by {horizon.isoformat()}, "
                         "its day cannot be given yet")
        if isinstance(due, Undated) and reached:
            tails.append("the warning is reported without a due date")
        notice = f"{head}: {'; '.join(tails)}"
    else:
        notice = None  # the clock stopped before any undated day could come: nothing is open
    return Settled(
        levels=known,
        due=None if isinstance(due, Undated) else due,
        due_text=f"（期限取决于{missing}年节假日安排，尚未公布）" if isinstance(due, Undated) else "",
        undecided=tuple(undecided),
        notice=notice,
        years=tuple(years),
    )


def tier_notice(undecided: Sequence[tuple[str, Settled]], counts: Level, max_tier: int) -> str | None:
    """When an undecided warning may reach the level the ladder counts, the tiers of the
    project's other warnings may be higher than counted: say so (never a guess)."""
    if max_tier <= 1:
        return None
    floor = LEVEL_RANK[counts]
    rules = [rule for rule, s in undecided if any(LEVEL_RANK[lv] >= floor for lv in s.undecided)]
    if not rules:
        return None
    years = sorted({y for _, s in undecided for y in s.years})
    return (f"{CALENDAR_NOTICE}tiers are counted without the undecided warning(s) of "
            f"{', '.join(dict.fromkeys(rules))}; they may be higher once the working-day schedule "
            f"of {' and '.join(map(str, years))} is known")


def _joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
