"""Rules that need a limit: a parameter with no default (建德 三(三): the platform's step
limits are not published) leaves every rule that uses it inactive until a deployment
sets it. Inactive means no episode and no warning, on both engines; the rule's structure
is still checked at load; the pack, ``lifecycle-rules packs``, the evaluate summary and
the generated docs say which rules wait for which parameter, once, never silently."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import textwrap
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lifecycle_rules import PackError, evaluate, load_pack
from lifecycle_rules.io.cli import main
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.testing import format_report, test_pack

ROOT = Path(__file__).resolve().parent.parent

# step -> (rule id, parameter), as the jiande pack names them (三(三), 四③: 13 steps)
STEPS = {
    "盯引": "dingyin", "签约": "qianyue", "拿地": "nadi", "立项": "lixiang",
    "工程规划许可": "guihua-xuke", "施工许可": "shigong-xuke", "开工监管": "kaigong-jianguan",
    "入统": "rutong", "在建": "zaijian", "竣工验收": "jungong-yanshou", "确权": "quequan",
    "投产": "touchan", "达产": "dachan",
}
RULES = {step: (f"jd.step.{py}", f"step_{py.replace('-', '_')}_days") for step, py in STEPS.items()}
START = dt.date(2024, 3, 1)


@cache
def jiande() -> Pack:
    return load_pack("jiande")


@cache
def with_limit(param: str, days: int) -> Pack:
    return jiande().with_parameters({param: days})


def started(step: str, on: dt.date = START, pid: str = "JD-T-1") -> dict[str, Any]:
    return {"project": {"id": pid, "sector": "industrial", "investment_wan": 20000},
            "events": [{"date": on.isoformat(), "type": "step_started", "step": step}]}


def levels(pack: Pack, history: dict[str, Any], day: dt.date) -> list[tuple[str, str, dt.date]]:
    return [(w.rule, w.level, w.since) for w in evaluate(pack, history, day).warnings]


# -- the pack: 13 step rules, each inactive until its limit is set ---------------------------


def test_every_step_rule_is_inactive_and_names_its_parameter() -> None:
    pack = jiande()
    assert dict(pack.inactive) == {rule: (param,) for rule, param in RULES.values()}
    for _, param in RULES.values():
        assert pack.spec.parameters[param].default is None
        assert param not in pack.parameters  # nothing made up for it
    # The stage rules are untouched and keep their stated defaults.
    assert pack.parameters["sign_to_land_days"] == 180
    assert [r.id for r in pack.rules[:5]] == ["jd.sign-to-land", "jd.land-to-start", "jd.start-to-completion",
                                              "jd.completion-to-production", "jd.production-to-capacity"]


@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_rule_times_its_own_step_with_its_own_parameter(step: str) -> None:
    rule_id, param = RULES[step]
    [rule] = [r for r in jiande().rules if r.id == rule_id]
    assert rule.kind == "deadline" and rule.title == f"{step}环节超时"
    assert (rule.anchor.step_started, rule.target.step_completed) == (step, step)
    assert rule.limit.days == f"${param}"
    assert rule.clause.startswith("jiande-2024.txt 三(三), 四③, 四")
    step_clause = jiande().steps[step].clause
    assert step_clause is not None and step_clause.removeprefix("jiande-2024.txt ") in rule.clause
    assert rule.reading and "not published" in rule.reading and "inactive" in rule.reading


@pytest.mark.parametrize("step", list(STEPS))
def test_inactive_without_its_parameter(step: str) -> None:
    # Started two years before as_of, never completed: no limit, no warning.
    assert evaluate(jiande(), started(step), "2026-03-01").warnings == ()
    assert evaluate(jiande(), started(step), "2026-03-01").notices == ()  # said once, by the run


@pytest.mark.parametrize("step", list(STEPS))
def test_setting_the_parameter_activates_only_its_rule(step: str) -> None:
    rule_id, param = RULES[step]
    pack = with_limit(param, 30)
    assert pack.parameters[param] == 30
    assert rule_id not in pack.inactive and len(pack.inactive) == 12
    assert jiande().inactive[rule_id] == (param,)  # the pack it came from is unchanged


@pytest.mark.parametrize("step", list(STEPS))
def test_boundary_days_with_a_30_day_limit(step: str) -> None:
    # 30 days from 2024-03-01: orange threshold 25 -> day 26 (03-27), due 03-31, red day 31 (04-01).
    rule_id, param = RULES[step]
    pack, history = with_limit(param, 30), started(step)
    assert levels(pack, history, dt.date(2024, 3, 26)) == []
    assert levels(pack, history, dt.date(2024, 3, 27)) == [(rule_id, "orange", dt.date(2024, 3, 27))]
    assert levels(pack, history, dt.date(2024, 3, 31)) == [(rule_id, "orange", dt.date(2024, 3, 27))]
    assert levels(pack, history, dt.date(2024, 4, 1)) == [(rule_id, "red", dt.date(2024, 4, 1))]
    [w] = evaluate(pack, history, "2024-04-01").warnings
    assert (w.subject, w.due, w.key) == (step, dt.date(2024, 3, 31), f"JD-T-1/{rule_id}/{step}")
    assert "30天" in w.message and step in w.message
    # Completed: the clock stops; completed without a recorded start: never a clock.
    # (A stage rule may start then: 签约 done starts 签约未落地; only this rule is looked at.)
    done = {"date": "2024-04-03", "type": "step_completed", "step": step}
    for events, day in (([*history["events"], done], dt.date(2024, 4, 3)), ([done], dt.date(2025, 4, 3))):
        assert [w for w in levels(pack, {**history, "events": events}, day) if w[0] == rule_id] == []


def test_a_limit_that_is_not_a_multiple_of_six_takes_the_exact_fraction() -> None:
    # 100 days: orange threshold 83 1/3, so day 84 (SPEC §5); red day 101.
    pack, history = with_limit("step_lixiang_days", 100), started("立项")
    day = START + dt.timedelta(days=84)
    assert levels(pack, history, day - dt.timedelta(days=1)) == []
    assert levels(pack, history, day) == [("jd.step.lixiang", "orange", day)]
    red = START + dt.timedelta(days=101)
    assert levels(pack, history, red) == [("jd.step.lixiang", "red", red)]


def test_an_invalid_value_still_fails() -> None:
    with pytest.raises(PackError, match="step_lixiang_days"):
        jiande().with_parameters({"step_lixiang_days": -5})
    with pytest.raises(PackError, match="step_lixiang_days"):
        jiande().with_parameters({"step_lixiang_days": "soon"})
    with pytest.raises(PackError, match="null is not a value"):
        jiande().with_parameters({"step_lixiang_days": None})
    with pytest.raises(PackError, match="unknown parameter"):
        jiande().with_parameters({"step_lixiangg_days": 30})


def test_the_calendar_and_other_parameters_keep_it_inactive() -> None:
    pack = jiande().with_parameters({"sign_to_land_days": 120})
    assert pack.parameters["sign_to_land_days"] == 120 and len(pack.inactive) == 13
    assert "step_lixiang_days" not in pack.parameters


# -- the second engine -------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["盯引", "立项", "施工许可", "竣工验收", "达产"])
def test_both_engines_agree(step: str) -> None:
    durable = pytest.importorskip("lifecycle_rules.engines.durable")
    pytest.importorskip("durable")
    rule_id, param = RULES[step]
    history = started(step)
    days = ["2024-03-26", "2024-03-27", "2024-03-31", "2024-04-01", "2026-03-01"]
    for pack in (jiande(), with_limit(param, 30)):
        for day in days:
            want = evaluate(pack, history, day)
            assert durable.evaluate(pack, history, day, False) == want, (rule_id, day)
    assert [w.level for w in durable.evaluate(jiande(), history, "2026-03-01", False).warnings] == []
    assert [w.level for w in durable.evaluate(with_limit(param, 30), history, "2024-04-01", False).warnings] \
        == ["red"]


# -- the structure of an inactive rule is still checked ------------------------------------------


PACK = textwrap.dedent("""\
    id: mini
    version: "1"
    city: 测试
    policy: {file: none, title: 测试}
    levels:
      yellow: {name: 黄}
      orange: {name: 橙}
      red: {name: 红}
    parameters:
      review_days: {default: null, description: 审查时限（天）, reading: not published}
      notice_days: {default: null, description: 提示时限（天）, reading: not published}
    steps:
      - {name: 签约}
      - {name: 审查}
      - {name: 拿地}
      - {name: 开工}
      - {name: 竣工}
      - {name: 投产}
    milestones: {签约: 签约, 落地: 拿地, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 投产}
    rules:
      - id: r.stage
        kind: deadline
        title: 落地未开工
        clause: c1
        anchor: {step_completed: 拿地}
        target: {step_completed: 开工}
        limit: {days: 90}
        levels: {orange: {before_limit: 1/6}, red: limit}
        message: "{subject}"
      - id: r.review
        kind: deadline
        title: 审查超时
        clause: c2
        anchor: {step_started: 审查}
        target: {step_completed: 审查}
        limit: {days: $review_days}
        levels: {yellow: {days: $notice_days}, orange: {before_limit: 1/6}, red: limit}
        message: "{subject}"
""")


def write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "mini"
    d.mkdir(exist_ok=True)
    (d / "pack.yaml").write_text(text, encoding="utf-8")
    return d


def test_a_pack_with_an_inactive_rule_loads(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, PACK))
    # Two unset parameters in one rule: the placeholder used for its checks does not make
    # its levels look out of order (yellow and red at the same stand-in value).
    assert dict(pack.inactive) == {"r.review": ("review_days", "notice_days")}
    assert dict(pack.parameters) == {}
    history = {"project": {"id": "M"}, "events": [
        {"date": "2024-01-02", "type": "step_started", "step": "审查"},
        {"date": "2024-01-03", "type": "step_completed", "step": "拿地"}]}
    assert [w.rule for w in evaluate(pack, history, "2024-12-31").warnings] == ["r.stage"]
    # One of two set: still inactive, waiting for the other.
    assert dict(pack.with_parameters({"review_days": 30}).inactive) == {"r.review": ("notice_days",)}
    both = pack.with_parameters({"review_days": 30, "notice_days": 10})
    assert both.inactive == {}
    assert [(w.rule, w.level) for w in evaluate(both, history, "2024-01-13").warnings] == [("r.review", "yellow")]
    # Set, the values are checked as any: yellow after orange is refused.
    with pytest.raises(PackError, match="orange must come after yellow"):
        pack.with_parameters({"review_days": 30, "notice_days": 40})


@pytest.mark.parametrize(("old", "new", "said"), [
    ("anchor: {step_started: 审查}", "anchor: {step_started: 审察}", "unknown step '审察'"),
    ("target: {step_completed: 审查}", "target: {step_completed: 审察}", "unknown step '审察'"),
    ("levels: {yellow: {days: $notice_days},", "levels: {yellow: {days: $notice_dayz},",
     "unknown parameter 'notice_dayz'"),
    ("levels: {yellow: {days: $notice_days}, orange: {before_limit: 1/6}",
     "levels: {yellow: {days: $notice_days}, orange: {before_limit: 7/6}", "between 0 and 1"),
    ("  yellow: {name: 黄}\n", "", "level 'yellow' is not declared"),
])
def test_the_structure_of_an_inactive_rule_is_checked_at_load(tmp_path: Path, old: str, new: str,
                                                                said: str) -> None:
    assert old in PACK
    with pytest.raises(PackError, match=said) as info:
        load_pack(write(tmp_path, PACK.replace(old, new)))
    assert "rules[1]" in str(info.value)


# -- saying so: packs, the evaluate summary, the fixture report, the docs ----------------------


def test_packs_lists_the_rules_that_need_a_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs"]) == 0
    [line] = [row for row in capsys.readouterr().out.splitlines() if row.startswith("jiande\t")]
    cells = line.split("\t")
    assert cells[3] == "18 rules (13 inactive)"
    for rule_id, param in RULES.values():
        assert f"{rule_id} needs a limit: {param}" in cells[-1]


def run_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[str, str]:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(started(step, pid=f"P{i}"), ensure_ascii=False)
                             for i, step in enumerate(STEPS)) + "\n", encoding="utf-8")
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-04-01", "--allow-outside-effective",
                 *extra, str(src)]) == 0
    out, err = capsys.readouterr()
    return out, err


def test_the_evaluate_summary_says_once_which_rules_are_inactive(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out, err = run_evaluate(tmp_path, capsys)
    assert out == ""
    said = [line for line in err.splitlines() if "inactive" in line]
    assert len(said) == 1 and "13 need a limit" in said[0]  # once for 13 projects, not per project
    for rule_id, param in RULES.values():
        assert f"{rule_id} (--param {param}=VALUE)" in said[0]
    assert "notices: 0" in err


def test_the_summary_is_quiet_once_every_limit_is_set(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    params = [arg for _, param in RULES.values() for arg in ("--param", f"{param}=30")]
    out, err = run_evaluate(tmp_path, capsys, *params, "--jobs", "2")
    assert [json.loads(line)["level"] for line in out.splitlines()] == ["red"] * 13
    assert "inactive" not in err
    _, err = run_evaluate(tmp_path, capsys, "--param", "step_lixiang_days=30")
    assert "12 need a limit" in err and "jd.step.lixiang" not in err


def test_the_fixture_report_counts_rules_that_need_a_limit_apart() -> None:
    report = test_pack(ROOT / "rulepacks/jiande")
    assert report.ok, list(format_report(report))
    summary = next(format_report(report))
    assert "rules exercised 5/5, rules that need a limit exercised with it set 13/13" in summary


def test_an_unexercised_rule_that_needs_a_limit_says_which_parameter(tmp_path: Path) -> None:
    d = write(tmp_path, PACK)
    (d / "fixtures").mkdir()
    (d / "fixtures/stage.yaml").write_text(textwrap.dedent("""\
        name: stage
        clause: c1
        history: {project: {id: M}, events: [{date: 2024-01-01, type: step_completed, step: 拿地}]}
        checks:
          - {as_of: 2024-03-16, warnings: []}
          - {as_of: 2024-03-17, warnings: [{rule: r.stage, level: orange, since: 2024-03-17}]}
          - {as_of: 2024-03-31, warnings: [{rule: r.stage, level: orange, since: 2024-03-17}]}
          - {as_of: 2024-04-01, warnings: [{rule: r.stage, level: red, since: 2024-04-01}]}
        """), encoding="utf-8")
    lines = list(format_report(test_pack(d)))
    assert "rules exercised 1/1, rules that need a limit exercised with it set 0/1" in lines[0]
    assert ("NOT EXERCISED rule r.review (it needs a limit: set review_days, notice_days in a "
            "fixture's parameters)") in lines


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_pack_docs", ROOT / "scripts/gen_pack_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_docs_list_parameters_with_no_default_and_their_rules() -> None:
    doc = "\n".join(generator().render_pack(jiande()))
    for rule_id, param in RULES.values():
        assert f"| `${param}` | no default — needs a limit (inactive until set: `{rule_id}`) |" in doc
        [row] = [line for line in doc.splitlines() if line.startswith(f"| `{rule_id}` |")]
        assert f"**inactive until set** — needs a limit: `${param}` (no default)" in row
        assert f"orange 1/6 before the limit; red at the limit, `${param}` days" in row
    assert "13 of them need a limit" in doc
    # Nothing is made up: no number stands for an unset limit.
    assert "`$step_lixiang_days` days" in doc and "1/2" not in doc
