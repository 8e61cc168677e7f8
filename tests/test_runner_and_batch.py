"""The fixture runner as pack authors meet it (errors, notices, pytest output), the batch
progress display, and clock kinds' rarer anchors."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lifecycle_rules import PackError, evaluate, load_pack
from lifecycle_rules.io.cli import main
from lifecycle_rules.io.progress import Progress, count_lines
from lifecycle_rules.testing import load_fixture, run_fixture, test_pack

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests/data/packs/demo"


def demo_copy(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target)
    return target


def write_fixture(pack: Path, name: str, text: str) -> Path:
    path = pack / "fixtures" / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_fixture_with_an_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    pack = demo_copy(tmp_path)
    path = write_fixture(pack, "bad.yaml", """\
        name: x
        clause: c
        history: {project: {id: X}, events: []}
        checks:
          - as_of: 2024-01-01
            warnigns: []
        """)
    with pytest.raises(PackError) as info:
        load_fixture(path)
    assert info.value.line == 6 and info.value.path == "checks[0].warnigns"
    assert "unknown key" in str(info.value)
    report = test_pack(pack)
    assert not report.ok and any("bad.yaml:6" in e for e in report.errors)


def test_expected_notice_missing_and_evaluation_error_are_reported(tmp_path: Path) -> None:
    pack = load_pack(DEMO)
    fx_path = write_fixture(demo_copy(tmp_path), "n.yaml", """\
        name: notices
        clause: c
        history:
          project: {id: N}
          events: [{date: 2024-01-02, type: step_completed, step: 开工}]
        checks:
          - as_of: 2024-01-03
            warnings: []
            notices: [something that is not there]
        """)
    outcome = run_fixture(pack, load_fixture(fx_path))[0]
    assert outcome.problems == ["expected a notice containing 'something that is not there'; notices: []"]
    broken = load_fixture(fx_path).model_copy(update={"history": {"project": {"id": "N"}, "events": [
        {"date": "2024-01-02", "type": "step_completed", "step": "无此环节"}]}})
    problems = run_fixture(pack, broken)[0].problems
    assert len(problems) == 1 and problems[0].startswith("error: ") and "无此环节" in problems[0]


def test_a_pack_without_fixtures_fails_the_test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = demo_copy(tmp_path)
    for f in (pack / "fixtures").iterdir():
        f.unlink()
    assert main(["test", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "no fixtures/*.yaml" in out and "NOT EXERCISED rule demo.monthly-report" in out


def test_pytest_reports_a_failing_fixture_by_name_and_clause(tmp_path: Path) -> None:
    pack = demo_copy(tmp_path)
    f = pack / "fixtures/consecutive.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("since: 2024-05-05", "since: 2024-05-06"),
                 encoding="utf-8")
    (tmp_path / "conftest.py").write_text("from lifecycle_rules.testing import pytest_collect_file\n",
                                          encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "--rootdir", str(tmp_path), str(pack)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc.stdout
    assert "1 failed" in proc.stdout
    assert "consecutive shortfalls" in proc.stdout and "2024-05-06" in proc.stdout


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_rate_and_eta_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    clock = itertools.chain([100.0, 101.0, 101.1, 103.0, 104.0, 108.0], itertools.repeat(200.0))
    monkeypatch.setattr("lifecycle_rules.io.batch.time.monotonic", lambda: next(clock))
    tty = _Tty()
    p = Progress(1000, tty)
    p.update(100)   # t=101: 100/s, ETA 9s
    p.update(150)   # t=101.1: too soon, not drawn
    p.update(300)   # t=103: 100/s, ETA 7s
    p.close()
    assert tty.getvalue() == "\r100/1000 projects, 100/s, ETA 9s \r300/1000 projects, 100/s, ETA 7s \n"
    unknown = _Tty()
    q = Progress(None, unknown)
    q.update(50)    # started t=104, now t=108: 12.5/s, shown rounded
    assert unknown.getvalue() == "\r50 projects, 12/s "
    piped = io.StringIO()
    r = Progress(10, piped)
    r.update(5)
    r.close()
    assert piped.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    assert not Progress(10, _Tty()).enabled


def test_evaluate_loads_the_pack_once_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle_rules.io import batch
    from lifecycle_rules.pack import plugins

    loads: list[str] = []
    real = plugins.load_pack

    def counted(ref: str, *args: Any) -> Any:
        loads.append(ref)
        return real(ref, *args)

    monkeypatch.setattr(plugins, "load_pack", counted)  # the CLI's (imported when it runs)
    monkeypatch.setattr(batch, "load_pack", counted)    # the batch runner's
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", "--quiet", "-o", str(out),
                 str(ROOT / "examples/jiande.jsonl")]) == 0
    assert loads == ["jiande"]
    assert out.read_bytes() == (ROOT / "examples/expected/jiande-2024-11-30.jsonl").read_bytes()


def test_count_lines(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("{}\n{}\n{}\n", encoding="utf-8")
    (tmp_path / "a.csv").write_text("h\n1\n2\n", encoding="utf-8")
    assert count_lines(tmp_path / "a.jsonl") == 3
    assert count_lines(tmp_path / "a.csv") == 2
    assert count_lines(tmp_path / "a.xlsx") is None


def test_stage_entered_anchor_and_step_started_target(tmp_path: Path) -> None:
    pack_dir = demo_copy(tmp_path)
    original = (pack_dir / "pack.yaml").read_text(encoding="utf-8")
    rule = textwrap.indent(textwrap.dedent("""\
        - id: demo.stage-clock
          kind: deadline
          title: 在建未申报审查
          clause: test stage clock
          anchor: {stage_entered: 在建}
          target: {step_started: 审查}
          limit: {days: 10}
          levels: {red: limit}
          message: x
        """), "  ")
    (pack_dir / "pack.yaml").write_text(original.replace("rates:\n", rule + "rates:\n", 1), encoding="utf-8")
    pack = load_pack(pack_dir)
    events = [{"date": "2024-01-02", "type": "step_completed", "step": "开工"},
              {"date": "2024-01-05", "type": "monthly_report", "period": "2023-12", "planned_wan": 1,
               "actual_wan": 1}]
    late = {"project": {"id": "S"}, "events": events}
    started = {"project": {"id": "S"}, "events": [*events, {"date": "2024-01-12", "type": "step_started",
                                                             "step": "审查"}]}

    def clock(h: dict[str, object], day: str) -> list[str]:
        return [str(w.since) for w in evaluate(pack, h, day).warnings if w.rule == "demo.stage-clock"]

    assert clock(late, "2024-01-12") == []            # 在建 entered 01-02: due 01-12
    assert clock(late, "2024-01-13") == ["2024-01-13"]
    assert clock(started, "2024-01-20") == []         # 审查 started on the due day
