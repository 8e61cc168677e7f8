"""Sign-off (core/signoff.py): the behaviours mutation testing found untested.

Each test pins a whole ``Standing`` (level, since, status, closed_on, pushes, the days
each level was first reached) or a whole warning, so a changed comparison, order or
``continue`` shows."""

from __future__ import annotations

import datetime as dt
import importlib.util
from typing import Any

import pytest

from lifecycle_rules import evaluate, evaluate_many, load_pack
from lifecycle_rules.core.history import Event, EventView
from lifecycle_rules.core.signoff import Standing, standing
from lifecycle_rules.core.vocabulary import Level
from lifecycle_rules.pack.spec import Signoff

D = dt.date
KEY = "P-1/r/s"
# 建德's sign-off: yellow closes only when done (办结销号); pushes every 30 days, overdue after 4.
JD = Signoff(closing_actions_by_level={"yellow": ["completed", "project_exited"]},
             cycle_days=30, overdue_after_pushes=4)


def disp(day: dt.date, action: str, warning: str | None = KEY) -> Event:
    return Event(date=day, type="disposition", warning=warning, action=action)


def ext(day: dt.date, until: dt.date, warning: str | None = KEY) -> Event:
    return Event(date=day, type="extension", warning=warning, until=until)


def stand(levels: list[tuple[Level, dt.date]], handling: list[Event], as_of: dt.date, *,
          cleared: dt.date | None = None) -> tuple[Standing | None, list[str]]:
    notices: list[str] = []
    answers: list[EventView] = list(handling)
    st = standing(tuple(levels), cleared=cleared, exit_date=None, handling=answers, signoff=JD,
                  as_of=as_of, notices=notices, key=KEY)
    return st, notices


# -- levels reached on one day, in any order -------------------------------------------------


@pytest.mark.parametrize("handling", [[], [disp(D(2024, 5, 10), "in_progress")]], ids=["plain", "answered"])
def test_levels_reached_the_same_day_are_all_first_reached_the_higher_stands(handling: list[Event]) -> None:
    d = D(2024, 5, 1)
    st, notices = stand([("red", d), ("yellow", d)], handling, D(2024, 5, 20))
    status = "in_progress" if handling else "open"
    assert st == Standing("red", d, status, None, 0, {"yellow": d, "red": d})
    assert notices == []


def test_levels_rise_in_date_order_whatever_their_order_given() -> None:
    st, _ = stand([("red", D(2024, 6, 1)), ("yellow", D(2024, 5, 1))], [], D(2024, 6, 2))
    assert st == Standing("red", D(2024, 6, 1), "open", None, 0, {"yellow": D(2024, 5, 1), "red": D(2024, 6, 1)})


# -- a lower level while open (mixed units can put orange after red) ---------------------------------------


def test_a_lower_level_while_open_changes_nothing_and_later_answers_still_count() -> None:
    red, orange = D(2024, 2, 1), D(2024, 2, 20)
    st, _ = stand([("red", red), ("orange", orange)], [disp(D(2024, 2, 25), "completed")], D(2024, 3, 1))
    assert st == Standing("red", red, "closed", D(2024, 2, 25), 0, {"red": red})


# -- dispositions ------------------------------------------------------------------------------


def test_closing_actions_by_level_yellow_is_not_closed_by_no_action_needed() -> None:
    y = D(2024, 5, 1)
    st, _ = stand([("yellow", y)], [disp(D(2024, 5, 3), "no_action_needed")], D(2024, 5, 10))
    assert st == Standing("yellow", y, "in_progress", None, 0, {"yellow": y})
    st, _ = stand([("red", y)], [disp(D(2024, 5, 3), "no_action_needed")], D(2024, 5, 10))
    assert st == Standing("red", y, "closed", D(2024, 5, 3), 0, {"red": y})


def test_a_disposition_after_closure_is_ignored_with_a_notice_and_a_later_level_reopens() -> None:
    y, r = D(2024, 5, 1), D(2024, 6, 1)
    st, notices = stand([("yellow", y), ("red", r)],
                        [disp(D(2024, 5, 3), "completed"), disp(D(2024, 5, 10), "in_progress")], D(2024, 6, 5))
    assert st == Standing("red", r, "open", None, 0, {"yellow": y, "red": r})
    assert notices == [f"disposition of 2024-05-10 for warning {KEY}: the warning was already closed; ignored"]


def test_a_keyed_answer_before_the_first_level_is_noted_and_ignored() -> None:
    r = D(2024, 6, 1)
    st, notices = stand([("red", r)], [disp(D(2024, 5, 3), "completed")], D(2024, 6, 5))
    assert st == Standing("red", r, "open", None, 0, {"red": r})
    assert notices == [f"disposition of 2024-05-03 for warning {KEY} came before the warning existed; ignored"]


def test_before_any_level_keyed_answers_are_noted_project_wide_extensions_are_not() -> None:
    handling = [ext(D(2024, 5, 1), D(2024, 12, 31), warning=None), disp(D(2024, 5, 3), "in_progress"),
                ext(D(2024, 5, 4), D(2024, 9, 30))]
    st, notices = stand([("red", D(2024, 6, 1))], handling, D(2024, 5, 20))
    assert st is None
    assert notices == [f"disposition of 2024-05-03 for warning {KEY} came before the warning existed; ignored",
                       f"extension of 2024-05-04 for warning {KEY} came before the warning existed; ignored"]


def test_a_project_wide_extension_before_the_first_level_extends_nothing() -> None:
    # It is skipped, and what follows still counts (no AssertionError: the level comes later).
    r = D(2024, 6, 1)
    handling = [ext(D(2024, 3, 10), D(2024, 12, 31), warning=None), disp(D(2024, 6, 5), "in_progress")]
    st, notices = stand([("red", r)], handling, D(2024, 10, 4))
    assert st == Standing("red", r, "closure_overdue", None, 4, {"red": r})
    assert notices == []


# -- extensions --------------------------------------------------------------------------------


def test_answers_after_an_extension_still_count() -> None:
    r = D(2024, 6, 1)
    handling = [disp(D(2024, 6, 5), "in_progress"), ext(D(2024, 7, 1), D(2024, 12, 31)),
                disp(D(2024, 8, 1), "completed")]
    st, _ = stand([("red", r)], handling, D(2024, 10, 4))
    assert st == Standing("red", r, "closed", D(2024, 8, 1), 0, {"red": r})


def test_a_level_after_an_extension_still_raises_the_warning() -> None:
    o, r = D(2024, 5, 1), D(2024, 6, 1)
    handling = [disp(D(2024, 5, 5), "in_progress"), ext(D(2024, 5, 20), D(2024, 12, 31))]
    st, _ = stand([("orange", o), ("red", r)], handling, D(2024, 6, 2))
    assert st == Standing("red", r, "in_progress", None, 0, {"orange": o, "red": r})


def test_the_furthest_until_wins_not_the_latest_extension() -> None:
    r = D(2024, 6, 1)
    handling = [disp(D(2024, 6, 5), "in_progress"), ext(D(2024, 9, 1), D(2024, 12, 31)),
                ext(D(2024, 9, 20), D(2024, 11, 30))]
    # 120 days after 06-05 is 10-03: overdue from 10-04 but for the extension to 12-31.
    st, _ = stand([("red", r)], handling, D(2024, 12, 15))
    assert st == Standing("red", r, "in_progress", None, 6, {"red": r})
    st, _ = stand([("red", r)], handling, D(2025, 1, 1))
    assert st == Standing("red", r, "closure_overdue", None, 7, {"red": r})


# -- the condition clearing --------------------------------------------------------------------


def test_a_warning_answered_closes_on_the_day_the_step_is_done() -> None:
    r, done = D(2024, 6, 1), D(2024, 8, 10)
    st, _ = stand([("red", r)], [disp(D(2024, 6, 5), "in_progress")], done, cleared=done)
    assert st == Standing("red", r, "closed", done, 0, {"red": r})
    st, _ = stand([("red", r)], [disp(D(2024, 6, 5), "in_progress")], D(2024, 8, 9), cleared=done)
    assert st == Standing("red", r, "in_progress", None, 2, {"red": r})


def test_a_warning_closed_by_its_answer_keeps_that_day_when_the_step_is_done_later() -> None:
    r, done = D(2024, 6, 1), D(2024, 8, 10)
    st, _ = stand([("red", r)], [disp(D(2024, 6, 5), "completed")], D(2024, 9, 1), cleared=done)
    assert st == Standing("red", r, "closed", D(2024, 6, 5), 0, {"red": r})


# -- the same, end to end (建德 落地未开工: red from 2024-06-01), both engines ------------------

JIANDE = load_pack("jiande")
WARNING = "JD-1/jd.land-to-start/开工监管"


def jd_history(*events: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": "JD-1", "sector": "industrial", "investment_wan": 30000},
            "events": [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"}, *events]}


def rows(h: dict[str, Any], as_of: str, engine: str = "native") -> list[tuple[Any, ...]]:
    kw = {} if engine == "native" else {"engine": engine}
    r = evaluate(JIANDE, h, as_of, include_closed=True, **kw)
    return [(w.key, w.level, w.since, w.status, w.closed_on, w.pushes) for w in r.warnings]


ENGINES = ["native", pytest.param("durable", marks=pytest.mark.skipif(
    importlib.util.find_spec("durable") is None, reason="durable-rules not installed"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_end_to_end_furthest_until_and_closing_on_the_step_day(engine: str) -> None:
    h = jd_history({"date": "2024-06-05", "type": "disposition", "warning": WARNING, "action": "in_progress"},
                   {"date": "2024-09-01", "type": "extension", "warning": WARNING, "until": "2024-12-31"},
                   {"date": "2024-09-20", "type": "extension", "until": "2024-11-30"},
                   {"date": "2025-01-10", "type": "step_completed", "step": "开工监管"})
    red = D(2024, 6, 1)
    assert rows(h, "2024-12-15", engine) == [(WARNING, "red", red, "in_progress", None, 6)]
    assert rows(h, "2025-01-09", engine) == [(WARNING, "red", red, "closure_overdue", None, 7)]
    assert rows(h, "2025-01-10", engine) == [(WARNING, "red", red, "closed", D(2025, 1, 10), 0)]


@pytest.mark.parametrize("engine", ENGINES)
def test_end_to_end_project_wide_extension_before_the_warning(engine: str) -> None:
    h = jd_history({"date": "2024-03-10", "type": "extension", "until": "2024-12-31"},
                   {"date": "2024-06-05", "type": "disposition", "warning": WARNING, "action": "in_progress"})
    assert rows(h, "2024-10-04", engine) == [(WARNING, "red", D(2024, 6, 1), "closure_overdue", None, 4)]


def test_a_batch_goes_on_past_a_project_wide_extension_before_any_warning() -> None:
    early = jd_history({"date": "2024-03-10", "type": "extension", "until": "2024-12-31"},
                       {"date": "2024-06-05", "type": "disposition", "warning": WARNING, "action": "in_progress"})
    later = {**jd_history(), "project": {"id": "JD-2", "sector": "industrial", "investment_wan": 30000}}
    out = list(evaluate_many(JIANDE, [early, later], "2024-10-04", on_error="return"))
    assert [[(w.project_id, w.status) for w in r.warnings] for r in out if not isinstance(r, Exception)] == [
        [("JD-1", "closure_overdue")], [("JD-2", "open")]]
