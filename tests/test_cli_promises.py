"""The command line keeps its promises: exit 0 success, 1 rejects, 2 bad usage / pack / input,
and every exit 2 is one line on stderr, before any input is read and any output file made."""

from __future__ import annotations

import csv
import errno
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest

from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
JIANDE = ROOT / "examples/jiande.jsonl"
DEMO = ROOT / "tests/data/packs/demo"
# The rate columns, then the provenance every output row carries (the day, the pack, its digest).
RATE_KEYS = ["id", "name", "clause", "numerator", "denominator", "value", "window_start", "window_end", "notes",
             "missing", "as_of", "pack", "pack_digest"]
RATE_HEADERS = ["指标", "数值", "分子", "分母", "统计区间", "政策依据", "说明", "评估日期", "规则包", "规则包摘要"]


def cli(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """In process; a traceback a user would see fails the test with its type."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:
        pytest.fail(f"traceback leaked from the CLI: {type(exc).__name__}: {str(exc)[:300]}")
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, err: str, *needles: str) -> str:
    """Exit 2 and exactly one line on stderr, ``lifecycle-rules: ...``; no usage block."""
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("lifecycle-rules: "), err
    assert "usage:" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any read of an input file fails the test: usage errors come first."""
    import lifecycle_rules.io.progress as progress
    import lifecycle_rules.io.readers as readers

    def read(*args: Any, **kwargs: Any) -> Any:
        pytest.fail(f"an input was read: {args}")

    for module, name in ((progress, "count_lines"), (readers, "jsonl_blocks"), (readers, "read_histories")):
        monkeypatch.setattr(module, name, read)


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def portfolio(tmp_path: Path) -> Path:
    """The demo pack's portfolio: 2 of 3 signed projects started; big investment sums."""
    def h(pid: str, *steps: tuple[str, str], reports: tuple[tuple[str, str, float, float], ...] = ()) -> str:
        events: list[dict[str, Any]] = [{"date": d, "type": "step_completed", "step": s} for d, s in steps]
        events += [{"date": filed, "type": "monthly_report", "period": period, "planned_wan": planned,
                    "actual_wan": actual} for filed, period, planned, actual in reports]
        return json.dumps({"project": {"id": pid}, "events": events}, ensure_ascii=False)

    src = tmp_path / "portfolio.jsonl"
    src.write_text("\n".join([
        h("A", ("2024-02-01", "签约"), ("2024-05-01", "开工"),
          reports=(("2024-06-05", "2024-05", 1234567.5, 2000000),)),
        h("B", ("2024-03-01", "签约"), ("2024-09-01", "开工")),
        h("C", ("2024-04-01", "签约"), ("2024-04-10", "开工")),
    ]) + "\n", encoding="utf-8")
    return src


EVALUATE = ["evaluate", "--pack", "jiande", "--as-of", "2024-11-30"]


# ------------------------------------------------------------------ 1. option errors


@pytest.mark.usefixtures("no_reading")
@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        pytest.param(["-o", "{tmp}/out.txt"], ["-o ", "out.txt", "'.txt'", "--format"], id="unknown-suffix"),
        pytest.param(["-o", "{tmp}/out"], ["-o ", "cannot tell the output format"], id="no-suffix"),
        pytest.param(["--format", "csv"], ["--format csv needs -o FILE"], id="csv-to-stdout"),
        pytest.param(["--format", "xlsx", "-o", "-"], ["--format xlsx needs -o FILE"], id="xlsx-to-dash"),
        pytest.param(["-o", "{tmp}/no/such/dir/out.csv"], ["-o ", "no such directory"], id="no-directory"),
        pytest.param(["-o", "{tmp}/adir.csv"], ["-o ", "adir.csv: is a directory"], id="output-a-directory"),
        pytest.param(["--rejects", "{tmp}/no/r.jsonl"], ["--rejects ", "no such directory"], id="rejects-dir"),
        pytest.param(["--encoding", "klingon"], ["--encoding: unknown encoding 'klingon'"], id="encoding"),
        pytest.param(["--layout", "tables"], ["--layout tables needs --events FILE"], id="tables-no-events"),
        pytest.param(["--layout", "wide", "--events", "{tmp}/ev.csv"], ["--events goes with --layout tables"],
                     id="events-not-tables"),
    ],
)
def test_evaluate_option_errors_are_one_line_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             extra: list[str], needles: list[str]) -> None:
    (tmp_path / "adir.csv").mkdir()
    (tmp_path / "ev.csv").write_text("项目代码,日期,事件\n", encoding="utf-8")
    before = files_in(tmp_path)
    argv = [*EVALUATE, JIANDE, *(x.format(tmp=tmp_path) for x in extra)]
    code, out, err = cli(argv, capsys)
    one_line(code, err, *needles)
    assert out == "" and files_in(tmp_path) == before


@pytest.mark.usefixtures("no_reading")
@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        pytest.param(["--jobs", "-3"], ["--jobs: '-3' is not a number of worker processes"], id="jobs-negative"),
        pytest.param(["--jobs", "two"], ["--jobs: 'two'"], id="jobs-text"),
        pytest.param(["--param", "nope"], ["--param: expected NAME=VALUE, got 'nope'"], id="param-no-equals"),
        pytest.param(["--param", "=3"], ["--param: expected NAME=VALUE, got '=3'"], id="param-no-name"),
        pytest.param(["--format", "docx", "-o", "x.docx"], ["--format: invalid choice: 'docx'"], id="format"),
        pytest.param(["--bogus"], ["unrecognized arguments: --bogus"], id="unknown-option"),
    ],
)
def test_evaluate_parser_errors_are_one_line(capsys: pytest.CaptureFixture[str], extra: list[str],
                                             needles: list[str]) -> None:
    code, out, err = cli([*EVALUATE, JIANDE, *extra], capsys)
    one_line(code, err, *needles)
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["evaluate", "--pack", "jiande", "x.jsonl"], "the following arguments are required: --as-of"),
     (["evaluat"], "invalid choice: 'evaluat'"),
     ([], "the following arguments are required: command")],
)
def test_missing_arguments_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, _, err = cli(argv, capsys)
    one_line(code, err, needle)


@pytest.mark.usefixtures("no_reading")
@pytest.mark.parametrize("command", ["evaluate", "rates"])
@pytest.mark.parametrize(
    ("inputs", "extra", "needle"),
    [
        pytest.param(["{tmp}"], [], "{tmp}: is a directory, not a file", id="input-directory"),
        pytest.param(["{tmp}/none.jsonl"], [], "{tmp}/none.jsonl: no such file", id="input-missing"),
        pytest.param(["{tmp}/p.csv"], ["--events", "{tmp}/none.csv"], "--events {tmp}/none.csv: no such file",
                     id="events-missing"),
        pytest.param(["{tmp}/p.csv"], ["--mapping", "{tmp}/none.yaml"], "--mapping {tmp}/none.yaml: no such file",
                     id="mapping-missing"),
        pytest.param(["{tmp}/p.csv"], ["--mapping", "{tmp}"], "--mapping {tmp}: is a directory", id="mapping-dir"),
        pytest.param(["{tmp}/p.csv"], ["--mapping", "{tmp}/broken.yaml"], "{tmp}/broken.yaml:2: the column mapping "
                     "is not valid YAML", id="mapping-broken"),
        pytest.param(["{tmp}/notes.txt"], [], "{tmp}/notes.txt: cannot tell the layout from its suffix '.txt'",
                     id="input-suffix"),
        pytest.param(["{tmp}/p.csv"], ["-o", "{tmp}/p.csv"], "-o {tmp}/p.csv: is an input", id="output-is-input"),
    ],
)
def test_files_are_checked_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                          inputs: list[str], extra: list[str], needle: str) -> None:
    (tmp_path / "p.csv").write_text("项目代码,签约日期\nA,2024-02-01\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("project: [\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("{}\n", encoding="utf-8")
    before = files_in(tmp_path)
    pack = "jiande" if command == "evaluate" else DEMO
    argv = [command, "--pack", pack, "--as-of", "2024-11-30",
            *(x.format(tmp=tmp_path) for x in [*inputs, *extra])]
    code, out, err = cli(argv, capsys)
    line = one_line(code, err, needle.format(tmp=tmp_path))
    assert line.count(str(tmp_path)) == 1, line
    assert out == "" and files_in(tmp_path) == before


@pytest.mark.usefixtures("no_reading")
@pytest.mark.parametrize("name", ["rates.txt", "rates"])
def test_rates_unknown_output_suffix_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 name: str) -> None:
    code, out, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", JIANDE, "-o", tmp_path / name], capsys)
    one_line(code, err, f"-o {tmp_path / name}: cannot tell the output format", ".json, .jsonl, .csv or .xlsx")
    assert out == "" and files_in(tmp_path) == []


def test_an_os_error_after_the_checks_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import lifecycle_rules.io.writers as writers

    def full(path: Any, rows: Any, *office: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(writers, "write_rates", full)
    target = tmp_path / "r.csv"
    code, _, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", portfolio(tmp_path), "-o", target], capsys)
    one_line(code, err, f"{target}: No space left on device")


# ------------------------------------------------------------------ 2. --as-of


@pytest.mark.parametrize("as_of", ["2024/11/30", "2024.11.30", "2024年11月30日", "2024-11-30 ", "２０２４-11-30"])
def test_as_of_takes_the_date_forms_data_takes(capsys: pytest.CaptureFixture[str], as_of: str) -> None:
    code, iso, _ = cli([*EVALUATE, JIANDE, "--quiet"], capsys)
    assert code == 0 and iso.count("\n") >= 3
    code, out, err = cli(["evaluate", "--pack", "jiande", "--as-of", as_of, JIANDE, "--quiet"], capsys)
    assert code == 0, err
    assert out == iso


@pytest.mark.parametrize("bad", ["2024-13-01", "2024-02-30", "20241130", "45000", "2024-11-30 10:00",
                                 "24/11/30", "tomorrow", ""])
@pytest.mark.parametrize("command", ["evaluate", "rates", "calendar"])
def test_a_bad_as_of_is_echoed(capsys: pytest.CaptureFixture[str], command: str, bad: str) -> None:
    argv: dict[str, list[Any]] = {"evaluate": [*EVALUATE[:3], "--as-of", bad, JIANDE],
                                  "rates": ["rates", "--pack", DEMO, "--as-of", bad, JIANDE],
                                  "calendar": ["calendar", "--as-of", bad]}
    code, out, err = cli(argv[command], capsys)
    assert one_line(code, err) == f"lifecycle-rules: --as-of: {bad!r} is not a date (use 2024-11-30)"
    assert out == ""


def test_rates_and_calendar_take_the_same_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = portfolio(tmp_path)
    code, iso, _ = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", src], capsys)
    assert code == 0
    code, out, _ = cli(["rates", "--pack", DEMO, "--as-of", "2024年7月31日", src], capsys)
    assert code == 0 and out == iso
    code, out, err = cli(["calendar", "--as-of", "2024/11/30"], capsys)
    assert code in (0, 1) and out.startswith("years\t"), err


# ------------------------------------------------------------------ 3. rates -o


def test_rates_csv_has_only_the_rate_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The office's CSV (the default): Chinese headers, the value as a percentage, counts as counts.
    target = tmp_path / "rates.csv"
    code, _, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", portfolio(tmp_path), "-o", target], capsys)
    assert code == 0, err
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows[0] == RATE_HEADERS
    by_name = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert (by_name["签约项目开工率"]["分子"], by_name["签约项目开工率"]["分母"]) == ("2", "3")
    assert by_name["签约项目开工率"]["数值"] == "66.7%"
    assert by_name["签约项目开工率"]["统计区间"] == "2024年1月1日至2024年7月31日"
    assert (by_name["当年投入完成率"]["分子"], by_name["当年投入完成率"]["分母"]) == ("2000000", "1234567.5")
    assert by_name["当年投入完成率"]["数值"] == "—" and "计划投资不全" in by_name["当年投入完成率"]["说明"]
    assert by_name["投产率"]["数值"] == "—" and by_name["投产率"]["统计区间"] == "截至2024年7月31日"
    assert "分母为0" in by_name["投产率"]["说明"]  # never a silent dash
    assert files_in(tmp_path) == ["portfolio.jsonl", "rates.csv"]
    # --columns contract: the machine's keys, only the rate columns.
    code, _, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", tmp_path / "portfolio.jsonl",
                        "-o", target, "--columns", "contract"], capsys)
    assert code == 0, err
    rows = list(csv.reader(target.read_bytes().decode("utf-8-sig").splitlines()))
    assert rows[0] == RATE_KEYS
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert (by_id["start-rate"]["numerator"], by_id["start-rate"]["denominator"]) == ("2", "3")
    assert by_id["start-rate"]["name"] == "签约项目开工率" and by_id["start-rate"]["value"] == "0.666667"
    assert (by_id["investment-rate"]["numerator"], by_id["investment-rate"]["denominator"]) == ("2000000",
                                                                                                 "1234567.5")
    assert by_id["empty-rate"]["value"] == "" and by_id["empty-rate"]["window_start"] == ""
    assert files_in(tmp_path) == ["portfolio.jsonl", "rates.csv"]


def test_rates_xlsx_jsonl_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = portfolio(tmp_path)
    for name in ("r.xlsx", "r.jsonl", "r.json"):
        code, _, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", src, "-o", tmp_path / name], capsys)
        assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["指标", "指标说明"]
    cells = list(book["指标"].iter_rows(values_only=True))
    assert list(cells[0]) == RATE_HEADERS and len(cells) == 5
    start = dict(zip(RATE_HEADERS, cells[1], strict=True))
    assert start["指标"] == "签约项目开工率" and start["分子"] == 2 and isinstance(start["分子"], int)
    assert start["数值"] == pytest.approx(2 / 3) and book["指标"]["B2"].number_format == "0.0%"
    lines = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert [list(json.loads(x)) for x in lines] == [RATE_KEYS] * 4
    assert '"numerator":2,"denominator":3,' in lines[0]
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert text.startswith("[\n  {\n") and '"numerator": 2,\n' in text and "2.0" not in text
    assert [r["id"] for r in json.loads(text)] == ["start-rate", "investment-rate", "completion-rate", "empty-rate"]


def test_rates_table_prints_whole_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", portfolio(tmp_path)], capsys)
    assert code == 0
    assert out.splitlines()[:2] == ["签约项目开工率\t66.7%\t2/3\ttest rates",
                                    "当年投入完成率\t—\t2000000/1234567.5\ttest rates"]


def test_rates_over_a_csv_export(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A sheet's reader may say things of the file besides its projects (a note on the header
    # it read): rates counts the projects only.
    import lifecycle_rules.io.readers as readers

    original = readers.read_histories

    def with_a_note(path: Any, **kwargs: Any) -> Iterator[Any]:
        yield SimpleNamespace(file=str(path), locator="row 1", kind="header", text="读取表头")
        yield from original(path, **kwargs)

    monkeypatch.setattr(readers, "read_histories", with_a_note)
    src = tmp_path / "p.csv"
    src.write_text("项目代码,签约日期,开工日期\nA,2024-02-01,2024-05-01\nB,2024-03-01,\n", encoding="utf-8")
    code, out, err = cli(["rates", "--pack", DEMO, "--as-of", "2024-07-31", src], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "签约项目开工率\t50.0%\t1/2\ttest rates"


# ------------------------------------------------------------------ 4. a file named once


@pytest.mark.parametrize("command", ["evaluate", "rates"])
def test_a_reader_error_names_the_file_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            command: str) -> None:
    src = tmp_path / "nohead.csv"
    src.write_text("项目名称,开工日期\nX,2024-01-01\n", encoding="utf-8")
    pack = "jiande" if command == "evaluate" else DEMO
    code, _, err = cli([command, "--pack", pack, "--as-of", "2024-11-30", src], capsys)
    line = one_line(code, err, f"lifecycle-rules: {src}: ", "项目代码")
    assert line.count("nohead.csv") == 1, line


def test_an_events_table_error_names_the_events_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    projects, events = tmp_path / "projects.csv", tmp_path / "events.csv"
    projects.write_text("项目代码,项目名称\nA,x\n", encoding="utf-8")
    events.write_text("foo,bar\n1,2\n", encoding="utf-8")
    code, _, err = cli([*EVALUATE, projects, "--events", events], capsys)
    line = one_line(code, err, f"lifecycle-rules: {events}: ")
    assert "projects.csv" not in line and line.count("events.csv") == 1, line
