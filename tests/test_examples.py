"""The bundled examples: every pack's output is pinned byte for byte
(examples/expected/, written by scripts/pin_examples.py only when a change of output is
intended), and the wide-sheet twins (GBK CSV as Excel saves it, .xlsx with date cells,
JSON Lines) give the same warnings."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import load_pack
from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
WIDE = ROOT / "examples/wide"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["evaluate", "--quiet", "--allow-outside-effective", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _pinned() -> Any:
    spec = importlib.util.spec_from_file_location("pin_examples", ROOT / "scripts/pin_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PIN = _pinned()


@pytest.mark.parametrize(("name", "argv"), PIN.CASES, ids=[name for name, _ in PIN.CASES])
def test_every_example_output_is_pinned(name: str, argv: list[str], capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["evaluate", "--quiet", "--allow-outside-effective", *argv]) == 0
    got = capsys.readouterr().out.encode("utf-8")
    assert got == (ROOT / f"examples/expected/{name}.jsonl").read_bytes(), \
        f"{name}: output changed; if intended, run scripts/pin_examples.py and say why"
    rows = [json.loads(line) for line in got.splitlines()]
    pack = argv[argv.index("--pack") + 1]
    assert {r["rule"] for r in rows} <= {r.id for r in load_pack(pack).rules}


def test_the_pinned_outputs_show_every_pack_warning() -> None:
    for name, _ in PIN.CASES:
        assert (ROOT / f"examples/expected/{name}.jsonl").read_bytes().count(b"\n") >= 3, name


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
