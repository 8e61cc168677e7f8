"""Packs and parameters that load must evaluate: every duration bounded at load (a limit
that would overflow a date is refused with its file, line and key), message templates
of field names only, and --param values checked like the pack's own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lifecycle_rules import PackError, evaluate, load_pack
from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
LIMIT = "limit: {days: 90}"  # 建德's land-to-start limit (五.2)


def jiande_with(tmp_path: Path, old: str, new: str) -> Path:
    pack = tmp_path / "jd"
    shutil.copytree(ROOT / "rulepacks/jiande", pack)
    text = (pack / "pack.yaml").read_text("utf-8")
    assert old in text
    (pack / "pack.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return pack


@pytest.mark.parametrize("limit", ["{days: 3000000}", "{days: 1e308}", "{months: 1e9}", "{working_days: 40000}",
                                   "{days: 36601}"])
def test_a_duration_that_could_overflow_a_date_is_refused_at_load(tmp_path: Path, limit: str) -> None:
    pack = jiande_with(tmp_path, LIMIT, f"limit: {limit}")
    with pytest.raises(PackError, match="is out of range: a duration is at most") as info:
        load_pack(pack)
    assert info.value.file is not None and info.value.file.endswith("pack.yaml")
    assert info.value.line is not None and info.value.path == "rules[1]"


def test_the_longest_duration_loads_and_evaluates(tmp_path: Path) -> None:
    pack = load_pack(jiande_with(tmp_path, LIMIT, "limit: {days: 36600}"))
    history = {"project": {"id": "P"}, "events": [
        {"date": "2199-12-31", "type": "step_completed", "step": "拿地"}]}
    assert evaluate(pack, history, "2199-12-31").warnings == ()


def test_a_parameter_is_checked_like_a_pack_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PackError, match=r"with sign_to_land_days=99999999: .*out of range"):
        load_pack("jiande", {"sign_to_land_days": 99999999})
    code = main(["evaluate", "--pack", "jiande", "--param", "sign_to_land_days=99999999", "--as-of", "2024-11-30",
                 str(ROOT / "examples/jiande.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "sign_to_land_days" in err


@pytest.mark.parametrize("template", ["{project_name:d}", "{project_name:>300000000}", "{project_name!r}",
                                      "{project_name.__class__}", "{project_name[0]}", "{due:{since}}"])
def test_a_message_template_takes_field_names_only(tmp_path: Path, template: str) -> None:
    old = 'message: "{project}于{anchor}落地'
    pack = jiande_with(tmp_path, old, f'message: "{template}（{{project_id}}）于{{anchor}}落地')
    with pytest.raises(PackError) as info:
        load_pack(pack)
    text = str(info.value)
    assert "only field names are allowed" in text or "unknown placeholder" in text, text
    assert info.value.line is not None and "message" in (info.value.path or "")
