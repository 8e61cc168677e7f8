"""``lifecycle-rules test --format text|junit|github|json``: fixture results for CI."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lifecycle_rules.io.cli import main
from lifecycle_rules.testing import format_report, test_pack

ROOT = Path(__file__).resolve().parent.parent
LUOHE = ROOT / "rulepacks/luohe"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["test", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, int]:
    """A copy of 漯河 with one check that fails: the expected ``tier`` of the red check of
    dispatch-noncompliant.yaml made 2. Returns the pack and that check's line."""
    pack = tmp_path / "luohe"
    shutil.copytree(LUOHE, pack)
    fixture = pack / "fixtures/dispatch-noncompliant.yaml"
    lines = fixture.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "- as_of: 2024-05-06" in line)
    body = "".join(lines[at:])
    assert "tier: 1}" in body
    fixture.write_text("".join(lines[:at]) + body.replace("tier: 1}", "tier: 2}", 1),
                       encoding="utf-8")
    return pack, at + 1


def test_text_is_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(LUOHE))
    assert code == 0
    assert out == "".join(line + "\n" for line in format_report(test_pack(LUOHE)))
    code, again, _ = run(capsys, str(LUOHE), "--format", "text")
    assert again == out


def test_junit_is_valid_xml_with_a_testcase_per_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    code, out, _ = run(capsys, str(LUOHE), str(ROOT / "tests/data/packs/demo"), "--format", "junit", "-o", str(target))
    assert code == 0 and out == ""
    root = ET.parse(target).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0" and root.get("errors") == "0"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["luohe@2024.2-draft", "demo@0"]
    luohe = suites[0]
    cases = luohe.findall("testcase")
    checks = sum(1 for c in cases if c.get("name") != "coverage")
    assert checks == len(test_pack(LUOHE).outcomes) == int(luohe.get("tests", "0")) - 1
    first = cases[0]
    assert first.get("classname") == "luohe.compliance-review-makeup-saturday" and first.get("name") == "2024-10-14"
    assert first.get("file", "").endswith("fixtures/compliance-review-makeup-saturday.yaml")
    line = int(first.get("line", "0"))
    assert Path(first.get("file", "")).read_text(encoding="utf-8").splitlines()[line - 1].strip() == \
        "- as_of: 2024-10-14"
    assert cases[-1].get("classname") == "luohe.coverage" and cases[-1].find("failure") is None
    # stdout without -o
    code, out, _ = run(capsys, str(LUOHE), "--format", "junit")
    assert code == 0 and ET.fromstring(out).tag == "testsuites"


def test_a_failing_check_in_every_format(broken: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    pack, line = broken
    fixture = str(pack / "fixtures/dispatch-noncompliant.yaml")
    code, out, _ = run(capsys, str(pack), "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert root.get("failures") == "1"
    [failed] = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert (failed.get("classname"), failed.get("name"), failed.get("line")) == (
        "luohe.dispatch-noncompliant", "2024-05-06", str(line))
    failure = failed.find("failure")
    assert failure is not None and "tier: 2" in failure.get("message", "")
    assert "got for this rule: {rule: lh.dispatch-noncompliant" in (failure.text or "")

    code, out, _ = run(capsys, str(pack), "--format", "github")
    assert code == 1
    errors = [row for row in out.splitlines() if row.startswith("::error ")]
    assert len(errors) == 2  # one a problem: the warning expected, and the one found instead
    assert errors[1].startswith(f"::error file={fixture},line={line},") and "unexpected warning" in errors[1]
    assert errors[0].startswith(f"::error file={fixture},line={line},title=luohe@2024.2-draft%3A check as_of "
                                "2024-05-06 failed::expected {rule: lh.dispatch-noncompliant")
    assert out.splitlines()[-1].startswith("luohe@2024.2-draft: 38 of 39 checks passed")

    code, out, _ = run(capsys, str(pack), "--format", "json")
    assert code == 1
    [summary] = json.loads(out)["packs"]
    assert (summary["checks"], summary["passed"], summary["failed"], summary["ok"]) == (39, 38, 1, False)
    [failure_row] = summary["failures"]
    assert (failure_row["fixture"], failure_row["line"], failure_row["as_of"]) == (fixture, line, "2024-05-06")
    assert summary["coverage"]["rules"] == {"covered": 6, "of": 6}
    assert summary["coverage"]["complete"] is True


def test_coverage_gaps_and_broken_fixtures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "luohe"
    shutil.copytree(LUOHE, pack)
    (pack / "fixtures/dispatch-noncompliant.yaml").unlink()  # the only fixture of the rule
    (pack / "fixtures/zz-broken.yaml").write_text("name: x\nclause: y\nhistory: {}\nchecks:\n  - as_of: nope\n",
                                                 encoding="utf-8")
    code, out, _ = run(capsys, str(pack), "--format", "json")
    assert code == 1
    [summary] = json.loads(out)["packs"]
    assert summary["coverage"]["missing_rules"] == ["lh.dispatch-noncompliant"]
    assert summary["coverage"]["complete"] is False
    [error] = summary["errors"]
    assert error["file"] == str(pack / "fixtures/zz-broken.yaml") and error["line"] == 5

    code, out, _ = run(capsys, str(pack), "--format", "github")
    assert code == 1
    rows = out.splitlines()
    assert any(r.startswith(f"::error file={pack}/fixtures/zz-broken.yaml,line=5,") for r in rows)
    rule_line = next(i for i, text in enumerate((pack / "pack.yaml").read_text(encoding="utf-8").splitlines(), 1)
                     if "id: lh.dispatch-noncompliant" in text)
    assert any(r.startswith(f"::error file={pack}/pack.yaml,line={rule_line},title=luohe@2024.2-draft%3A "
                            "coverage::NOT EXERCISED rule lh.dispatch-noncompliant") for r in rows)

    code, out, _ = run(capsys, str(pack), "--format", "junit")
    root = ET.fromstring(out)
    coverage = next(c for c in root.iter("testcase") if c.get("name") == "coverage")
    failure = coverage.find("failure")
    assert failure is not None and "NOT EXERCISED rule lh.dispatch-noncompliant" in (failure.text or "")
    loading = next(c for c in root.iter("testcase") if c.get("name") == "load")
    assert loading.find("error") is not None and root.get("errors") == "1"


def test_github_paths_are_relative_to_the_working_directory(capsys: pytest.CaptureFixture[str],
                                                            broken: tuple[Path, int],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pack, line = broken
    monkeypatch.chdir(pack.parent)
    code, out, _ = run(capsys, str(pack), "--format", "github")
    assert code == 1
    assert f"::error file=luohe/fixtures/dispatch-noncompliant.yaml,line={line}," in out


def test_a_pack_that_does_not_load_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "bad"
    pack.mkdir()
    (pack / "pack.yaml").write_text("id: bad\nversion: 1\n", encoding="utf-8")
    code, out, err = run(capsys, str(pack), "--format", "github")
    assert code == 2 and "version" in err
    assert out.startswith(f"::error file={pack}/pack.yaml,line=2,title=pack does not load::")
    code, out, err = run(capsys, str(pack), "--format", "junit")
    assert code == 2 and out == ""
