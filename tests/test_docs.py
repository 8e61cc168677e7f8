"""The docs cannot drift from the code: docs/packs.md is what the generator writes today,
and docs/pack-format.md mentions every top-level key of the format, every key of every
nested model, every message placeholder and every rule id of the built-in packs."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from lifecycle_rules import testing
from lifecycle_rules.kinds import REGISTRY
from lifecycle_rules.pack import spec as packspec
from lifecycle_rules.pack.compile import Pack, compile_pack

ROOT = Path(__file__).resolve().parent.parent
FORMAT_DOC = ROOT / "docs" / "pack-format.md"
PACKS_DOC = ROOT / "docs" / "packs.md"
GENERATOR = ROOT / "scripts" / "gen_pack_docs.py"

# Every model of pack.yaml below the top level, and of the fixture format: each key must be
# mentioned (in backticks) somewhere in pack-format.md.
NESTED_MODELS: tuple[type[BaseModel], ...] = (
    packspec.PolicyRef, packspec.LevelDef, packspec.Parameter, packspec.Condition,
    packspec.Range, packspec.Assignment, packspec.StepDef, packspec.StageDef,
    packspec.StageEntry, packspec.Route, packspec.Ladder, packspec.Signoff,
    packspec.CalendarYear, packspec.RuleBase, packspec.Anchor,
    packspec.Target, packspec.Limit, packspec.Band, packspec.EarlyLevel, packspec.Duration,
    *(kind.Model for kind in REGISTRY.values()),  # every rule kind's own keys
    testing.Fixture, testing.Check, testing.ExpectedWarning,
)
INTERNAL_FIELDS = {"file"}  # Fixture.file is filled in by the loader, not written by authors


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_pack_docs", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def builtin_packs() -> tuple[Pack, ...]:
    packs: list[Pack] = generator().packs()
    return tuple(packs)


def format_doc() -> str:
    return FORMAT_DOC.read_text(encoding="utf-8")


# -- the checks, as functions (so the tests below can show they do fail) -------------------

def headings(doc: str) -> list[str]:
    return [line for line in doc.splitlines() if re.match(r"#{2,4} ", line)]


def fields_without_heading(doc: str, fields: Iterable[str]) -> list[str]:
    """Top-level keys that no heading of the doc names in backticks."""
    heads = headings(doc)
    return [f for f in fields if not any(f"`{f}`" in h for h in heads)]


def names_not_in_backticks(doc: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if f"`{n}`" not in doc and f"`{n}:" not in doc]


def placeholders_missing(doc: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if f"`{{{n}}}`" not in doc]


# -- docs/packs.md -------------------------------------------------------------------------

def test_builtin_packs_are_the_repository_packs() -> None:
    """The generator documents every pack under rulepacks/ (none silently missing)."""
    on_disk = {p.parent.name for p in (ROOT / "rulepacks").glob("*/pack.yaml")}
    documented = {p.id for p in builtin_packs()}
    assert on_disk, "no packs under rulepacks/"
    assert documented == on_disk


def test_packs_md_is_current() -> None:
    expected = generator().generate()
    actual = PACKS_DOC.read_text(encoding="utf-8") if PACKS_DOC.is_file() else ""
    assert actual == expected, "docs/packs.md is stale: run python scripts/gen_pack_docs.py"


def test_packs_md_names_every_rule_and_reading() -> None:
    doc = PACKS_DOC.read_text(encoding="utf-8")
    for pack in builtin_packs():
        assert f"`{pack.id}`" in doc
        for rule in pack.rules:
            assert f"`{rule.id}`" in doc
            assert rule.title in doc
            if rule.reading:
                assert " ".join(rule.reading.split()).replace("|", "\\|") in doc, rule.id


def test_generator_check_mode(tmp_path: Path) -> None:
    out = tmp_path / "packs.md"
    main = generator().main
    assert main(["--check", "-o", str(out)]) == 1  # missing
    assert main(["-o", str(out)]) == 0
    assert main(["--check", "-o", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "\nedited by hand\n", encoding="utf-8")
    assert main(["--check", "-o", str(out)]) == 1  # stale


def test_generated_thresholds_follow_spec_5() -> None:
    doc = PACKS_DOC.read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `jd.land-to-start`"))
    assert "orange 1/6 before the limit (75 days: from day 76)" in row
    assert "red at the limit, 90 days — from day 91" in row
    rows = [line for line in doc.splitlines() if line.startswith("| `lh.compliance-review`")]
    assert any("red at the limit, 5 working days — from the 6th working day" in row for row in rows)


# -- docs/pack-format.md -----------------------------------------------------------------

def test_every_top_level_key_has_a_heading() -> None:
    fields = list(packspec.PackSpec.model_fields)
    assert len(fields) > 10
    assert fields_without_heading(format_doc(), fields) == []


def test_every_nested_key_is_mentioned() -> None:
    names = sorted({name for model in NESTED_MODELS for name in model.model_fields}
                   - INTERNAL_FIELDS)
    assert names_not_in_backticks(format_doc(), names) == []


def test_every_kind_and_value_is_mentioned() -> None:
    values = [*REGISTRY, "cumulative", "consecutive",
              "noncompliant", "month", "week", "quarter", "limit", "before_limit",
              "by_investment", "no_action_needed", "in_progress", "completed",
              "project_exited", "closure_overdue", "lifecycle_rules.packs"]
    assert names_not_in_backticks(format_doc(), values) == []
    for word in packspec.MILESTONES:
        assert word in format_doc()


def test_every_message_placeholder_is_documented() -> None:
    assert placeholders_missing(format_doc(), sorted(packspec.MESSAGE_FIELDS)) == []


def test_every_builtin_rule_id_is_in_pack_format() -> None:
    ids = [rule.id for pack in builtin_packs() for rule in pack.rules]
    assert ids, "no built-in rules found"
    assert names_not_in_backticks(format_doc(), ids) == []


def test_plugin_instructions() -> None:
    doc = format_doc()
    assert "from lifecycle_rules.testing import pytest_collect_file" in doc
    assert '[project.entry-points."lifecycle_rules.packs"]' in doc


# -- the checks themselves can fail --------------------------------------------------------

def test_checks_detect_drift() -> None:
    doc = format_doc()
    assert fields_without_heading(doc, ["calendar", "no_such_key"]) == ["no_such_key"]
    without = "\n".join(line for line in doc.splitlines() if "`calendar`" not in line)
    assert fields_without_heading(without, ["calendar"]) == ["calendar"]
    rule_id = builtin_packs()[0].rules[0].id
    assert names_not_in_backticks(doc.replace(f"`{rule_id}`", rule_id), [rule_id]) == [rule_id]
    assert placeholders_missing(doc.replace("`{due}`", "due"), ["due"]) == ["due"]


@pytest.mark.parametrize("edit", ["drop-rule", "rename-title"])
def test_render_follows_the_pack(edit: str) -> None:
    """A change to a pack changes the generated text (so a stale file is caught)."""
    pack = builtin_packs()[0]
    spec = pack.spec
    if edit == "drop-rule":
        changed = spec.model_copy(update={"rules": spec.rules[1:]})
    else:
        first = spec.rules[0].model_copy(update={"title": "改过的标题"})
        changed = spec.model_copy(update={"rules": [first, *spec.rules[1:]]})
    other = compile_pack(changed, pack.source, dict(pack.parameters))
    render = generator().render
    assert render([other]) != render([pack])
