"""Writers: each format round-trips, and nothing half-written ever looks finished."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest

from lifecycle_rules.core.vocabulary import ROW_KEYS
from lifecycle_rules.io.records import Reject
from lifecycle_rules.io.writers import RESULT_HEADERS, RESULT_KEYS, open_writer, result_json, write_rejects

HEADERS = [
    "项目代码", "预警编号", "规则", "对象", "等级", "起始日期", "期限", "协调层级",
    "状态", "责任单位", "政策条款", "提示内容",
]  # fmt: skip

# Keys deliberately out of SPEC order, with one extra key and a date object.
ROW_1: dict[str, object] = {
    "message": "年产5万吨新材料项目签约后90日未落地，请属地政府督办。",
    "project_id": "JD-2024-017",
    "key": "JD-2024-017/stage/签约未落地",
    "rule": "stage.sign_to_land",
    "subject": "签约未落地",
    "level": "red",
    "since": "2024-04-10",
    "due": dt.date(2024, 4, 9),
    "tier": 1,
    "status": "open",
    "responsible": ["下涯镇人民政府", "市商务局"],
    "clause": "jiande-2024.txt 三(三)",
    "pack": "jiande",
}
ROW_2: dict[str, object] = {
    "project_id": "NY-7",
    "key": "NY-7/step/投产",
    "rule": "step.production",
    "subject": "投产",
    "level": "orange",
    "since": "2024-11-01",
    "due": None,
    "tier": 2,
    "status": "in_progress",
    "responsible": [],
    "clause": "jiande-2024.txt 三(四)",
    "message": "投产预警",
    "pack": "jiande",
}


def _write(path: Path, *rows: dict[str, object]) -> None:
    with open_writer(path) as writer:
        for row in rows:
            writer.write(row)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------ formats


def test_jsonl_keeps_spec_order_and_chinese(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    _write(path, ROW_1, ROW_2)
    raw = path.read_bytes()
    assert "签约未落地".encode() in raw  # not \\u escapes
    lines = raw.decode("utf-8").splitlines()
    first = json.loads(lines[0])
    assert list(first) == [
        "project_id", "key", "rule", "subject", "level", "since", "due", "tier",
        "status", "responsible", "clause", "message", "pack",
    ]  # fmt: skip
    assert first["due"] == "2024-04-09"
    assert first["responsible"] == ["下涯镇人民政府", "市商务局"]
    assert json.loads(lines[1])["due"] is None
    assert len(lines) == 2
    assert _leftovers(tmp_path) == ["out.jsonl"]


def test_a_full_warning_row_comes_out_in_row_keys_order(tmp_path: Path) -> None:
    # Every result file has SPEC §4's columns through message; ProjectWarning.to_dict gives the rest in
    # ROW_KEYS order, and they follow in it.
    assert ROW_KEYS[: len(RESULT_KEYS)] == RESULT_KEYS and RESULT_KEYS[-1] == "message"
    assert list(RESULT_HEADERS) == list(RESULT_KEYS)
    row = {key: ROW_1.get(key, f"<{key}>") for key in ROW_KEYS}
    _write(tmp_path / "out.jsonl", row)
    _write(tmp_path / "out.csv", row)
    line = (tmp_path / "out.jsonl").read_bytes()
    assert list(json.loads(line)) == list(ROW_KEYS) and line == result_json(row) + b"\n"
    header = (tmp_path / "out.csv").read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.split(",") == [*HEADERS, *ROW_KEYS[len(RESULT_KEYS):]]


def test_stdout_is_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    with open_writer(None) as writer:
        writer.write({"key": "k", "project_id": "P"})
    assert capsys.readouterr().out == '{"project_id":"P","key":"k"}\n'
    with open_writer("-") as writer:
        writer.write({"message": "提示"})
    assert capsys.readouterr().out == '{"message":"提示"}\n'


def test_csv_has_bom_chinese_headers_and_joined_units(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    _write(path, ROW_1, ROW_2)
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [*HEADERS, "pack"]
    assert rows[1] == [
        "JD-2024-017", "JD-2024-017/stage/签约未落地", "stage.sign_to_land", "签约未落地",
        "red", "2024-04-10", "2024-04-09", "1", "open", "下涯镇人民政府、市商务局",
        "jiande-2024.txt 三(三)", "年产5万吨新材料项目签约后90日未落地，请属地政府督办。", "jiande",
    ]  # fmt: skip
    assert rows[2][6] == "" and rows[2][9] == ""  # due None, no units
    assert len(rows) == 3


def test_csv_with_no_rows_still_has_its_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    open_writer(path).close()
    assert path.read_bytes().decode("utf-8-sig").splitlines() == [",".join(HEADERS)]


def test_csv_rejects_a_column_the_header_lacks(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(ValueError, match=r"keys \['surprise'\] are not columns"), open_writer(path) as writer:
        writer.write(ROW_1)
        writer.write({**ROW_2, "surprise": 1})
    assert _leftovers(tmp_path) == []


def test_xlsx_opens_with_header_dates_and_frozen_row(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    _write(path, ROW_1, ROW_2)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADERS, "pack"]
    assert rows[1][0] == "JD-2024-017"
    assert rows[1][5] == dt.datetime(2024, 4, 10)  # an ISO string became a real date
    assert rows[1][6] == dt.datetime(2024, 4, 9)
    assert sheet["F2"].is_date and sheet["F2"].number_format == "yyyy-mm-dd"
    assert rows[1][7] == 1
    assert rows[1][9] == "下涯镇人民政府、市商务局"
    assert rows[2][6] is None
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert len(rows) == 3
    book.close()
    assert _leftovers(tmp_path) == ["out.xlsx"]


@pytest.mark.parametrize(("name", "fmt"), [("out.txt", "csv"), ("results", "jsonl")])
def test_explicit_format(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    with open_writer(path, fmt) as writer:  # type: ignore[arg-type]
        writer.write(ROW_2)
    text = path.read_bytes()
    assert text.startswith(codecs.BOM_UTF8) == (fmt == "csv")


def test_unknown_suffix_and_tabular_stdout_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot tell the format"):
        open_writer(tmp_path / "out.txt")
    with pytest.raises(ValueError, match="csv output needs a file path"):
        open_writer(None, "csv")
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------ all or nothing


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_nothing_final_until_close(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    writer = open_writer(path)
    writer.write(ROW_1)
    assert not path.exists()
    [partial] = _leftovers(tmp_path)  # a temporary file of this writer's own: .out.jsonl.<random>.partial
    assert partial.startswith(f".out{suffix}.") and partial.endswith(".partial")
    other = open_writer(path)  # a second writer of the same target writes a file of its own
    assert len(_leftovers(tmp_path)) == 2
    other.abort()
    assert _leftovers(tmp_path) == [partial]
    writer.close()
    assert _leftovers(tmp_path) == [f"out{suffix}"]
    writer.close()  # a second close changes nothing
    writer.abort()  # nor does an abort after commit
    assert _leftovers(tmp_path) == [f"out{suffix}"]
    with pytest.raises(ValueError, match="already closed"):
        writer.write(ROW_2)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_abort_leaves_no_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    writer = open_writer(path)
    writer.write(ROW_1)
    writer.abort()
    assert _leftovers(tmp_path) == []
    writer.close()  # no resurrection
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_exception_inside_with_leaves_no_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    with pytest.raises(KeyboardInterrupt), open_writer(path) as writer:
        writer.write(ROW_1)
        raise KeyboardInterrupt
    assert _leftovers(tmp_path) == []


def test_abort_keeps_the_previous_complete_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    _write(path, ROW_1)
    before = path.read_bytes()
    with pytest.raises(RuntimeError), open_writer(path) as writer:
        writer.write(ROW_2)
        raise RuntimeError("evaluation failed")
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == ["out.jsonl"]


def test_xlsx_abort_removes_openpyxl_temp_file(tmp_path: Path) -> None:
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    before = list(ALL_TEMP_FILES)
    writer = open_writer(tmp_path / "out.xlsx")
    writer.write(ROW_1)
    writer.abort()
    assert before == ALL_TEMP_FILES


def test_missing_directory_fails_at_open(tmp_path: Path) -> None:
    for suffix in (".jsonl", ".csv", ".xlsx"):
        with pytest.raises(FileNotFoundError):
            open_writer(tmp_path / "missing" / f"out{suffix}")


# ------------------------------------------------------------------------ rejects

REJECTS = [
    Reject("a.csv", "row 3", "BAD-1", "拿地日期", "日期无法识别: '2024-02-30'"),
    Reject("a.jsonl", "line 4", None, None, "不是 JSON 对象（得到 list）"),
]


def test_write_rejects_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    assert write_rejects(path, REJECTS) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        '{"file":"a.csv","locator":"row 3","project_id":"BAD-1","field":"拿地日期",'
        '"message":"日期无法识别: \'2024-02-30\'"}',
        '{"file":"a.jsonl","locator":"line 4","project_id":null,"field":null,'
        '"message":"不是 JSON 对象（得到 list）"}',
    ]


def test_write_rejects_csv(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    assert write_rejects(path, iter(REJECTS)) == 2
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == [
        ["文件", "位置", "项目代码", "字段", "问题"],
        ["a.csv", "row 3", "BAD-1", "拿地日期", "日期无法识别: '2024-02-30'"],
        ["a.jsonl", "line 4", "", "", "不是 JSON 对象（得到 list）"],
    ]


def test_write_rejects_is_all_or_nothing(tmp_path: Path) -> None:
    def failing() -> object:
        yield REJECTS[0]
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        write_rejects(tmp_path / "rejects.csv", failing())  # type: ignore[arg-type]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("pack_id", ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"])
def test_warning_lines_are_result_json_of_to_dict(pack_id: str) -> None:
    # The batch encodes each chunk's warnings in one call from their fields: every line
    # must be what the row writer writes for ``to_dict()`` (SPEC §4 order, ISO dates,
    # lists, nulls), closed warnings and hand-made ones included.
    from lifecycle_rules import evaluate, load_pack
    from lifecycle_rules.core.results import ProjectWarning
    from lifecycle_rules.io.writers import warning_lines

    root = Path(__file__).resolve().parent.parent
    pack = load_pack(pack_id)
    warnings = []
    for line in (root / "examples" / f"{pack_id}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            warnings += evaluate(pack, line, "2024-12-31", include_closed=True).warnings
    assert len(warnings) >= 3
    made = ProjectWarning.model_validate({**warnings[0].to_dict(), "due": None, "as_of": None, "tier": None})
    warnings.append(made)
    assert {w.status for w in warnings} >= {"open"}
    got = warning_lines([w.__dict__ for w in warnings]).split(b"\n")
    assert got[-1] == b""
    assert got[:-1] == [result_json(w.to_dict()) for w in warnings]
