"""The lean decoder (``structs``) against the contract (the pydantic models).

Whatever the lean decoder accepts, pydantic must accept with the same values; anything
else must fall back (``decode`` returns None). ``evaluate`` on JSON text (lean path, with
its redo on error) must equal ``evaluate`` on the pydantic model: the same result or the
same error. And the plain exports the batch sees must take the lean path, or the speed
it exists for is lost.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import StringConstraints, TypeAdapter, ValidationError
from strategies import histories

from lifecycle_rules import LifecycleRulesError, Pack, evaluate, load_pack
from lifecycle_rules.core.history import History
from lifecycle_rules.core.lean import _TRIMMED, HistoryStruct, decode

# Kept as written by the lean decoder, compared stripped (see ``structs``).
LOOSE_TEXT = ("note", "source", "step", "period")
PACKS = ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"]


def _values(obj: Any) -> Any:
    """A comparable tree of a model's or a struct's fields (free text stripped)."""
    if isinstance(obj, tuple | list):
        return [_values(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    if hasattr(obj, "__struct_fields__"):
        names = obj.__struct_fields__
    elif hasattr(type(obj), "model_fields"):
        names = tuple(type(obj).model_fields)
    else:
        return (type(obj).__name__, obj)  # 1 and 1.0 and True differ here
    out = {}
    for name in names:
        value = getattr(obj, name)
        if name in LOOSE_TEXT and isinstance(value, str):
            value = value.strip()
        out[name] = _values(value)
    return out


def assert_same_or_fallback(text: str) -> bool:
    """Returns whether the lean path took it."""
    lean = decode(text)
    if lean is None:
        return False
    assert isinstance(lean, HistoryStruct)
    try:
        model = History.model_validate_json(text)
    except ValidationError as exc:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"lean decoder accepted what pydantic rejects: {text!r}\n{exc}")
    assert not model.project.model_extra and not any(e.model_extra for e in model.events)
    assert _values(lean) == _values(model), text
    return True


# -- mutations of realistic histories -------------------------------------------------
ODD_STRINGS = st.sampled_from([
    " P1", "P1 ", "\tP1", "P1\u3000", "\u00a0x", "x\u2028", "x\u0085", "x\u001c", "x\u200b",
    "", "a" * 201, "拿地 ", " 签约", "2024-07", " 2024-07", "2024-13", "x\n", "\ud800",
])
ODD_NUMBERS = st.sampled_from([0, -1, -0.0, 1e400, 10**400, 1.5, True, False, "12", None, 1e308,
                               2**63, float("nan")])
ODD_DATES = st.sampled_from([
    "2024-07-02", "2024-7-2", "2024/07/02", "2024-07-02T00:00:00", "2024-07-02 00:00",
    "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "0024-07-02", "20240702",
    " 2024-07-02", "2024-02-30", 20240702, 1719878400, None, "",
])
FIELDS = ("id", "name", "sector", "in_development_zone", "investment_wan", "region",
          "attributes", "date", "type", "step", "period", "planned_wan", "actual_wan",
          "compliant", "warning", "action", "until", "note", "source", "extra_column")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    history: dict[str, Any] = draw(histories(draw(st.sampled_from(PACKS))))
    targets: list[dict[str, Any]] = [history["project"], history.setdefault("plan", {})]
    targets += history.get("events", [])
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(targets))
        name = draw(st.sampled_from((*FIELDS, "start", "completion", "production")))
        value = draw(st.one_of(ODD_STRINGS, ODD_NUMBERS, ODD_DATES,
                               st.dictionaries(ODD_STRINGS, ODD_STRINGS | ODD_NUMBERS, max_size=2)))
        if draw(st.booleans()) and name in target:
            del target[name]
        else:
            target[name] = value
    text = json.dumps(history, ensure_ascii=draw(st.booleans()), allow_nan=True)
    if draw(st.integers(0, 9)) == 0:  # a duplicated key, as some exporters write
        text = text.replace('{"id": ', '{"id": "dup", "id": ', 1)
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
@example(text='{"project": {"id": "a", "id": "b"}}')
@example(text='{"project": {"id": "a"}, "events": [{"date": "2024-07-02", "type": "progress", '
              '"date": "2024-07-03"}]}')
@example(text='{"project": {"id": "a", "investment_wan": 1e400}}')
@example(text='{"project": {"id": "a", "investment_wan": NaN}}')
@example(text='{"project": {"id": "a", "attributes": {"技改": " 是"}}}')
@example(text='\ufeff{"project": {"id": "a"}}')
def test_lean_accepts_only_what_pydantic_accepts_with_the_same_values(text: str) -> None:
    assert_same_or_fallback(text)


def _outcome(pack: Pack, history: object, day: dt.date) -> object:
    try:
        return evaluate(pack, history, day, include_closed=True)  # type: ignore[arg-type]
    except LifecycleRulesError as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated(), pack_id=st.sampled_from(PACKS),
       day=st.dates(dt.date(2022, 7, 1), dt.date(2026, 12, 31)))
@example(text='{"project": {"id": "P1"}, "events": [{"date": "2024-03-02", "type": "step_completed", '
              '"step": " 拿地"}]}', pack_id="jiande", day=dt.date(2024, 9, 1))
def test_evaluate_on_text_equals_evaluate_on_the_model(text: str, pack_id: str, day: dt.date) -> None:
    try:
        model = History.model_validate_json(text)
    except ValidationError:
        assert decode(text) is None
        return
    pack = load_pack(pack_id)
    assert _outcome(pack, text, day) == _outcome(pack, model, day)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_realistic_histories_take_the_lean_path(data: st.DataObject) -> None:
    pack = data.draw(st.sampled_from(PACKS))
    text = json.dumps(data.draw(histories(pack)), ensure_ascii=False)
    assert assert_same_or_fallback(text), text


def test_every_character_pydantic_strips_sends_a_string_back_to_pydantic() -> None:
    stripped = TypeAdapter(list[Annotated[str, StringConstraints(strip_whitespace=True)]])
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    kept = stripped.validate_python(["x" + c for c in chars])
    strips = [c for c, k in zip(chars, kept, strict=True) if k == "x"]
    assert " " in strips and "\u3000" in strips  # the check sees real whitespace
    trimmed = re.compile(_TRIMMED)
    assert [c for c in strips if trimmed.search("x" + c) or trimmed.search(c + "x")] == []
    for c in strips:
        assert decode(json.dumps({"project": {"id": "P" + c}})) is None


def test_the_benchmark_data_takes_the_lean_path() -> None:
    from benchmarks.synth import histories as synthetic

    lines = [json.dumps(h, ensure_ascii=False) for h in synthetic(300)]
    assert all(decode(line) is not None for line in lines)


def test_fallback_keeps_notices_and_errors() -> None:
    pack = load_pack("jiande")
    day = dt.date(2024, 9, 1)
    extra = '{"project": {"id": "P1", "备注": "x"}, "events": []}'
    assert decode(extra) is None
    assert any("备注" in n for n in evaluate(pack, extra, day).notices)
    padded = ('{"project": {"id": " P1 "}, "events": [{"date": "2024-03-02", "type": "step_completed", '
              '"step": " 拿地"}]}')
    assert decode(padded) is None
    assert evaluate(pack, padded, day) == evaluate(
        pack, '{"project": {"id": "P1"}, "events": [{"date": "2024-03-02", "type": "step_completed", '
              '"step": "拿地"}]}', day)


@pytest.mark.parametrize("engine", ["native", "durable"])
def test_unknown_fields_anywhere_are_noticed_by_both_engines(engine: str) -> None:
    text = ('{"project": {"id": "P1", "备注": 1}, "plan": {"start": "2024-01-01", "批次": 2}, "来源": "x", '
            '"events": [{"date": "2024-03-02", "type": "progress", "经办人": "张"}]}')
    notices = evaluate(load_pack("jiande"), text, dt.date(2024, 9, 1), engine=engine).notices
    assert [n.split(":")[0] for n in notices[:4]] == ["history", "project", "plan", "event 0"]
    assert all(name in notices[i] for i, name in enumerate(["来源", "备注", "批次", "经办人"]))


@pytest.mark.parametrize("text", [
    '{"project": {"id": "P"}, "plan": {"start": "1899-12-31"}}',
    '{"project": {"id": "P"}, "plan": {"production": "2200-01-01"}}',
    '{"project": {"id": "P"}, "events": [{"date": "2200-01-01", "type": "progress"}]}',
    '{"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "extension", "until": "1899-01-01"}]}',
    '{"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "step_completed"}]}',
    '{"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "monthly_report", "period": "2024-13", '
    '"planned_wan": 1, "actual_wan": 1}]}',
    '{"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "disposition", "warning": "P/r/s"}]}',
])
def test_what_pydantic_refuses_falls_back(text: str) -> None:
    assert decode(text) is None
    with pytest.raises(ValidationError):
        History.model_validate_json(text)


@pytest.mark.parametrize("bad", ["Progress", "step-completed", "1st", "_x", "步骤", "a" * 65])
def test_an_event_type_off_the_pattern_falls_back_even_after_good_types_were_seen(bad: str) -> None:
    # The decoder holds types to the pattern once per distinct type (a set of those seen):
    # a good type seen first must not let a bad one through.
    good = '{"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "progress"}]}'
    assert decode(good) is not None
    text = json.dumps({"project": {"id": "P"}, "events": [{"date": "2024-01-01", "type": "progress"},
                                                           {"date": "2024-01-02", "type": bad}]})
    assert decode(text) is None
    with pytest.raises(ValidationError):
        History.model_validate_json(text)
