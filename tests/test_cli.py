"""The command line, end to end, on the bundled examples and on broken input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from lifecycle_rules import evaluate, load_pack
from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"])
def test_evaluate_examples_matches_the_library(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["evaluate", "--pack", name, "--as-of", "2024-11-30",
                          str(ROOT / f"examples/{name}.jsonl")], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    pack = load_pack(name)
    expected = []
    lines = (ROOT / f"examples/{name}.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        expected += [w.to_dict() for w in evaluate(pack, line, "2024-11-30").warnings]
    assert rows == expected
    assert len(rows) >= 3
    assert f"read {len(lines)}, evaluated {len(lines)}, rejected 0" in err


def test_evaluate_jobs_gives_the_same_order(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8")
    big = tmp_path / "big.jsonl"
    lines = []
    for i in range(40):
        for line in src.splitlines():
            h = json.loads(line)
            h["project"]["id"] += f"-{i}"
            lines.append(json.dumps(h, ensure_ascii=False))
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, one, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2025-06-30", str(big)], capsys)
    code, two, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2025-06-30", "--jobs", "2", str(big)], capsys)
    assert code == 0
    assert one == two and one.count("\n") > 100


def test_jobs_default_to_all_cores_only_for_inputs_that_pay_for_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from lifecycle_rules.io import batch

    small = tmp_path / "small.jsonl"
    shutil.copy(ROOT / "examples/jiande.jsonl", small)
    size = small.stat().st_size
    assert batch.default_jobs([small]) == 1  # far below WORKERS_PAY_FROM
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])  # the help names the threshold the code uses
    assert f"{batch.WORKERS_PAY_FROM >> 20} MiB or more" in " ".join(capsys.readouterr().out.split())
    monkeypatch.setattr(batch, "cores", lambda: 2)
    monkeypatch.setattr(batch, "WORKERS_PAY_FROM", size)
    assert batch.default_jobs([small]) == 2  # at the threshold
    assert batch.default_jobs([Path("-")]) == 1  # standard input: size unknown
    monkeypatch.setattr(batch, "WORKERS_PAY_FROM", size + 1)
    assert batch.default_jobs([small]) == 1  # one byte below it
    assert batch.default_jobs([small, small]) == 2  # the inputs together
    assert batch.default_jobs([small], events=small) == 2  # an events table counts too

    # What the command passes to the run: the default, or what --jobs says (0: all cores).
    used: list[int] = []
    real_run = batch.run

    def spy(*args: object, **kwargs: object) -> object:
        used.append(kwargs["jobs"])  # type: ignore[arg-type]
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "run", spy)
    outputs = []
    for extra in ([], ["--jobs", "1"], ["--jobs", "0"]):
        code, out, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(small), *extra], capsys)
        assert code == 0
        outputs.append(out)
    assert used == [1, 1, 2]
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0].count("\n") >= 3


def test_rejects_are_reported_and_the_rest_evaluated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    bad_date = json.dumps({"project": {"id": "BAD-1"}, "events": [{"date": "2024-02-30", "type": "progress"}]})
    bad_step = json.dumps({"project": {"id": "BAD-2"}, "events": [
        {"date": "2024-02-03", "type": "step_completed", "step": "开公"}]}, ensure_ascii=False)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([good[0], bad_date, good[1], "{not json", bad_step, good[2]]) + "\n",
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(src), "-o", str(out)], capsys)
    assert code == 1
    assert "read 6, evaluated 3, rejected 3" in err
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    by_line = {r["locator"]: r for r in rejects}
    assert set(by_line) == {"line 2", "line 4", "line 5"}
    assert by_line["line 2"]["project_id"] == "BAD-1" and by_line["line 2"]["field"] == "events[0].date"
    assert by_line["line 5"]["field"] == "events[0].step" and "开公" in by_line["line 5"]["message"]
    assert out.is_file()
    code, _, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(src), "-o", str(out),
                      "--allow-rejects"], capsys)
    assert code == 0


def test_notices_are_written_beside_the_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    code, _, err = run(["evaluate", "--pack", "jiande", "--as-of", "2026-12-31",
                        str(ROOT / "examples/jiande.jsonl"), "-o", str(out)], capsys)
    assert code == 0
    # Beside the office's CSV, the notices are a CSV too (文件, 行, 项目代码, 说明).
    notes = list(csv.DictReader((tmp_path / "w.csv.notices.csv").read_text(encoding="utf-8-sig").splitlines()))
    lines = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()
    where = next(i for i, line in enumerate(lines, start=1) if '"JD-2024-009"' in line)
    assert [(n["项目代码"], n["行"]) for n in notes] == [("JD-2024-009", str(where))]
    assert "investment_wan" in notes[0]["说明"]
    assert "notices: 1" in err
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_bad_pack_and_missing_file_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["evaluate", "--pack", "atlantis", "--as-of", "2024-11-30", "x.jsonl"], capsys)
    assert code == 2 and "atlantis" in err
    code, _, err = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(tmp_path / "none.jsonl")], capsys)
    assert code == 2 and "no such file" in err


def test_bad_as_of_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--pack", "jiande", "--as-of", "2024-13-01", "x.jsonl"])
    assert info.value.code == 2


def test_param_sets_a_pack_parameter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "one.jsonl"
    src.write_text(json.dumps({"project": {"id": "P", "sector": "industrial"}, "events": [
        {"date": "2024-07-10", "type": "step_completed", "step": "签约"}]}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    # signed 2024-07-10: 180 days (orange from day 151, 2024-12-08) by default; 120 days: red 2024-11-08
    _, out, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-08", str(src)], capsys)
    assert out == ""
    _, out, _ = run(["evaluate", "--pack", "jiande", "--as-of", "2024-11-08", "--param",
                     "sign_to_land_days=120", str(src)], capsys)
    assert json.loads(out)["level"] == "red"


def test_packs_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["packs"], capsys)
    assert code == 0
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert {"jiande", "luohe"} <= set(ids)


def test_test_command_passes_builtin_packs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["test", str(ROOT / "rulepacks/jiande"), str(ROOT / "rulepacks/luohe")], capsys)
    assert code == 0, out
    assert "rules exercised 5/5" in out and "rules exercised 6/6" in out


def test_test_command_fails_on_uncovered_level_and_unpinned_threshold(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pack = tmp_path / "jiande"
    shutil.copytree(ROOT / "rulepacks/jiande", pack)
    # Without these, jd.land-to-start's orange is never seen on its first day and the
    # red of the 18-month band loses its day-before check.
    for name in ("land-to-start.yaml", "milestone-words.yaml", "signoff-close-reopen.yaml",
                 "tiers.yaml", "no-board.yaml", "project-exited.yaml"):
        (pack / "fixtures" / name).unlink()
    code, out, _ = run(["test", str(pack)], capsys)
    assert code == 1
    assert "NOT PINNED orange of rule jd.land-to-start" in out


def test_test_command_reports_a_failing_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pack = tmp_path / "luohe"
    shutil.copytree(ROOT / "rulepacks/luohe", pack)
    f = pack / "fixtures/negotiation-stall.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("since: 2024-04-16", "since: 2024-04-17"), encoding="utf-8")
    code, out, _ = run(["test", str(pack)], capsys)
    assert code == 1
    assert "FAIL" in out and "negotiation-stall.yaml" in out and "2024-04-17" in out


def test_schema_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "s.json"
    assert main(["schema", "-o", str(target)]) == 0
    schema = json.loads(target.read_text(encoding="utf-8"))
    assert "rules" in schema["properties"]


@pytest.mark.parametrize("pack", ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"])
def test_durable_engine_gives_the_same_output(pack: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("durable")
    src = str(ROOT / f"examples/{pack}.jsonl")
    code, native, _ = run(["evaluate", "--pack", pack, "--as-of", "2024-11-30", "--include-closed", src], capsys)
    code2, durable, _ = run(["evaluate", "--pack", pack, "--as-of", "2024-11-30", "--include-closed",
                             "--engine", "durable", "--jobs", "2", src], capsys)
    assert code == code2 == 0
    assert durable == native and native.count("\n") >= 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_many_blocks_keep_every_stream_in_input_order(jobs: str, capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle_rules.io import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 2048)  # many blocks from a small file
    good = (ROOT / "examples/jiande.jsonl").read_text(encoding="utf-8").splitlines()
    lines: list[bytes] = []
    for i in range(60):
        h = json.loads(good[i % len(good)])
        h["project"]["id"] += f"-{i}"
        h["project"]["extra_column"] = i  # a notice each
        lines.append(json.dumps(h, ensure_ascii=False).encode("utf-8"))
        if i % 7 == 3:
            lines.append(b'{"project": {"id": "GBK-%d", "name": "\xc4\xc3\xb5\xd8"}}' % i)  # 拿地 in GBK
        if i % 11 == 5:
            lines += [b"", b'{"project": {"id": "' + b"X" * 300 + b'"}}']
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run(["evaluate", "--pack", "jiande", "--as-of", "2025-06-30", str(src), "-o", str(out),
                        "--jobs", jobs, "--allow-rejects"], capsys)
    assert code == 0
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").read_text("utf-8").splitlines()]
    numbers = [int(r["locator"].split()[1]) for r in rejects]
    assert numbers == sorted(numbers) and len(numbers) == 9 + 5
    gbk = [r for r in rejects if "解码" in r["message"]]
    assert len(gbk) == 9 and all(r["message"] == "含无法按 utf-8-sig 解码的字节（可用 encoding= 指定）" for r in gbk)
    assert lines[int(gbk[0]["locator"].split()[1]) - 1].startswith(b'{"project": {"id": "GBK-3"')
    assert "read 74, evaluated 60, rejected 14" in err
    notices = [json.loads(x) for x in (tmp_path / "out.jsonl.notices.jsonl").read_text("utf-8").splitlines()]
    noticed = [n["project_id"] for n in notices if "extra_column" in n["notice"]]
    assert noticed == [json.loads(x)["project"]["id"] for x in lines if b"extra_column" in x]
    results = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    order = {json.loads(x)["project"]["id"]: n for n, x in enumerate(lines) if b"extra_column" in x}
    assert [order[r["project_id"]] for r in results] == sorted(order[r["project_id"]] for r in results)
