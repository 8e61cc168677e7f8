"""A second, independent engine on durable-rules, for differential testing.

``evaluate(pack, history, as_of, include_closed=False)`` returns a ``Result`` equal to
the native engine's (``lifecycle_rules.core.engine.evaluate``) for the same inputs: the same
warnings in the same order with the same fields, and the same notices. Its value is
that it decides by other means: each pack is compiled into a durable-rules ruleset, a
project's history becomes facts asserted into a session, and the ruleset's rules make
the decisions. A bug in one engine is then unlikely to be repeated in the other, and
the differential tests (``tests/test_differential.py``) catch it.

What is reused (plumbing, not checked by this engine)
-----------------------------------------------------
- ``parse_history`` (models) and its ``HistoryError`` s; ``Facts.build`` and its
  ``HistoryError`` s (unknown event types and steps).
- From ``Facts``: the events seen on ``as_of`` and their order, the day each step was
  started or completed, each stage's entry, the stage spans, the exit date,
  ``Facts.stage_at``. These hold decisions this engine does not check: the first
  completion of a step counts, a completed step counts as started, a stage is entered
  on the earliest of its listed steps, the project never moves back to an earlier
  stage, ``initial_stage`` holds until the first entry, the first ``project_exited``
  is the exit, events of one day are ordered by their content.
- Calendar arithmetic: ``dates.reached_on`` (the first day whose elapsed time exceeds
  a threshold, SPEC §5: a decision this engine does not check),
  ``WorkCalendar.nth_workday_after``, ``add_months``, ``week_label``, ``month_of``.
- ``Pack.number`` / ``step_of`` / ``stage_order`` (parameters, aliases, stage order).
- ``gaps.settle`` and ``gaps.tier_notice``: what a day past the known years of the
  working-day schedule (``dates.Undated``) still decides, and its ``calendar:`` notice.

Everything else is this engine's own: the thresholds of each level (a fraction before
the limit ...), due days, the cadence period grid, the limit in words, the messages'
fields, and the decisions below.

What this engine decides itself, in durable-rules rules compiled from the pack
------------------------------------------------------------------------------
Facts (days as ordinals): ``today``, ``subj`` (the project's sector, zone, investment,
attributes; later one per warning with its stage and step), ``done``/``began`` (steps),
``entered`` (stages, with their order), ``plan``, ``span``, ``ev`` (progress events),
``report``/``actual`` (reports and their amounts), ``exit``, ``period`` (the cadence
grid). Rules, compiled per pack:

- scope, each rule's ``when``, the investment band of a banded limit, ladder routes and
  every ``responsible`` assignment: the pack's conditions compiled into durable
  conditions on ``subj`` (first match wins: the lowest index that fired);
- deadline: the anchor fact of each rule (and of each ``for_each_step`` item), the
  facts that clear it (the target step done or started, or a later stage entered),
  and a clock exists when its anchor is on or before today and nothing cleared it by
  the anchor;
- stagnation: a silence starts where a watched stretch starts (a watched span with no
  watched span just before it) or at a progress event inside a watched span; it is
  cut by the next progress event or the start of an unwatched span; it is a warning
  when its first level comes on or before today and no later than that cut;
- shortfall: which reports count (short of plan, or ``compliant: false``; the first
  such filing of a month; the month ending in a watched stage);
- cadence: a period is owed when its reference day lies in a watched span and no
  report of it was filed by its due day; a warning when its first level comes on or
  before today and no filing came before that day;
- a rule's ``when.stages`` on the episode's stage;
- which dispositions and extensions belong to which warning, and which to none;
- sign-off: a standing fact per warning, changed by one rule per transition as its
  timeline is posted (levels reached, answers, clearing facts, the exit, the end):
  which level stands and since when (a level only rises until closed; after a
  closure the next level reopens it; a level on the clearing day is still reached),
  the closing actions per level, in progress and its cycle start, extensions (the
  latest wins), already-closed and too-early answers (notices), and on the last day
  ``closure_overdue`` when today is past ``cycle_days * overdue_after_pushes`` from the
  cycle start and past any extension;
- the ladder: the first level at or above the ladder's level of each warning, its
  place among the project's warnings (by day, then key), and for a warning below that
  level the count of warnings that reached it by its ``since``.

Python around the rules only sorts (a warning's timeline: by day; on one day levels,
then answers, then clearing facts), takes minima, counts (the n-th shortfall month, a
run of consecutive months), clamps the tier to 1..max_tier, does calendar
arithmetic (level days, due days, the period grid) and formats messages.

Hazards of durable-rules, hidden here
-------------------------------------
- Rulesets are global by name and cannot be deleted: each pack's ruleset is named by
  pack id, version and a hash of its content and parameters, registered once per
  process and reused; a name is never redefined.
- One long-lived host per process, with its background dispatch threads switched off
  (they run on the wall clock and would fire actions outside our calls); every use of
  it holds one lock, so the engine is thread-safe (evaluations are serialised).
- Sessions per ruleset are capped (about 1,024 live session ids): each evaluation
  takes a session id from a small pool and deletes the session's state when done
  (also on errors), so the id is reused.
- Exceptions raised in actions are swallowed by durable-rules: every action here is
  wrapped, its exception kept and re-raised after the host call returns.
- Facts that no rule's conditions accept raise "not handled", and a batch that raises
  leaves actions pending: every fact type has a sink rule that accepts it.
- Identical facts are refused ("already observed"): every fact carries a serial
  number.
- ``$or`` is mishandled next to references to other patterns (the reference is lost
  in some branches) and inside 'none' patterns: the compiler expands every disjunction
  into one rule per alternative (one 'none' per alternative), so no rule has a ``$or``.
- A field cannot compare with another field of the same fact (the comparison is
  silently wrong): every comparison is between two facts (a join) or with a constant.
- A fact may enter at most 64 joins of one ruleset, has at most 32 fields, and a text
  field at most 64 KB: the compiler keeps each pack well under the first two and says
  so if a pack is too large; long attribute values go by their hash.
- An action taking two arguments is run as asynchronous: every action takes one.
- durable-rules drops the rest of an action chain when an action ends more than 10 s
  (wall clock) after it began: an action that took over 5 s fails the evaluation
  instead (the wall clock guards; it never decides anything).
- No timers: time comes only from ``as_of`` (the ``today`` fact).

Modules
-------
- ``host``: the durable-rules host, its lock, the session-id pool, the action wrapper.
- ``compile``: a pack's ruleset (its name, its registration, which rules in which
  order), from ``plan`` (the compiled pack, the compiler), ``conditions`` (condition
  expressions), ``clock_rules`` (clocks per rule kind, which are episodes) and
  ``warning_rules`` (answers, sign-off, the ladder, responsible units).
- ``run``: one evaluation step by step (scope, facts, clocks, episodes, notices), with
  ``standing`` (answers, sign-off, tiers, the warnings and their units), ``state``
  (what an evaluation's actions found) and ``arithmetic`` (level days, due days,
  shortfall counts, the cadence period grid).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lifecycle_rules.core.history import History, parse_history
from lifecycle_rules.core.results import Result, as_of_day
from lifecycle_rules.engines.durable import host
from lifecycle_rules.engines.durable.clock_rules import KIND_RULES
from lifecycle_rules.engines.durable.compile import _compiled
from lifecycle_rules.engines.durable.compile import _ruleset_name as _ruleset_name
from lifecycle_rules.engines.durable.host import _ACTIVE, _free_sid, _take_sid
from lifecycle_rules.engines.durable.host import _NEXT_SID as _NEXT_SID
from lifecycle_rules.engines.durable.host import DurableEngineError as DurableEngineError
from lifecycle_rules.engines.durable.run import _evaluate
from lifecycle_rules.engines.durable.state import _Run
from lifecycle_rules.pack.compile import Pack

# The rule kinds this engine implements (``clock_rules.KIND_RULES``).
KINDS = frozenset(KIND_RULES)

__all__ = ["KINDS", "evaluate"]


def evaluate(
    pack: Pack,
    history: History | Mapping[str, Any] | str | bytes,
    as_of: dt.date | str,
    include_closed: bool = False,
) -> Result:
    """The warnings of one project standing on ``as_of``, decided by durable-rules.

    Equal to ``lifecycle_rules.evaluate(pack, history, as_of, include_closed=...)``, its
    rows' provenance included; ``as_of`` is checked as the native engine checks it (the
    same ``as_of_day``, the same error), before the history is read."""
    day = as_of_day(as_of)
    hist = parse_history(history)
    # This pack's, not the ruleset's (a ruleset is shared by packs of equal content and
    # parameters, which may have been compiled on other calendars).
    provenance = (pack.label, pack.digest)
    with host._LOCK:  # read here, not imported: a forked child gets a lock of its own
        plan = _compiled(pack)
        sid = _take_sid()
        run = _Run(sid=sid, plan=plan, today=day.toordinal())
        _ACTIVE[sid] = run
        try:
            return _evaluate(plan, run, hist, day, include_closed, provenance)
        finally:
            del _ACTIVE[sid]
            _free_sid(plan.name, sid, run.asserted)
