"""The deadline kind (kinds/deadline.py): ``for_each_step`` with ``"*"`` in the anchor and the
target, through a small pack written here; the limit in words; bands and the order of levels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import Pack, PackError, evaluate, load_pack

D = dt.date

STAR_PACK = """\
id: star
version: "1"
city: 测试
policy: {file: none, title: 测试规则包}
levels:
  yellow: {name: 黄灯, action: 提醒}
  orange: {name: 橙灯, action: 通报}
  red: {name: 红灯, action: 督办}
steps:
  - {name: 签约, clause: c}
  - {name: 环评, clause: c, aliases: [环境影响评价]}
  - {name: 能评, clause: c}
  - {name: 开工, clause: c}
  - {name: 竣工, clause: c}
  - {name: 投产, clause: c}
  - {name: 达产, clause: c}
milestones: {签约: 签约, 落地: 签约, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 达产}
rules:
  - id: s.item
    kind: deadline
    title: 审批事项
    clause: c
    for_each_step: [环境影响评价, 能评]
    anchor: {step_started: "*"}
    target: {step_completed: "*"}
    limit: {days: 10}
    levels: {orange: {days: 5}, red: limit}
    message: "{subject}自{anchor}起{limit}内办结（期限{due}），{level_name}"
"""


def write_pack(root: Path, text: str, name: str = "star") -> Pack:
    (root / name).mkdir()
    (root / name / "pack.yaml").write_text(text, encoding="utf-8")
    return load_pack(root / name)


@pytest.fixture
def star(tmp_path: Path) -> Pack:
    return write_pack(tmp_path, STAR_PACK)


def items(*events: dict[str, Any]) -> dict[str, Any]:
    return {"project": {"id": "S-1", "name": "星"},
            "events": [{"date": "2024-01-01", "type": "step_completed", "step": "签约"}, *events]}


STARTED = ({"date": "2024-02-01", "type": "step_started", "step": "环境影响评价"},
           {"date": "2024-02-03", "type": "step_started", "step": "能评"})


def rows(pack: Pack, h: dict[str, Any], as_of: str, **kw: Any) -> list[tuple[Any, ...]]:
    r = evaluate(pack, h, as_of, include_closed=True, **kw)
    return [(w.key, w.level, w.since, w.due, w.status, w.closed_on) for w in r.warnings]


def test_star_in_the_anchor_is_each_step_started(star: Pack) -> None:
    # 环评 started 02-01: orange after 5 days (02-07), due 02-11, red 02-12. 能评 started 02-03.
    h = items(*STARTED)
    assert rows(star, h, "2024-02-06") == []
    assert rows(star, h, "2024-02-07") == [("S-1/s.item/环评", "orange", D(2024, 2, 7), D(2024, 2, 11), "open", None)]
    assert rows(star, h, "2024-02-12") == [
        ("S-1/s.item/环评", "red", D(2024, 2, 12), D(2024, 2, 11), "open", None),
        ("S-1/s.item/能评", "orange", D(2024, 2, 9), D(2024, 2, 13), "open", None),
    ]
    r = evaluate(star, h, "2024-02-07")
    assert [(w.subject, w.message) for w in r.warnings] == [
        ("环评", "环评自2024年2月1日起10天内办结（期限2024年2月11日），橙灯")]


def test_star_in_the_target_is_each_step_done(star: Pack) -> None:
    h = items(*STARTED, {"date": "2024-02-12", "type": "step_completed", "step": "能评"})
    assert rows(star, h, "2024-02-13") == [
        ("S-1/s.item/环评", "red", D(2024, 2, 12), D(2024, 2, 11), "open", None),
        ("S-1/s.item/能评", "orange", D(2024, 2, 9), D(2024, 2, 13), "closed", D(2024, 2, 12)),
    ]


def test_a_step_done_before_it_started_raises_nothing(star: Pack) -> None:
    h = items({"date": "2024-01-20", "type": "step_completed", "step": "能评"},
              {"date": "2024-02-03", "type": "step_started", "step": "能评"})
    assert rows(star, h, "2024-03-01") == []


def test_star_pack_on_both_engines(star: Pack) -> None:
    pytest.importorskip("durable")
    h = items(*STARTED, {"date": "2024-02-12", "type": "step_completed", "step": "能评"})
    for as_of in ("2024-02-07", "2024-02-13"):
        assert evaluate(star, h, as_of, include_closed=True, engine="durable") == \
            evaluate(star, h, as_of, include_closed=True)


def test_a_clock_skipped_for_a_step_done_first_leaves_the_next_steps_clock(star: Pack) -> None:
    h = items({"date": "2024-01-20", "type": "step_completed", "step": "环评"},
              {"date": "2024-02-01", "type": "step_started", "step": "环评"},
              {"date": "2024-02-03", "type": "step_started", "step": "能评"})
    assert rows(star, h, "2024-02-14") == [("S-1/s.item/能评", "red", D(2024, 2, 14), D(2024, 2, 13), "open", None)]


def test_star_in_the_anchor_only_keys_each_warning_by_its_step(tmp_path: Path) -> None:
    # Each item's clock runs to 开工: the subject is the item, not the target step.
    pack = write_pack(tmp_path, STAR_PACK.replace('target: {step_completed: "*"}', "target: {step_completed: 开工}"))
    h = items(*STARTED)
    assert rows(pack, h, "2024-02-12") == [
        ("S-1/s.item/环评", "red", D(2024, 2, 12), D(2024, 2, 11), "open", None),
        ("S-1/s.item/能评", "orange", D(2024, 2, 9), D(2024, 2, 13), "open", None),
    ]


# -- the limit in words ({limit} in messages) ----------------------------------------------------


@pytest.mark.parametrize(("limit", "orange", "as_of", "said"), [
    ("{days: 10}", "{days: 5}", "2024-02-07", "10天"),
    ("{working_days: 10}", "{working_days: 5}", "2024-02-09", "10个工作日"),
    ("{months: 1.5}", "{months: 1}", "2024-03-02", "1.5个月"),
    ("{months: 2}", "{months: 1}", "2024-03-02", "2个月"),
])
def test_the_limit_in_words(tmp_path: Path, limit: str, orange: str, as_of: str, said: str) -> None:
    pack = write_pack(tmp_path, STAR_PACK.replace("limit: {days: 10}", f"limit: {limit}")
                      .replace("orange: {days: 5}", f"orange: {orange}")
                      .replace('message: "{subject}自', 'message: "{limit}|{subject}自'))
    r = evaluate(pack, items(STARTED[0]), as_of)
    assert [(w.level, w.message.split("|")[0]) for w in r.warnings] == [("orange", said)]


# -- investment bands (建德 开工 -> 竣工: 18 / 24 / 36 months by investment) -------------------------


@pytest.mark.parametrize(("investment", "due", "said"), [
    (5000, D(2025, 7, 10), "18个月"),
    (30000, D(2025, 7, 10), "18个月"),
    (50000, D(2026, 1, 10), "24个月"),
    (99999, D(2026, 1, 10), "24个月"),
    (100000, D(2027, 1, 10), "36个月"),
])
def test_the_band_of_the_investment_sets_the_limit(investment: int, due: dt.date, said: str) -> None:
    jiande = load_pack("jiande")  # loaded here, so the compile step runs in this test
    h = {"project": {"id": "JD-9", "sector": "industrial", "investment_wan": investment},
         "events": [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"},
                    {"date": "2024-01-10", "type": "step_completed", "step": "开工监管"}]}
    r = evaluate(jiande, h, "2027-06-01")
    [w] = [w for w in r.warnings if w.rule == "jd.start-to-completion"]
    assert (w.level, w.due, w.since) == ("red", due, due + dt.timedelta(days=1))
    assert f"须在{said}内竣工（期限{due.year}年{due.month}月{due.day}日）" in w.message


def test_a_banded_limit_without_investment_is_a_notice() -> None:
    jiande = load_pack("jiande")
    h = {"project": {"id": "JD-9", "sector": "industrial"},
         "events": [{"date": "2024-01-10", "type": "step_completed", "step": "开工监管"}]}
    r = evaluate(jiande, h, "2026-06-01")
    assert [w.rule for w in r.warnings if w.rule == "jd.start-to-completion"] == []
    assert "rule jd.start-to-completion: the limit depends on investment_wan, which the project does not " \
           "give; rule not evaluated" in r.notices


# -- what check refuses, and where it says so ------------------------------------------------------

STEPS = "['开工', '投产', '环境影响评价', '环评', '竣工', '签约', '能评', '落地', '达产']"


@pytest.mark.parametrize(("edits", "where", "said"), [
    ([("for_each_step: [环境影响评价, 能评]", "for_each_step: [环评, 规划]")],
     "rules[0].for_each_step[1]", f"unknown step '规划'; steps and aliases are {STEPS}"),
    ([("    for_each_step: [环境影响评价, 能评]\n", "")],
     "rules[0].anchor.step_started", "'*' stands for each step of for_each_step, which this rule does not have"),
    ([("    for_each_step: [环境影响评价, 能评]\n", ""),
      ('anchor: {step_started: "*"}', "anchor: {step_started: 签约}")],
     "rules[0].target.step_completed", "'*' stands for each step of for_each_step, which this rule does not have"),
    ([('anchor: {step_started: "*"}', "anchor: {step_started: 签约}"),
      ('target: {step_completed: "*"}', "target: {step_completed: 开工}")],
     "rules[0].for_each_step", "use '*' in anchor or target for the step"),
    ([('anchor: {step_started: "*"}', "anchor: {step_completed: 未知}")],
     "rules[0].anchor.step_completed", f"unknown step '未知'; steps and aliases are {STEPS}"),
    ([("orange: {days: 5}", "orange: {before_limit: 1}")],
     "rules[0].levels.orange.before_limit", "must be a fraction between 0 and 1, got 1"),
    ([("orange: {days: 5}", "orange: {before_limit: 0}")],
     "rules[0].levels.orange.before_limit", "must be a fraction between 0 and 1, got 0"),
    ([("limit: {days: 10}", "limit: {days: -1}")], "rules[0].limit", "a limit cannot be negative"),
    ([("levels: {orange: {days: 5}, red: limit}", "levels: {orange: limit, red: {days: 20}}")],
     "rules[0].levels.red", "red cannot come after the limit level orange"),
    ([("orange: {days: 5}", "orange: {days: 12}")],
     "rules[0].levels", "red must come after orange (red at 10 days, orange at 12 days)"),
], ids=["each-unknown", "star-anchor-no-each", "star-target-no-each", "each-no-star", "anchor-unknown",
        "before-limit-1", "before-limit-0", "negative", "after-limit", "order"])
def test_check_refuses_and_names_the_key(tmp_path: Path, edits: list[tuple[str, str]], where: str,
                                         said: str) -> None:
    text = STAR_PACK
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    with pytest.raises(PackError) as caught:
        write_pack(tmp_path, text)
    assert caught.value.path == where
    assert str(caught.value).split(" at ", 1)[1] == f"{where}: {said}"


def test_a_negative_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        write_pack(tmp_path, STAR_PACK.replace("orange: {days: 5}", "orange: {days: -1}"))
    assert caught.value.path == "rules[0].levels.orange"
    assert str(caught.value).split(" at ", 1)[1] == "rules[0].levels.orange: threshold before the anchor"


# -- the rule in words (docs/packs.md) ----------------------------------------------------------


@pytest.mark.parametrize(("edit", "measures", "levels"), [
    (('target: {step_completed: "*"}', 'target: {step_started: "*"}'),
     "for each of 环境影响评价, 能评 (* below): from * started until * started",
     "orange at 5 days from the anchor — from day 6; red at the limit, 10 days — from day 11"),
    (("limit: {days: 10}", "limit: {by_investment: [{days: 10}]}"),
     "for each of 环境影响评价, 能评 (* below): from * started until * completed",
     "orange at 5 days from the anchor — from day 6; red at the limit, by investment: any investment: 10 days "
     "— from the day after the band's limit"),
    (("limit: {days: 10}", "limit: {by_investment: [{below: 100, days: 10}, {days: 20}]}"),
     "for each of 环境影响评价, 能评 (* below): from * started until * completed",
     "orange at 5 days from the anchor — from day 6; red at the limit, by investment: < 100万: 10 days; "
     "≥ 100万: 20 days — from the day after the band's limit"),
], ids=["target-started", "one-band", "two-bands"])
def test_the_rule_in_words(tmp_path: Path, edit: tuple[str, str], measures: str, levels: str) -> None:
    from lifecycle_rules.kinds import deadline

    pack = write_pack(tmp_path, STAR_PACK.replace(*edit))
    rule = pack.spec.rules[0]
    assert isinstance(rule, deadline.DeadlineRule)
    assert (deadline.measures(rule), deadline.levels_in_words(pack, rule)) == (measures, levels)
