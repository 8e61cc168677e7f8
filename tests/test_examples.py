"""The bundled examples: every pack's run cleanly, and the wide-sheet twins (GBK CSV as
Excel saves it, .xlsx with date cells, JSON Lines) give the same warnings."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from lifecycle_rules import load_pack
from lifecycle_rules.cli import main

ROOT = Path(__file__).resolve().parent.parent
WIDE = ROOT / "examples/wide"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["evaluate", "--quiet", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("pack", ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"])
def test_every_pack_runs_its_examples(pack: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run(capsys, "--pack", pack, "--as-of", "2024-11-30", str(ROOT / f"examples/{pack}.jsonl"))
    assert rows, f"the {pack} examples should show at least one warning on 2024-11-30"
    assert {r["rule"] for r in rows} <= {r.id for r in load_pack(pack).rules}


@pytest.mark.parametrize("as_of", ["2024-05-17", "2024-11-30", "2025-12-31"])
def test_wide_sheet_twins_agree(as_of: str, capsys: pytest.CaptureFixture[str]) -> None:
    twin = run(capsys, "--pack", "jiande", "--as-of", as_of, str(WIDE / "projects.jsonl"))
    gbk = run(capsys, "--pack", "jiande", "--as-of", as_of, str(WIDE / "projects-gbk.csv"))
    xlsx = run(capsys, "--pack", "jiande", "--as-of", as_of, str(WIDE / "projects.xlsx"))
    assert gbk == twin and xlsx == twin
    assert len(twin) >= 1


def test_committed_twins_are_what_the_script_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("make_wide", WIDE / "make.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for name in ("projects-gbk.csv", "projects.jsonl"):
        assert (tmp_path / name).read_bytes() == (WIDE / name).read_bytes(), name
    raw = (WIDE / "projects-gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("项目代码,项目名称")
