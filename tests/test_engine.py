"""The pure API: inputs as models, dicts or JSON; errors that say where; notices."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from lifecycle_rules import (
    History,
    HistoryError,
    LifecycleRulesError,
    evaluate,
    evaluate_many,
    load_pack,
    parse_history,
)
from lifecycle_rules.core.vocabulary import ROW_KEYS

JIANDE = load_pack("jiande")


def landed(pid: str = "P-1", **project: Any) -> dict[str, Any]:
    return {
        "project": {"id": pid, "sector": "industrial", "investment_wan": 30000, **project},
        "events": [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"}],
    }


def test_dict_json_and_model_inputs_agree() -> None:
    h = landed()
    a = evaluate(JIANDE, h, "2024-06-01")
    b = evaluate(JIANDE, json.dumps(h, ensure_ascii=False), dt.date(2024, 6, 1))
    c = evaluate(JIANDE, History.model_validate(h), "2024-06-01")
    assert a == b == c
    assert [w.level for w in a.warnings] == ["red"]
    assert a.to_dict()["warnings"][0]["since"] == "2024-06-01"


def test_result_shape_is_spec_section_4() -> None:
    w = evaluate(JIANDE, landed(), "2024-06-01").warnings[0].to_dict()
    assert list(w)[:12] == ["project_id", "key", "rule", "subject", "level", "since", "due",
                            "tier", "status", "responsible", "clause", "message"]
    assert tuple(w) == ROW_KEYS  # the one statement of the row's keys
    # Then the row's provenance (SPEC §4): the day, the pack as id@version, its digest.
    assert list(w)[-3:] == ["as_of", "pack", "pack_digest"]
    assert (w["as_of"], w["pack"], w["pack_digest"]) == ("2024-06-01", JIANDE.label, JIANDE.digest)
    # The office's words: a project without a name is its code once (never P-1（P-1）), dates
    # as 2024年3月2日.
    assert w["message"] == ("P-1于2024年3月2日落地，须在90天内开工（期限2024年5月31日），现红灯预警（2024年6月1日起），"
                            "请预警处置，按三级协调机制协调。")


@pytest.mark.parametrize(
    ("event", "index", "field"),
    [
        ({"date": "2024-02-30", "type": "progress"}, 1, "date"),
        ({"date": "2024-03-01", "type": "step_completed"}, 1, "step"),
        ({"date": "2024-03-01", "type": "monthly_report", "period": "2024-3",
          "planned_wan": 1, "actual_wan": 1}, 1, "period"),
        ({"date": "2024-03-01", "type": "monthly_report", "period": "2024-03",
          "planned_wan": -5, "actual_wan": 1}, 1, "planned_wan"),
        ({"date": "2024-03-01", "type": "monthly_report", "period": "2024-03",
          "planned_wan": "三百", "actual_wan": 1}, 1, "planned_wan"),
        ({"date": "2024-03-01", "type": "disposition", "warning": "k"}, 1, "action"),
        ({"date": "2024-03-01T08:00:00", "type": "progress"}, 1, "date"),
    ],
)
def test_invalid_events_name_project_index_and_field(event: dict[str, Any], index: int,
                                                     field: str) -> None:
    h = landed("JD-X")
    h["events"].append(event)
    with pytest.raises(HistoryError) as info:
        evaluate(JIANDE, h, "2024-06-01")
    err = info.value
    assert (err.project_id, err.event_index, err.field) == ("JD-X", index, field)
    assert "JD-X" in str(err) and f"event {index}" in str(err)


def test_unknown_step_and_event_type_are_errors() -> None:
    h = landed("JD-Y")
    h["events"].append({"date": "2024-03-05", "type": "step_completed", "step": "开公"})
    with pytest.raises(HistoryError, match="unknown step '开公'") as info:
        evaluate(JIANDE, h, "2024-06-01")
    assert info.value.field == "step"
    h["events"][-1] = {"date": "2024-03-05", "type": "site_visit"}
    with pytest.raises(HistoryError, match="unknown event type 'site_visit'"):
        evaluate(JIANDE, h, "2024-06-01")


def test_unknown_fields_are_notices_not_errors() -> None:
    h = landed("JD-Z", colour="blue")
    h["events"].append({"date": "2024-03-05", "type": "progress", "colour": "red"})
    r = evaluate(JIANDE, h, "2024-06-01")
    assert [w.level for w in r.warnings] == ["red"]
    assert "project: field(s) colour are not part of the history format; ignored" in r.notices
    assert "event 1: field(s) colour are not part of the history format; ignored" in r.notices


def test_project_wide_extension_holds_off_every_warning() -> None:
    h = landed("JD-E")
    key = "JD-E/jd.land-to-start/开工监管"
    h["events"] += [{"date": "2024-06-05", "type": "disposition", "warning": key, "action": "in_progress"},
                    {"date": "2024-06-10", "type": "extension", "until": "2024-12-31"}]
    assert evaluate(JIANDE, h, "2024-12-31").warnings[0].status == "in_progress"
    assert evaluate(JIANDE, h, "2025-01-01").warnings[0].status == "closure_overdue"
    assert evaluate(JIANDE, h, "2025-01-01").notices == ()


def test_missing_project_id() -> None:
    with pytest.raises(HistoryError) as info:
        parse_history({"project": {"name": "x"}, "events": []})
    assert info.value.field == "project.id"


def test_bad_as_of() -> None:
    with pytest.raises(LifecycleRulesError, match="as_of"):
        evaluate(JIANDE, landed(), "2024/06/01")


def test_events_after_as_of_are_not_seen() -> None:
    h = landed()
    h["events"].append({"date": "2024-06-02", "type": "step_completed", "step": "开工"})
    r = evaluate(JIANDE, h, "2024-06-01")
    assert [w.level for w in r.warnings] == ["red"]


def test_unknown_disposition_key_is_a_notice_not_silence() -> None:
    h = landed()
    h["events"].append({"date": "2024-06-02", "type": "disposition", "warning": "nope",
                        "action": "completed"})
    r = evaluate(JIANDE, h, "2024-06-03")
    assert any("'nope'" in n for n in r.notices)
    assert [w.status for w in r.warnings] == ["open"]


def test_disposition_before_the_warning_is_a_notice() -> None:
    h = landed()
    key = "P-1/jd.land-to-start/开工监管"
    h["events"].append({"date": "2024-04-01", "type": "disposition", "warning": key,
                        "action": "completed"})
    r = evaluate(JIANDE, h, "2024-06-03")
    assert r.warnings[0].status == "open"
    assert any("before the warning existed" in n for n in r.notices)


def test_duplicate_events_count_once() -> None:
    h = landed()
    h["events"] = h["events"] * 3
    assert evaluate(JIANDE, h, "2024-06-01") == evaluate(JIANDE, landed(), "2024-06-01")


def test_evaluate_many_streams_in_order_and_returns_errors() -> None:
    good = [landed(f"P-{i}") for i in range(5)]
    bad: dict[str, Any] = {"project": {"id": "BAD"}, "events": [{"date": "x", "type": "progress"}]}
    out = list(evaluate_many(JIANDE, [*good[:2], bad, *good[2:]], "2024-06-01", on_error="return"))
    assert [getattr(o, "project_id", None) for o in out] == ["P-0", "P-1", "BAD", "P-2", "P-3", "P-4"]
    assert isinstance(out[2], HistoryError)
    with pytest.raises(HistoryError):
        list(evaluate_many(JIANDE, [bad], "2024-06-01"))


def test_keys_are_stable_across_dates() -> None:
    keys = {w.key for d in ("2024-05-17", "2024-06-01", "2025-01-01")
            for w in evaluate(JIANDE, landed(), d).warnings}
    assert keys == {"P-1/jd.land-to-start/开工监管"}


def test_built_results_equal_validated_ones() -> None:
    from pathlib import Path

    from lifecycle_rules import ProjectWarning, Result

    text = (Path(__file__).parent.parent / "examples/jiande.jsonl").read_text(encoding="utf-8")
    examples = [json.loads(x) for x in text.splitlines()]
    results = [evaluate(JIANDE, h, "2025-06-30", include_closed=True) for h in examples]
    assert sum(len(r.warnings) for r in results) > 5
    for r in results:
        again = Result.model_validate(r.model_dump())
        assert again == r and r.model_dump() == again.model_dump()
        assert r.model_fields_set == again.model_fields_set
        for w in r.warnings:
            assert ProjectWarning.model_validate(w.model_dump()) == w
            assert w.model_copy(update={"tier": 9}).tier == 9 and w.model_extra is None
        with pytest.raises(ValueError):
            r.project_id = "changed"  # type: ignore[misc]  # frozen, as validated ones are
