"""Properties of ``evaluate`` over realistic histories of both built-in packs (SPEC §2, §4).

Examples per property: ``LR_PROPERTY_EXAMPLES`` (default 200); with ``CI`` set the runs
are derandomized.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from random import Random
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from strategies import LAST_DAY, cases, evaluation_dates, histories, later_events

from lifecycle_rules import Pack, Result, evaluate, evaluate_many, load_pack, parse_history
from lifecycle_rules.core.vocabulary import LEVEL_RANK

PACK_IDS = ("jiande", "luohe")
EXAMPLES = int(os.environ.get("LR_PROPERTY_EXAMPLES", "200"))
PROPERTY = settings(
    deadline=None,
    max_examples=EXAMPLES,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STATUSES = {"open", "in_progress", "closed", "closure_overdue"}

_PACKS: dict[str, Pack] = {}


def pack_of(pack_id: str) -> Pack:
    if pack_id not in _PACKS:
        _PACKS[pack_id] = load_pack(pack_id)
    return _PACKS[pack_id]


def by_key(result: Result) -> dict[str, Any]:
    keys = [w.key for w in result.warnings]
    assert len(keys) == len(set(keys)), f"duplicate warning keys: {keys}"
    return {w.key: w for w in result.warnings}


# 1. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@PROPERTY
@given(data=st.data())
def test_event_order_does_not_matter(pack_id: str, data: st.DataObject) -> None:
    history, as_of = data.draw(cases(pack_id))
    pack = pack_of(pack_id)
    shuffled = {**history, "events": data.draw(st.permutations(history["events"]))}
    for include_closed in (False, True):
        assert evaluate(pack, shuffled, as_of, include_closed=include_closed) == evaluate(
            pack, history, as_of, include_closed=include_closed
        )


# 2. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@PROPERTY
@given(data=st.data())
def test_open_levels_never_fall_and_keys_stay(pack_id: str, data: st.DataObject) -> None:
    history, d1 = data.draw(cases(pack_id))
    d1 = min(d1, LAST_DAY - dt.timedelta(days=1))
    d2 = min(LAST_DAY, d1 + dt.timedelta(days=data.draw(st.integers(1, 700))))
    pack = pack_of(pack_id)
    first = by_key(evaluate(pack, history, d1, include_closed=True))
    later = by_key(evaluate(pack, history, d2, include_closed=True))
    for key, w1 in first.items():
        if w1.status == "closed":
            continue
        assert key in later, f"open warning {key} of {d1} is gone on {d2}"
        w2 = later[key]
        assert LEVEL_RANK[w2.level] >= LEVEL_RANK[w1.level], (key, w1.level, w2.level)
        if w2.level == w1.level:
            assert w2.since == w1.since, (key, w1.since, w2.since)
        assert (w2.rule, w2.subject) == (w1.rule, w1.subject)


def test_corrected_report_does_not_lower_level() -> None:
    # Regression: a correction of 2024-04 (filed 05-20) used to lower the count of short
    # months, so the open red warning fell back to yellow (since 04-05).
    history = {
        "project": {"id": "LH-1", "sector": "industrial", "investment_wan": 80000},
        "events": [
            {"date": "2024-03-01", "type": "step_completed", "step": "开工"},
            {"date": "2024-04-05", "type": "monthly_report", "period": "2024-03",
             "planned_wan": 500, "actual_wan": 300},
            {"date": "2024-05-06", "type": "monthly_report", "period": "2024-04",
             "planned_wan": 500, "actual_wan": 300},
            # 2024-04 re-filed: the target was met after all.
            {"date": "2024-05-20", "type": "monthly_report", "period": "2024-04",
             "planned_wan": 500, "actual_wan": 500},
        ],
    }
    pack = pack_of("luohe")
    before = by_key(evaluate(pack, history, "2024-05-06", include_closed=True))
    after = by_key(evaluate(pack, history, "2024-05-20", include_closed=True))
    key = "LH-1/lh.investment-shortfall/月度投资"
    assert (before[key].level, before[key].status) == ("red", "open")
    assert (after[key].level, after[key].since) == ("red", dt.date(2024, 5, 6))


# 3. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@PROPERTY
@given(data=st.data())
def test_events_after_as_of_change_nothing(pack_id: str, data: st.DataObject) -> None:
    history, as_of = data.draw(cases(pack_id))
    extra = data.draw(later_events(pack_id, history, as_of))
    longer = {**history, "events": [*history["events"], *extra]}
    pack = pack_of(pack_id)
    for include_closed in (False, True):
        assert evaluate(pack, longer, as_of, include_closed=include_closed) == evaluate(
            pack, history, as_of, include_closed=include_closed
        )


# 4. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@PROPERTY
@given(data=st.data())
def test_same_input_same_output(pack_id: str, data: st.DataObject) -> None:
    history, as_of = data.draw(cases(pack_id))
    pack = pack_of(pack_id)
    result = evaluate(pack, history, as_of)
    assert evaluate(pack, history, as_of) == result
    assert evaluate(pack, json.dumps(history, ensure_ascii=False), as_of) == result
    assert evaluate(pack, json.dumps(history).encode(), as_of) == result
    assert evaluate(pack, parse_history(history), as_of) == result
    assert evaluate(pack, history, as_of.isoformat()) == result
    assert result.to_dict() == evaluate(pack, history, as_of).to_dict()


# 5. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@PROPERTY
@given(data=st.data())
def test_warning_fields(pack_id: str, data: st.DataObject) -> None:
    history, as_of = data.draw(cases(pack_id))
    pack = pack_of(pack_id)
    result = evaluate(pack, history, as_of, include_closed=True)
    pid = history["project"]["id"]
    assert result.project_id == pid and result.as_of == as_of
    ladder = pack.spec.ladder
    for w in result.warnings:
        assert type(w.since) is dt.date and w.since <= as_of
        assert w.due is None or type(w.due) is dt.date
        assert w.level in pack.spec.levels
        assert w.status in STATUSES
        assert (w.closed_on is not None) == (w.status == "closed")
        assert w.closed_on is None or w.since <= w.closed_on <= as_of
        assert w.project_id == pid
        # SPEC §1 key format; a stagnation warning's key adds the day its silence began.
        base, _, anchor = w.key.partition("@")
        assert base == f"{pid}/{w.rule}/{w.subject}", w.key
        assert not anchor or dt.date.fromisoformat(anchor) <= w.since
        assert w.rule in pack.rule_order
        assert w.clause and w.message
        if ladder is not None:
            assert w.tier is not None and 1 <= w.tier <= ladder.max_tier
        if pack_id == "jiande":
            assert w.tier in (1, 2, 3)
        dumped = json.loads(json.dumps(w.to_dict(), ensure_ascii=False))
        assert dumped["since"] == w.since.isoformat()
        assert dumped["due"] == (w.due.isoformat() if w.due else None)
    if not any(w.status == "closed" for w in result.warnings):
        assert evaluate(pack, history, as_of) == result
    else:
        assert evaluate(pack, history, as_of).warnings == result.open_warnings


# 6. ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", PACK_IDS)
@settings(PROPERTY, max_examples=max(1, EXAMPLES // 2))
@given(data=st.data())
def test_evaluate_many_is_evaluate_in_order(pack_id: str, data: st.DataObject) -> None:
    batch = data.draw(st.lists(histories(pack_id), max_size=4))
    as_of = data.draw(evaluation_dates(batch[0], pack_id) if batch
                      else st.dates(min_value=dt.date(2004, 1, 1), max_value=LAST_DAY))
    pack = pack_of(pack_id)
    assert list(evaluate_many(pack, batch, as_of)) == [evaluate(pack, h, as_of) for h in batch]
    assert list(evaluate_many(pack, iter(batch), as_of.isoformat(), include_closed=True)) == [
        evaluate(pack, h, as_of, include_closed=True) for h in batch
    ]


# The strategies are worth something only if the histories they draw raise warnings: for
# each pack, the strategy finds a history raising every level of every rule, and every
# status a warning of the pack can take.

FIND = settings(
    max_examples=3000,
    phases=[Phase.generate],
    database=None,
    derandomize=False,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
REACHABLE = {
    "jiande": [
        *[("rule", r, lv) for r, lvs in {
            "jd.sign-to-land": ("orange", "red"),
            "jd.land-to-start": ("orange", "red"),
            "jd.start-to-completion": ("orange", "red"),
            "jd.completion-to-production": ("orange", "red"),
            "jd.production-to-capacity": ("orange", "red"),
        }.items() for lv in lvs],
        *[("status", s, "") for s in ("open", "in_progress", "closed", "closure_overdue")],
        ("notice", "", ""),
    ],
    "luohe": [
        ("rule", "lh.preliminary-stall", "yellow"),
        ("rule", "lh.preliminary-stall", "red"),
        ("rule", "lh.start-overdue", "red"),
        ("rule", "lh.investment-shortfall", "yellow"),
        ("rule", "lh.investment-shortfall", "red"),
        ("rule", "lh.dispatch-noncompliant", "red"),
        ("rule", "lh.compliance-review", "red"),
        ("rule", "lh.negotiation-stall", "red"),
        # 漯河 sets no sign-off cycle: no closure_overdue.
        *[("status", s, "") for s in ("open", "in_progress", "closed")],
        ("notice", "", ""),
    ],
}


@pytest.mark.parametrize(
    ("pack_id", "what", "name", "level"),
    [(p, *target) for p, targets in REACHABLE.items() for target in targets],
)
def test_histories_reach(pack_id: str, what: str, name: str, level: str) -> None:
    pack = pack_of(pack_id)
    if what == "rule":
        assert set(pack.spec.rules[pack.rule_order[name]].levels) >= {level}

    def shows(case: tuple[dict[str, Any], dt.date]) -> bool:
        result = evaluate(pack, case[0], case[1], include_closed=True)
        if what == "notice":
            return bool(result.notices)
        if what == "status":
            return any(w.status == name for w in result.warnings)
        return any((w.rule, w.level) == (name, level) for w in result.warnings)

    # A fixed seed, not derandomize: the same examples wherever and after whatever the
    # tests run (a derandomized search missed closure_overdue once in a full CI run).
    find(cases(pack_id), shows, settings=FIND, random=Random(20261201))  # NoSuchExample if never reached


def test_reachable_lists_every_rule_level() -> None:
    for pack_id, targets in REACHABLE.items():
        pack = pack_of(pack_id)
        # a rule that needs a limit the pack does not give is inactive: nothing reaches it
        expected = {(r.id, lv) for r in pack.rules if r.id not in pack.inactive for lv in r.levels}
        assert {(n, lv) for w, n, lv in targets if w == "rule"} == expected
