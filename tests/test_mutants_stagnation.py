"""The stagnation kind (kinds/stagnation.py), through a small pack written here: adjacent watched
stages make one stretch, progress outside the stretch is not an anchor, each silence is cleared by
the next progress, the level reached on the day progress comes, working days, and what check refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import Pack, PackError, evaluate, load_pack

D = dt.date

STAG_PACK = """\
id: stag
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  red: {name: 红灯, action: 督办}
steps:
  - {name: 签约, clause: c}
  - {name: 立项, clause: c}
  - {name: 开工, clause: c}
  - {name: 竣工, clause: c}
  - {name: 投产, clause: c}
milestones: {签约: 签约, 落地: 立项, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 投产}
stages:
  - {name: 招引, clause: c, entered_by: {completed: [签约]}}
  - {name: 前期, clause: c, entered_by: {completed: [立项]}}
  - {name: 在建, clause: c, entered_by: {completed: [开工]}}
  - {name: 完工, clause: c, entered_by: {completed: [竣工]}}
rules:
  - id: t.stall
    kind: stagnation
    title: 无进展
    clause: c
    stages: [前期, 在建]
    progress: [progress]
    levels: {yellow: {days: 10}, red: {days: 20}}
    message: "{subject}自{anchor}起无进展，{level_name}"
"""


def write_pack(root: Path, text: str, name: str = "stag") -> Pack:
    (root / name).mkdir()
    (root / name / "pack.yaml").write_text(text, encoding="utf-8")
    return load_pack(root / name)


@pytest.fixture
def stag(tmp_path: Path) -> Pack:
    return write_pack(tmp_path, STAG_PACK)


def step(date: str, name: str) -> dict[str, Any]:
    return {"date": date, "type": "step_completed", "step": name}


def progress(*dates: str) -> list[dict[str, Any]]:
    return [{"date": d, "type": "progress"} for d in dates]


def history(*events: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": "S-1"}, "events": list(events)}


def rows(pack: Pack, h: dict[str, Any], as_of: str) -> list[tuple[Any, ...]]:
    r = evaluate(pack, h, as_of, include_closed=True)
    return [(w.key, w.level, w.subject, w.since, w.status, w.closed_on) for w in r.warnings]


def test_adjacent_watched_stages_are_one_stretch_and_earlier_progress_is_no_anchor(stag: Pack) -> None:
    # 招引 (not watched) from 01-01, progress 01-05 in it; 前期 from 02-01, then 在建 from 02-05 (both
    # watched, adjacent: one stretch from 02-01, since entering 在建 is no progress event of this rule).
    h = history(step("2024-01-01", "签约"), *progress("2024-01-05"),
                step("2024-02-01", "立项"), step("2024-02-05", "开工"))
    assert rows(stag, h, "2024-02-11") == []
    assert rows(stag, h, "2024-02-12") == [
        ("S-1/t.stall/前期@2024-02-01", "yellow", "前期", D(2024, 2, 12), "open", None)]
    assert rows(stag, h, "2024-03-31") == [("S-1/t.stall/前期@2024-02-01", "red", "前期", D(2024, 2, 22), "open", None)]
    r = evaluate(stag, h, "2024-03-31")
    assert [w.message for w in r.warnings] == ["前期自2024年2月1日起无进展，红灯"]


def test_each_silence_is_cleared_by_the_next_progress(stag: Pack) -> None:
    # 02-01 -> 03-01 is a silence of 29 days (red 02-22, cleared 03-01); 03-01 -> 03-05 and 03-05 -> 03-08
    # are short; the silence from 03-08 is red on 03-29.
    h = history(step("2024-02-01", "立项"), *progress("2024-03-01", "2024-03-05", "2024-03-08"))
    assert rows(stag, h, "2024-03-31") == [
        ("S-1/t.stall/前期@2024-02-01", "red", "前期", D(2024, 2, 22), "closed", D(2024, 3, 1)),
        ("S-1/t.stall/前期@2024-03-08", "red", "前期", D(2024, 3, 29), "open", None),
    ]


def test_a_level_reached_on_the_day_progress_comes_counts(stag: Pack) -> None:
    # yellow is reached on 02-12, the day progress comes; red (02-22) is not.
    h = history(step("2024-02-01", "立项"), *progress("2024-02-12"))
    assert rows(stag, h, "2024-02-20") == [
        ("S-1/t.stall/前期@2024-02-01", "yellow", "前期", D(2024, 2, 12), "closed", D(2024, 2, 12))]


def test_progress_the_day_before_a_level_clears_it_unraised(stag: Pack) -> None:
    h = history(step("2024-02-01", "立项"), *progress("2024-02-11"))
    assert rows(stag, h, "2024-02-20") == []


def test_working_days_use_the_calendar(tmp_path: Path) -> None:
    # 前期 from Friday 2024-03-01: 5 working days are 03-04..03-08, yellow from the 6th, Monday 03-11.
    pack = write_pack(tmp_path, STAG_PACK.replace("{days: 10}", "{working_days: 5}"))
    h = history(step("2024-03-01", "立项"))
    assert rows(pack, h, "2024-03-08") == []
    assert rows(pack, h, "2024-03-11") == [
        ("S-1/t.stall/前期@2024-03-01", "yellow", "前期", D(2024, 3, 11), "open", None)]


@pytest.mark.parametrize(("old", "new", "where", "said"), [
    ("stages: [前期, 在建]", "stages: [前期, 未知]", "rules[0].stages",
     "unknown stage '未知'; the pack's stages are ['招引', '前期', '在建', '完工']"),
    ("progress: [progress]", "progress: [progress, 未知事件]", "rules[0].progress", "unknown event type '未知事件'"),
    ("{days: 10}", "{days: 30}", "rules[0].levels",
     "red must come after yellow (red at 20 days, yellow at 30 days)"),
], ids=["stage", "progress", "order"])
def test_check_refuses_and_names_the_key(tmp_path: Path, old: str, new: str, where: str, said: str) -> None:
    with pytest.raises(PackError) as caught:
        write_pack(tmp_path, STAG_PACK.replace(old, new))
    assert caught.value.path == where
    assert str(caught.value).split(" at ", 1)[1] == f"{where}: {said}"


def test_the_rule_in_words(stag: Pack) -> None:
    from lifecycle_rules.kinds import stagnation

    rule = stag.spec.rules[0]
    assert isinstance(rule, stagnation.StagnationRule)
    assert stagnation.measures(rule) == "no progress event while in stage 前期 or 在建"
    assert stagnation.levels_in_words(stag, rule) == (
        "yellow after 10 days without progress — from day 11; red after 20 days without progress — from day 21")
