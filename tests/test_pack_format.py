"""Loading packs: every error names the file, line, key path and what was expected."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lifecycle_rules import PackError, load_pack
from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
JIANDE = (ROOT / "rulepacks/jiande/pack.yaml").read_text(encoding="utf-8")

MINIMAL = textwrap.dedent("""\
    id: mini
    version: "1"
    city: 测试
    policy: {file: none, title: 测试}
    levels:
      orange: {name: 橙}
      red: {name: 红}
    steps:
      - {name: 签约}
      - {name: 拿地}
      - {name: 开工}
      - {name: 竣工}
      - {name: 投产}
    milestones: {签约: 签约, 落地: 拿地, 开工: 开工, 竣工: 竣工, 投产: 投产, 达产: 投产}
    rules:
      - id: r.one
        kind: deadline
        title: 落地未开工
        clause: c1
        anchor: {step_completed: 拿地}
        target: {step_completed: 开工}
        limit: {days: 90}
        levels:
          orange: {before_limit: 1/6}
          red: limit
        message: "{subject}"
""")


def write_pack(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "p"
    d.mkdir(exist_ok=True)
    (d / "pack.yaml").write_text(text, encoding="utf-8")
    return d


def error_of(tmp_path: Path, text: str) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack(write_pack(tmp_path, text))
    return info.value


def test_minimal_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, MINIMAL))
    assert pack.id == "mini"
    assert [r.id for r in pack.rules] == ["r.one"]


def test_unknown_key_names_file_line_and_path(tmp_path: Path) -> None:
    text = MINIMAL.replace("    limit: {days: 90}\n", "    limit: {days: 90}\n    limitt: 3\n")
    err = error_of(tmp_path, text)
    assert err.file is not None and err.file.endswith("pack.yaml")
    assert err.path == "rules[0].limitt"
    assert err.line == text.splitlines().index("    limitt: 3") + 1
    assert "unknown key" in str(err)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("limit: {days: 90}", "limit: {days: [1]}"))
    assert err.path is not None and err.path.startswith("rules[0].limit.days")


def test_unknown_step_in_rule(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("target: {step_completed: 开工}", "target: {step_completed: 开公}"))
    assert err.path == "rules[0].target.step_completed"
    assert "unknown step '开公'" in str(err)
    assert err.line is not None and err.line > 20


@pytest.mark.parametrize("step", ['{name: "拿地 "}', '{name: 拿地, aliases: ["\u3000供地"]}'])
def test_step_name_or_alias_with_edge_whitespace_is_refused(tmp_path: Path, step: str) -> None:
    err = error_of(tmp_path, MINIMAL.replace("{name: 拿地}", step))
    assert err.path == "steps[1]" and "whitespace" in str(err)
    assert err.line is not None


def test_duplicate_rule_id(tmp_path: Path) -> None:
    rule = MINIMAL[MINIMAL.index("  - id: r.one"):]
    err = error_of(tmp_path, MINIMAL + rule)
    assert "duplicate rule id 'r.one'" in str(err)
    assert err.path == "rules[1].id"


def test_orange_after_red_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("orange: {before_limit: 1/6}", "orange: {days: 120}")
    err = error_of(tmp_path, text)
    assert "red must come after orange" in str(err)


def test_before_limit_out_of_range(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("before_limit: 1/6", "before_limit: 7/6"))
    assert "between 0 and 1" in str(err)


def test_level_not_declared(tmp_path: Path) -> None:
    assert "  orange: {name: 橙}\n" in MINIMAL
    err = error_of(tmp_path, MINIMAL.replace("  orange: {name: 橙}\n", ""))
    assert "level 'orange' is not declared" in str(err)


def test_missing_milestone_word(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("达产: 投产", "达产x: 投产"))
    assert "达产" in str(err)


def test_unknown_parameter(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("limit: {days: 90}", "limit: {days: $nope}"))
    assert "unknown parameter 'nope'" in str(err)


def test_bad_message_placeholder(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace('message: "{subject}"', 'message: "{subjet}"'))
    assert "unknown placeholder" in str(err) and "subjet" in str(err)


def test_yaml_11_booleans_stay_strings(tmp_path: Path) -> None:
    # A step named "no" or "on" is a string, never a boolean.
    text = MINIMAL.replace("- {name: 签约}", "- {name: 签约, aliases: [no, on, yes, off]}")
    pack = load_pack(write_pack(tmp_path, text))
    assert pack.step_of["no"] == "签约" and pack.step_of["on"] == "签约"


def test_yaml_bool_field_rejects_no(tmp_path: Path) -> None:
    text = MINIMAL.replace("    limit: {days: 90}\n",
                           "    limit: {days: 90}\n    when: {in_development_zone: no}\n")
    assert text != MINIMAL
    err = error_of(tmp_path, text)
    assert err.path == "rules[0].when.in_development_zone"


def test_leading_zero_is_decimal(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, MINIMAL.replace("limit: {days: 90}", "limit: {days: 010}")))
    rule = pack.rules[0]
    assert rule.limit.days == 10  # type: ignore[union-attr]


def test_python_tag_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "x: !!python/object/apply:os.system [echo hi]\n")
    assert err.line == MINIMAL.count("\n") + 1


def test_alias_bomb_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]\n"
    err = error_of(tmp_path, MINIMAL + bomb)
    assert "alias bomb" in str(err)


def test_duplicate_key(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "city: 又一个\n")
    assert "duplicate key 'city'" in str(err)


def test_not_utf8(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "pack.yaml").write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(PackError, match="not UTF-8"):
        load_pack(d)


def test_empty_file(tmp_path: Path) -> None:
    err = error_of(tmp_path, "")
    assert "empty" in str(err)


def test_no_pack_yaml(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"no pack\.yaml"):
        load_pack(tmp_path)


def test_unknown_pack_id() -> None:
    with pytest.raises(PackError, match="no pack named 'atlantis'"):
        load_pack("atlantis")


def test_builtin_packs_by_id() -> None:
    assert load_pack("jiande").spec.city == "建德"
    assert load_pack("luohe").spec.city == "漯河"


def test_parameters_override_and_unknown() -> None:
    pack = load_pack("jiande", {"sign_to_land_days": 120})
    assert pack.parameters["sign_to_land_days"] == 120
    with pytest.raises(PackError, match="unknown parameter"):
        load_pack("jiande", {"nope": 1})


def test_every_builtin_rule_cites_a_clause_and_states_vague_readings() -> None:
    for pid in ("jiande", "luohe"):
        pack = load_pack(pid)
        for rule in pack.rules:
            assert rule.clause.startswith(pack.spec.policy.file), rule.id
        for name, param in pack.spec.parameters.items():
            assert param.reading, f"{pid} parameter {name} has no stated reading"


def test_schema_is_current(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    generated = json.loads(capsys.readouterr().out)
    committed = json.loads((root / "docs/pack.schema.json").read_text(encoding="utf-8"))
    assert generated == committed, "run: lifecycle-rules schema -o docs/pack.schema.json"


def test_scope_leaves_out_projects_with_a_notice(tmp_path: Path) -> None:
    from lifecycle_rules import evaluate

    text = MINIMAL.replace("rules:\n", "scope: {investment_wan: {min: 2000}}\nscope_clause: 一\nrules:\n")
    pack = load_pack(write_pack(tmp_path, text))
    events = [{"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]
    small = evaluate(pack, {"project": {"id": "S", "investment_wan": 1999.9}, "events": events}, "2024-06-01")
    assert small.warnings == () and "outside the pack's scope (一)" in small.notices[0]
    unknown = evaluate(pack, {"project": {"id": "U"}, "events": events}, "2024-06-01")
    assert unknown.warnings == ()
    big = evaluate(pack, {"project": {"id": "B", "investment_wan": 2000}, "events": events}, "2024-06-01")
    assert [w.level for w in big.warnings] == ["red"]


def test_scope_cannot_depend_on_stage(tmp_path: Path) -> None:
    text = MINIMAL.replace("rules:\n", "stages: [{name: 前期, entered_by: {completed: [签约]}}]\n"
                           "scope: {stages: [前期]}\nrules:\n")
    err = error_of(tmp_path, text)
    assert err.path == "scope.stages"


LADDER = """\
ladder:
  counts: orange
  max_tier: 3
  clause: c
  routes:
    - tiers: {1: [一级], 2: [二级], 3: [三级]}
"""


def test_ladder_counts_warnings_at_or_above_its_level(tmp_path: Path) -> None:
    from lifecycle_rules import evaluate

    # Two red-only rules: each red counts for a ladder that counts oranges and up.
    text = MINIMAL.replace("      orange: {before_limit: 1/6}\n", "").replace("rules:\n", LADDER + "rules:\n")
    text = text.replace("  - id: r.one", "  - id: r.two\n    kind: deadline\n    title: 签约未落地\n"
                        "    clause: c2\n    anchor: {step_completed: 签约}\n    target: {step_completed: 拿地}\n"
                        "    limit: {days: 30}\n    levels: {red: limit}\n    message: x\n  - id: r.one")
    pack = load_pack(write_pack(tmp_path, text))
    events = [{"date": "2024-01-01", "type": "step_completed", "step": "签约"},
              {"date": "2024-03-01", "type": "step_completed", "step": "拿地"}]
    r = evaluate(pack, {"project": {"id": "T"}, "events": events}, "2024-06-01", include_closed=True)
    assert [(w.rule, w.level, w.tier, w.responsible) for w in r.warnings] == [
        ("r.two", "red", 1, ("一级",)), ("r.one", "red", 2, ("二级",))]


def test_cadence_subject_keeps_one_key_per_period(tmp_path: Path) -> None:
    from lifecycle_rules import evaluate

    demo = (Path(__file__).parent / "data/packs/demo/pack.yaml").read_text(encoding="utf-8")
    text = demo.replace("    title: 月报\n", "    title: 月报\n    subject: 月报\n")
    pack = load_pack(write_pack(tmp_path, text))
    events = [{"date": "2024-03-20", "type": "step_completed", "step": "开工"}]
    r = evaluate(pack, {"project": {"id": "C"}, "events": events}, "2024-06-30")
    keys = [w.key for w in r.warnings if w.rule == "demo.monthly-report"]
    assert keys == ["C/demo.monthly-report/月报 2024-03", "C/demo.monthly-report/月报 2024-04",
                    "C/demo.monthly-report/月报 2024-05"]


def test_level_overrides_name_action_and_units_per_rule(tmp_path: Path) -> None:
    from lifecycle_rules import evaluate

    text = MINIMAL.replace("  red: {name: 红}\n", "  red: {name: 红, action: 督办, units: [督查室]}\n")
    text = text.replace("    message: \"{subject}\"\n",
                        "    message: \"{level_name}/{action}\"\n"
                        "    level_overrides:\n      red: {name: 超时, action: 催办, units: [审批局]}\n")
    pack = load_pack(write_pack(tmp_path, text))
    w = evaluate(pack, {"project": {"id": "O"}, "events": [
        {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}, "2024-06-01").warnings[0]
    got = (w.level, w.level_name, w.action, w.message, w.responsible)
    assert got == ("red", "超时", "催办", "超时/催办", ("审批局",))
    bad = text.replace("      red: {name: 超时", "      yellow: {name: 超时")
    err = error_of(tmp_path, bad)
    assert err.path == "rules[0].level_overrides.yellow"
