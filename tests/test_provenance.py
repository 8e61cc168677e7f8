"""Provenance on every result (SPEC §4): each row says the day it was evaluated on, the
pack as id@version and ``pack_digest``, a digest of the pack's content, the parameter
values in force and the working-day calendar it was compiled with, so two runs under
different policies never look alike.

The digest: stable across processes (hash randomisation) and pack locations, equal for
equal inputs, different for another parameter value, pack version or calendar year.
Every output carries the three values (JSON Lines, the contract's and the office's CSV
and XLSX, the notices, the rates); the summary names them once; both engines set them
and refuse the same ``as_of`` values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from lifecycle_rules import LifecycleRulesError, evaluate, load_pack
from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.core.results import Result
from lifecycle_rules.core.vocabulary import ROW_KEYS
from lifecycle_rules.io.cli import main
from lifecycle_rules.pack.compile import Pack, compile_pack, pack_digest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DAY = "2024-11-30"
DIGEST = re.compile(r"sha256:[0-9a-f]{16}")
PROVENANCE = ("as_of", "pack", "pack_digest")
LAND = {"project": {"id": "P-1", "name": "甲", "sector": "industrial", "investment_wan": 30000},
        "events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"},
                   {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}


def cli(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def sheet_dicts(path: Path, sheet: str) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(path)
    rows = list(book[sheet].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


# ------------------------------------------------------------------ the digest


def test_the_digest_is_worked_out_once_and_looks_the_same_everywhere() -> None:
    pack = load_pack("jiande")
    assert DIGEST.fullmatch(pack.digest)
    assert pack.digest is pack.digest  # once per compiled pack
    assert pack.digest == pack_digest(pack.spec, pack.parameters, pack.calendar)


@pytest.mark.parametrize("pack_id", ["jiande", "luohe"])
def test_the_digest_is_stable_across_processes(pack_id: str) -> None:
    """No hash randomisation, no dict order: two processes with other hash seeds agree
    with this one."""
    code = f"from lifecycle_rules import load_pack; print(load_pack({pack_id!r}).digest)"
    seen = set()
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              cwd=ROOT, check=True)
        seen.add(done.stdout.strip())
    assert seen == {load_pack(pack_id).digest}


def test_equal_inputs_give_equal_digests(tmp_path: Path) -> None:
    a, b = load_pack("jiande"), load_pack("jiande")
    assert a is not b and a.digest == b.digest
    assert a.with_parameters({}).digest == a.digest
    # The same pack read from another place: where it was read from is not in the digest.
    copy = tmp_path / "elsewhere" / "jiande"
    shutil.copytree(ROOT / "rulepacks/jiande", copy)
    assert load_pack(copy).digest == a.digest
    # The values in force, not how they were written: the default given again, as a float
    # or as a fraction, is the same policy.
    default = a.parameters["sign_to_land_days"]
    for same in (default, float(default), f"{2 * int(default)}/2"):
        assert load_pack("jiande", {"sign_to_land_days": same}).digest == a.digest, same


def test_another_parameter_value_gives_another_digest() -> None:
    base = load_pack("jiande")
    digests = {base.digest}
    for value in (181, 179, "361/2"):
        digests.add(load_pack("jiande", {"sign_to_land_days": value}).digest)
    assert len(digests) == 4
    # A parameter with no default, set: the rules it activates change the results.
    assert load_pack("jiande", {"step_nadi_days": 30}).digest != base.digest


def test_another_pack_version_or_rule_gives_another_digest(tmp_path: Path) -> None:
    base = load_pack("jiande")
    bumped = compile_pack(base.spec.model_copy(update={"version": "2099.1"}), base.source, None, base.national)
    assert bumped.label == "jiande@2099.1" and bumped.digest != base.digest
    first = base.spec.rules[0].model_copy(update={"clause": base.spec.rules[0].clause + " 另"})
    edited = compile_pack(base.spec.model_copy(update={"rules": [first, *base.spec.rules[1:]]}), base.source,
                          None, base.national)
    assert edited.digest not in (base.digest, bumped.digest)
    # The file on disk with another version line.
    copy = tmp_path / "jiande"
    shutil.copytree(ROOT / "rulepacks/jiande", copy)
    text = (copy / "pack.yaml").read_text(encoding="utf-8")
    version = re.search(r'^version: "([^"]+)"$', text, re.M)
    assert version is not None
    (copy / "pack.yaml").write_text(text.replace(version.group(0), 'version: "2099.1"'), encoding="utf-8")
    assert load_pack(copy).digest == bumped.digest


def test_another_working_day_calendar_gives_another_digest() -> None:
    pack = load_pack("luohe")  # counts working days
    years = dict(pack.national.years)
    last = max(years)
    shorter = WorkCalendar({y: s for y, s in years.items() if y != last})
    assert pack.with_calendar(shorter).digest != pack.digest
    assert pack.with_calendar(WorkCalendar(years)).digest == pack.digest  # an equal calendar


# ------------------------------------------------------------------ rows and results


def test_both_engines_stamp_every_row_and_result() -> None:
    pytest.importorskip("durable")
    from lifecycle_rules.engines.durable import evaluate as durable

    pack = load_pack("jiande")
    for history in [json.loads(x) for x in (EXAMPLES / "jiande.jsonl").read_text("utf-8").splitlines()]:
        for closed in (False, True):
            native = evaluate(pack, history, DAY, include_closed=closed)
            assert native == durable(pack, history, DAY, closed)
            assert (native.as_of, native.pack, native.pack_digest) == (dt.date(2024, 11, 30), pack.label,
                                                                      pack.digest)
            for w in native.warnings:
                assert (w.as_of, w.pack, w.pack_digest) == (native.as_of, native.pack, native.pack_digest)
                row = w.to_dict()
                assert tuple(row) == ROW_KEYS and tuple(row)[-3:] == PROVENANCE
                assert (row["as_of"], row["pack"], row["pack_digest"]) == (DAY, pack.label, pack.digest)
    outside = evaluate(load_pack("tongjiang"), {"project": {"id": "S", "investment_wan": 1}, "events": []}, DAY)
    assert outside.notices and outside.pack_digest == load_pack("tongjiang").digest
    assert Result.model_validate(outside.model_dump()) == outside
    assert outside.to_dict()["pack_digest"] == outside.pack_digest


def test_rows_under_other_parameters_never_look_alike() -> None:
    a = evaluate(load_pack("jiande"), LAND, DAY).warnings[0].to_dict()
    b = evaluate(load_pack("jiande", {"sign_to_land_days": 181}), LAND, DAY).warnings[0].to_dict()
    assert {k: v for k, v in a.items() if k != "pack_digest"} == {k: v for k, v in b.items() if k != "pack_digest"}
    assert a["pack_digest"] != b["pack_digest"]


@pytest.mark.parametrize("as_of", ["1899-12-31", "2200-01-01", "2024-02-30", "2024/11/30", "", None, 20241130,
                                   dt.date(1, 1, 1), "2024-11-30T00:00", b"2024-11-30"])
def test_the_durable_engine_refuses_what_the_native_one_refuses(as_of: Any) -> None:
    pytest.importorskip("durable")
    from lifecycle_rules.engines.durable import evaluate as durable

    pack = load_pack("jiande")
    errors = []
    for run in (lambda: evaluate(pack, LAND, as_of), lambda: durable(pack, LAND, as_of),
                lambda: durable(pack, {"project": {}}, as_of)):  # the day is checked before the history
        with pytest.raises(LifecycleRulesError) as info:
            run()
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1] == errors[2] and errors[0][1].startswith("as_of: ")


@pytest.mark.parametrize("as_of", ["2024-11-30", dt.date(2024, 11, 30), dt.datetime(2024, 11, 30, 9), " 2024-11-30 "])
def test_both_engines_take_the_same_days(as_of: Any) -> None:
    pytest.importorskip("durable")
    from lifecycle_rules.engines.durable import evaluate as durable

    pack = load_pack("jiande")
    native = evaluate(pack, LAND, as_of)
    assert native == durable(pack, LAND, as_of) and native.as_of == dt.date(2024, 11, 30)


# ------------------------------------------------------------------ every output


def _input(tmp_path: Path) -> Path:
    """The jiande example, a project with a field the format does not have (a notice) and a
    history that is rejected."""
    lines = (EXAMPLES / "jiande.jsonl").read_text(encoding="utf-8").splitlines()
    odd = {**LAND, "project": {**LAND["project"], "id": "ODD-1", "colour": "red"}}
    lines += [json.dumps(odd, ensure_ascii=False),
              '{"project": {"id": "BAD-1"}, "events": [{"date": "2024-02-30", "type": "progress"}]}']
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def test_every_evaluate_output_carries_the_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    pack = load_pack("jiande", {"sign_to_land_days": 181})
    want = (DAY, pack.label, pack.digest)
    argv = ["evaluate", "--pack", "jiande", "--as-of", DAY, "--param", "sign_to_land_days=181", src,
            "--allow-rejects"]
    for name, extra in (("out.jsonl", []), ("contract.csv", ["--columns", "contract"]), ("office.csv", []),
                        ("office.xlsx", []), ("contract.xlsx", ["--columns", "contract"])):
        code, _, err = cli([*argv, "-o", tmp_path / name, *extra], capsys)
        assert code == 0, err
    machine = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(machine) > 5 and all((r["as_of"], r["pack"], r["pack_digest"]) == want for r in machine)
    assert all(list(r)[-3:] == list(PROVENANCE) for r in machine)
    contract = csv_rows(tmp_path / "contract.csv")
    assert len(contract) == len(machine) and all((r["as_of"], r["pack"], r["pack_digest"]) == want for r in contract)
    office = csv_rows(tmp_path / "office.csv")
    assert list(office[0])[-3:] == ["评估日期", "规则包", "规则包摘要"]
    assert len(office) == len(machine) and all((r["评估日期"], r["规则包"], r["规则包摘要"]) == want for r in office)
    sheet = sheet_dicts(tmp_path / "office.xlsx", "预警")
    assert len(sheet) == len(machine)
    assert all((r["评估日期"], r["规则包"], r["规则包摘要"]) == (dt.datetime(2024, 11, 30), *want[1:]) for r in sheet)
    book = sheet_dicts(tmp_path / "contract.xlsx", "预警")
    assert len(book) == len(machine) and all((r["as_of"], r["pack"], r["pack_digest"]) == want for r in book)
    # The notices, not the rejects (they are about the input): the run's day and pack.
    notices = [json.loads(x) for x in (tmp_path / "out.jsonl.notices.jsonl").read_text("utf-8").splitlines()]
    assert any(n["project_id"] == "ODD-1" for n in notices)
    assert all((n["as_of"], n["pack"]) == want[:2] for n in notices)
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text("utf-8").splitlines()]
    assert [r["project_id"] for r in rejects] == ["BAD-1"] and "pack" not in rejects[0]
    office_notices = csv_rows(tmp_path / "office.csv.notices.csv")
    assert office_notices and all((n["评估日期"], n["规则包"]) == want[:2] for n in office_notices)
    sheet_notices = sheet_dicts(tmp_path / "office.xlsx", "说明")
    assert sheet_notices and all((n["评估日期"], n["规则包"]) == (dt.datetime(2024, 11, 30), want[1])
                                 for n in sheet_notices)


def test_worker_processes_stamp_what_the_run_process_stamps(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    for jobs in ("1", "2"):
        code, _, err = cli(["evaluate", "--pack", "luohe", "--as-of", DAY, src, "--jobs", jobs, "--quiet",
                            "--allow-rejects", "-o", tmp_path / f"j{jobs}.jsonl"], capsys)
        assert code == 0, err
    one, two = ((tmp_path / f"j{n}.jsonl").read_bytes() for n in "12")
    assert one == two and load_pack("luohe").digest.encode() in one


def test_the_summary_names_the_pack_digest_day_and_parameters(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    argv = ["evaluate", "--pack", "jiande", "--as-of", DAY, src, "--allow-rejects", "-o", tmp_path / "o.jsonl"]
    code, _, err = cli(argv, capsys)
    assert code == 0, err
    pack = load_pack("jiande")
    [line] = [x for x in err.splitlines() if x.startswith("lifecycle-rules: pack ")]
    assert line == (f"lifecycle-rules: pack {pack.label} ({pack.digest}), as_of {DAY}, "
                    "parameters set: none (the pack's defaults)")
    code, _, err = cli([*argv, "--param", "sign_to_land_days=181", "--param", "step_nadi_days=30"], capsys)
    assert code == 0, err
    other = load_pack("jiande", {"sign_to_land_days": 181, "step_nadi_days": 30})
    assert (f"lifecycle-rules: pack {other.label} ({other.digest}), as_of {DAY}, "
            "parameters set: sign_to_land_days=181, step_nadi_days=30\n") in err
    code, _, err = cli([*argv, "--quiet"], capsys)
    assert code == 0 and err == ""


def test_the_rates_carry_the_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = load_pack("jiangyin")
    want = ("2024-07-31", pack.label, pack.digest)
    argv = ["rates", "--pack", "jiangyin", "--as-of", "2024-07-31", EXAMPLES / "jiangyin.jsonl"]
    for name, extra in (("r.json", []), ("r.jsonl", []), ("r.csv", []), ("c.csv", ["--columns", "contract"]),
                        ("r.xlsx", [])):
        code, _, err = cli([*argv, "-o", tmp_path / name, *extra], capsys)
        assert code == 0, err
    rows = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    contract = csv_rows(tmp_path / "c.csv")
    assert len(rows) == len(pack.spec.rates) and rows == lines
    for r in (*rows, *contract):
        assert (r["as_of"], r["pack"], r["pack_digest"]) == want
    office = csv_rows(tmp_path / "r.csv")
    assert office and all((r["评估日期"], r["规则包"], r["规则包摘要"]) == want for r in office)
    sheet = sheet_dicts(tmp_path / "r.xlsx", "指标")
    assert sheet and all((r["评估日期"], r["规则包"], r["规则包摘要"]) == (dt.datetime(2024, 7, 31), *want[1:])
                         for r in sheet)


def test_the_pinned_examples_carry_their_pack(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((EXAMPLES / "expected").glob("*.jsonl")):
        pack_id = next(p for p in ("jiande", "luohe", "tongjiang", "wushan", "jiangyin") if p in path.name)
        pack: Pack = load_pack(pack_id)
        day = re.search(r"\d{4}-\d{2}-\d{2}", path.name)
        assert day is not None
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert (row["as_of"], row["pack"], row["pack_digest"]) == (day.group(0), pack.label, pack.digest), \
                f"{path.name}: if the pack changed on purpose, run scripts/pin_examples.py"
