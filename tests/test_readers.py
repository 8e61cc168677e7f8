"""Readers: every format and layout, every date spelling, and every way a row can be bad."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle_rules.io.readers import Note, Record, Reject, detect_encoding, parse_date, read_histories

DATA = Path(__file__).parent / "data" / "io"


def _event(date: str, step: str) -> dict[str, object]:
    return {"date": date, "type": "step_completed", "step": step}


# The four projects of tests/data/io, written out independently of make_files.py.
EXPECTED: list[dict[str, Any]] = [
    {
        "project": {
            "id": "JD-2024-017",
            "name": "年产5万吨新材料项目",
            "sector": "industrial",
            "in_development_zone": False,
            "investment_wan": 65000,
            "region": "下涯镇",
        },
        "plan": {"start": "2024-09-01", "completion": "2026-03-31"},
        "events": [
            _event("2024-01-10", "签约"),
            _event("2024-03-02", "落地"),
            _event("2024-03-20", "立项"),
        ],
    },
    {
        "project": {
            "id": "JD-2024-018",
            "name": "城南商业综合体",
            "sector": "commercial_residential",
            "in_development_zone": True,
            "investment_wan": 1200.5,
            "region": "新安江街道",
        },
        "plan": {"start": "2024-05-01"},
        "events": [
            _event("2023-11-15", "签约"),
            _event("2023-12-01", "备案"),
            _event("2024-02-01", "落地"),
            _event("2024-06-18", "开工"),
        ],
    },
    {
        "project": {
            "id": "2024017",
            "name": "城区供水管网改造",
            "sector": "government",
            "in_development_zone": False,
            "investment_wan": 300,
        },
        "plan": {},
        "events": [
            _event("2024-07-02", "立项"),
            _event("2024-08-15", "开工"),
            _event("2024-12-30", "竣工"),
        ],
    },
    {
        "project": {
            "id": "NY-7",
            "name": "渔光互补光伏电站",
            "sector": "energy",
            "in_development_zone": True,
            "investment_wan": 2500,
            "region": "大洋镇",
        },
        "plan": {"completion": "2025-06-30"},
        "events": [
            # Same day: mapping order (签约 before 落地), whatever the file's column order.
            _event("2023-10-08", "签约"),
            _event("2023-10-08", "落地"),
            _event("2024-01-05", "开工"),
            _event("2024-12-31", "投产"),
        ],
    },
]


def _read(path: Path, **kwargs: Any) -> list[Record]:
    return list(read_histories(path, **kwargs))


def _outcome(record: Record) -> tuple[str, str | None, str | None, str]:
    assert record.reject is not None and record.history is None
    r = record.reject
    return (r.locator, r.project_id, r.field, r.message)


# ---------------------------------------------------------------------------- dates

JULY_2 = dt.date(2024, 7, 2)


@pytest.mark.parametrize(
    "value",
    [
        "2024-07-02",
        "2024/7/2",
        "2024/07/02",
        "2024.7.2",
        "2024年7月2日",
        "2024 年 7 月 2 日",
        "20240702",
        " 2024-07-02 ",
        "2024/7/2 0:00",
        "2024-07-02 08:30:15",
        "2024-07-02T08:30",
        "２０２４年７月２日",
        JULY_2,
        dt.datetime(2024, 7, 2, 23, 59),
        45475,
        45475.0,
        45475.75,  # the fraction is the time of day
        20240702,
        20240702.0,
    ],
)
def test_parse_date_accepts_every_spelling(value: object) -> None:
    assert parse_date(value) == JULY_2


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (61, dt.date(1900, 3, 1))],
)
def test_parse_date_excel_1900_system(serial: int, expected: dt.date) -> None:
    assert parse_date(serial) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "日期无法识别: '2024-02-30'（2024年2月没有30日）"),
        ("2024/13/40", "日期无法识别: '2024/13/40'（没有13月）"),
        ("明年", "日期无法识别: '明年'"),
        ("", "日期无法识别: ''"),
        ("2024-7/2", "日期无法识别: '2024-7/2'"),
        ("45475", "日期无法识别: '45475'"),
        (True, "日期无法识别: True"),
        (None, "日期无法识别: None"),
        (0, "日期无法识别: 0"),
        (float("nan"), "日期无法识别: nan"),
        (60, "日期无法识别: Excel 序列号 60 是不存在的 1900-02-29"),
        (20240230, "日期无法识别: '20240230'（2024年2月没有30日）"),
    ],
)
def test_parse_date_rejects_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    assert str(caught.value) == message


# ------------------------------------------------------------------------ encodings


def test_detect_encoding(tmp_path: Path) -> None:
    text = "项目代码,项目名称\nA,年产5万吨新材料项目\n"
    cases = {"gbk.csv": ("gbk", "gb18030"), "bom.csv": ("utf-8-sig", "utf-8-sig")}
    cases |= {"plain.csv": ("utf-8", "utf-8-sig")}
    for name, (encoding, expected) in cases.items():
        (tmp_path / name).write_text(text, encoding=encoding)
        assert detect_encoding(tmp_path / name) == expected, name
    (tmp_path / "ascii.csv").write_text("id,name\n1,x\n", encoding="ascii")
    assert detect_encoding(tmp_path / "ascii.csv") == "utf-8-sig"
    assert detect_encoding(DATA / "projects_gbk.csv") == "gb18030"
    assert detect_encoding(DATA / "projects_utf8bom.csv") == "utf-8-sig"


def test_detect_encoding_across_chunk_boundary(tmp_path: Path) -> None:
    # A three-byte character split by the 64 KiB read must not look like GBK.
    path = tmp_path / "long.csv"
    path.write_bytes(b"a" * (64 * 1024 - 1) + "项目".encode() * 10)
    assert detect_encoding(path) == "utf-8-sig"


def test_detect_encoding_sees_gbk_after_the_first_chunk(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"id,name\n" + b"A,x\n" * 40000 + "B,新材料\n".encode("gbk"))
    assert path.stat().st_size > 64 * 1024
    assert detect_encoding(path) == "gb18030"


def test_undecodable_bytes_reject_that_row_only(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    header = "项目代码,项目名称,开工日期\n".encode()
    good = "A,好项目,2024-01-01\n".encode()
    bad = b"B," + "坏编码".encode("gbk") + b",2024-01-02\n"
    path.write_bytes(header + good + bad + "C,也好,2024-01-03\n".encode())
    records = _read(path, encoding="utf-8")
    assert [r.history["project"]["id"] for r in records if r.history] == ["A", "C"]
    assert [_outcome(r) for r in records if r.reject] == [
        ("row 3", "B", "项目名称", "含无法按 utf-8 解码的字节（可用 encoding= 指定）")
    ]


# ------------------------------------------------------------------ same projects, four formats


@pytest.mark.parametrize(
    ("name", "first_row"),
    [
        ("projects.jsonl", "line 1"),
        ("projects_gbk.csv", "row 2"),
        ("projects_utf8bom.csv", "row 2"),
        # A title row and a blank row sit above the header.
        ("projects.xlsx", "row 4"),
    ],
)
def test_every_format_gives_the_same_histories(name: str, first_row: str) -> None:
    records = _read(DATA / name)
    assert [r.history for r in records] == EXPECTED
    # Identical down to the JSON text: 65000 not 65000.0, same key order.
    lines = (DATA / "projects.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.dumps(r.history, ensure_ascii=False) for r in records] == lines
    assert [r.reject for r in records] == [None] * 4
    assert [r.file for r in records] == [str(DATA / name)] * 4
    kind, number = first_row.split()
    assert [r.locator for r in records] == [f"{kind} {int(number) + i}" for i in range(4)]


def test_gbk_csv_is_really_gbk_and_read_with_an_explicit_encoding() -> None:
    raw = (DATA / "projects_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.startswith("项目代码,".encode("gbk"))
    assert b"\r\n" in raw  # as Excel writes it
    records = _read(DATA / "projects_gbk.csv", encoding="gbk")
    assert [r.history for r in records] == EXPECTED


def test_openpyxl_fallback_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # import now fails
    records = _read(DATA / "projects.xlsx")
    assert [r.history for r in records] == EXPECTED
    assert [r.locator for r in records] == ["row 4", "row 5", "row 6", "row 7"]
    broken = _read(DATA / "broken.xlsx")
    assert [r.locator for r in broken] == ["row 2", "row 3", "row 4", "row 5", "row 6"]


def test_history_key_order_is_canonical() -> None:
    # The xlsx has its columns in another order; the dicts must still come out alike.
    history = _read(DATA / "projects.xlsx")[0].history
    assert history is not None
    assert list(history) == ["project", "plan", "events"]
    assert list(history["project"]) == [
        "id", "name", "sector", "in_development_zone", "investment_wan", "region",
    ]  # fmt: skip
    assert list(history["plan"]) == ["start", "completion"]


# ---------------------------------------------------------------------- broken input


def test_broken_csv_rejects_each_bad_row_and_reads_the_rest() -> None:
    records = _read(DATA / "broken.csv")
    assert [r.locator for r in records] == [
        "row 2", "row 3", "row 4", "row 5", "row 6", "row 8", "row 9", "row 10",
    ]  # fmt: skip
    assert [r.history for r in records if r.history] == [EXPECTED[0], EXPECTED[1], EXPECTED[2]]
    sectors = "commercial_residential、energy、government、industrial、infrastructure、livelihood、other"
    assert [_outcome(r) for r in records if r.reject] == [
        ("row 3", "BAD-1", "拿地日期", "日期无法识别: '2024-02-30'（2024年2月没有30日）"),
        ("row 4", None, "项目代码", "缺少项目代码"),
        ("row 5", "BAD-3", "总投资(万元)", "金额无法识别: '三百'（应为数字，单位万元，或写明单位如 3.5亿、20000万元）"),
        (
            "row 8",
            "BAD-5",
            "行业/板块",
            f"行业无法识别: '农业'（可用: {sectors} 或其中文名称）；开工日期: 日期无法识别: '明年'",
        ),
        ("row 9", "BAD-6", "是否开发区", "无法识别为是/否: '也许'"),
    ]
    reject = records[1].reject
    assert reject is not None and reject.file == str(DATA / "broken.csv")


def test_broken_jsonl_names_the_line() -> None:
    records = _read(DATA / "broken.jsonl")
    assert [r.locator for r in records] == ["line 1", "line 3", "line 4", "line 5"]
    assert [r.history for r in records if r.history] == [EXPECTED[0], EXPECTED[1]]
    assert [_outcome(r) for r in records if r.reject] == [
        ("line 3", None, None, "不是有效的 JSON: Expecting ',' delimiter (column 23)"),
        ("line 4", None, None, "不是 JSON 对象（得到 list）"),
    ]


def test_broken_xlsx() -> None:
    records = _read(DATA / "broken.xlsx")
    assert [r.history for r in records if r.history] == [
        {
            "project": {"id": "OK-1", "name": "正常", "investment_wan": 10},
            "plan": {},
            "events": [_event("2024-03-01", "开工")],
        },
        {
            # The date came as the serial 45352.0, the amount as the text "1,000".
            "project": {"id": "OK-2", "name": "序列号日期", "investment_wan": 1000},
            "plan": {},
            "events": [_event("2024-03-01", "开工")],
        },
    ]
    assert [_outcome(r) for r in records if r.reject] == [
        ("row 3", "BAD-1", "开工日期", "日期无法识别: '2024/13/40'（没有13月）"),
        ("row 4", None, "项目代码", "缺少项目代码"),
        ("row 5", "BAD-3", "总投资(万元)", "金额无法识别: '三百'（应为数字，单位万元，或写明单位如 3.5亿、20000万元）"),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,200.5", 1200.5),
        (" 300 ", 300),
        ("65,000", 65000),
        ("１２００", 1200),  # full-width digits
        ("0.25", 0.25),
        ("300万", 300),  # a unit written with the number
        ("3.5亿", 35000),
        ("3.5亿元", 35000),
        ("20000万元", 20000),
        ("50000元", 5),
        (".5", 0.5),
    ],
)
def test_amounts(tmp_path: Path, cell: str, expected: float) -> None:
    path = tmp_path / "amount.csv"
    path.write_text(f'项目代码,总投资(万元)\nA,"{cell}"\n', encoding="utf-8")
    [record] = _read(path)
    assert record.history is not None
    value = record.history["project"]["investment_wan"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("cell", ["三百", "1e3", "12.3.4", "nan", "¥300", "3.5亿美元"])
def test_amount_text_is_rejected(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "amount.csv"
    path.write_text(f"项目代码,总投资（万元）\nA,{cell}\n", encoding="utf-8")
    [record] = _read(path)
    assert _outcome(record) == (
        "row 2",
        "A",
        "总投资（万元）",
        f"金额无法识别: '{cell}'（应为数字，单位万元，或写明单位如 3.5亿、20000万元）",
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("true", True), ("FALSE", False),
     ("1", True), ("0", False)],
)  # fmt: skip
def test_development_zone_flags(tmp_path: Path, cell: str, expected: bool) -> None:
    path = tmp_path / "zone.csv"
    path.write_text(f"项目代码,是否开发区\nA,{cell}\n", encoding="utf-8")
    [record] = _read(path)
    assert record.history is not None
    assert record.history["project"]["in_development_zone"] is expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("工业", "industrial"), ("商业", "commercial_residential"), ("住宅", "commercial_residential"),
     ("政府投资", "government"), ("能源", "energy"), ("基础设施", "infrastructure"),
     ("民生", "livelihood"), ("其他", "other"), ("infrastructure", "infrastructure"),
     ("Livelihood", "livelihood")],
)  # fmt: skip
def test_sectors(tmp_path: Path, cell: str, expected: str) -> None:
    path = tmp_path / "sector.csv"
    path.write_text(f"项目代码,板块\nA,{cell}\n", encoding="utf-8")
    [record] = _read(path)
    assert record.history is not None
    assert record.history["project"]["sector"] == expected


def test_short_rows_blank_rows_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(
        "项目代码,备注,签约日期,开工日期\nA,x\n\n,,,\nB,,2024-01-01\n",
        encoding="utf-8",
    )
    records = _read(path)
    assert [(r.locator, r.history) for r in records] == [
        ("row 2", {"project": {"id": "A"}, "plan": {}, "events": []}),
        ("row 5", {"project": {"id": "B"}, "plan": {}, "events": [_event("2024-01-01", "签约")]}),
    ]


def test_reject_to_dict() -> None:
    reject = Reject("a.csv", "row 7", "P-1", "拿地日期", "日期无法识别: 'x'")
    assert reject.to_dict() == {
        "file": "a.csv",
        "locator": "row 7",
        "project_id": "P-1",
        "field": "拿地日期",
        "message": "日期无法识别: 'x'",
    }


# ------------------------------------------------------------------ errors at the call


def test_missing_id_column_raises_at_the_call(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    path.write_text("项目名称,开工日期\nX,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"noid\.csv: missing required column 项目代码 \(or one"):
        read_histories(path)  # no iteration needed


def test_events_table_without_date_column_raises(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("项目代码,类型\nT1,进展\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"events\.csv: missing required column 日期"):
        read_histories(DATA / "tables_projects.csv", events_path=events)


def test_empty_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.csv: no header row"):
        read_histories(path)


def test_unreadable_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"nope\.xlsx"):
        read_histories(tmp_path / "nope.xlsx")
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        read_histories(tmp_path / "nope.csv")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.xlsx: 无法读取 Excel 文件"):
        read_histories(bad)


def test_two_columns_for_one_field_raise(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("项目代码,行业,板块\nA,工业,民生\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns '行业' and '板块' both map to sector"):
        read_histories(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "tables"}, "layout='tables' needs events_path"),
        ({"layout": "wide", "events_path": "e.csv"}, "events_path applies only to layout='tables'"),
        ({"layout": "jsonl", "events_path": "e.csv"}, "events_path applies only to layout='tables'"),
    ],
)
def test_layout_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_histories(DATA / "projects_gbk.csv", **kwargs)


def test_unknown_suffix_needs_a_layout(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("项目代码\nA\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot tell the layout"):
        read_histories(path)
    [record] = read_histories(path, layout="wide")  # read as CSV
    assert record.history == {"project": {"id": "A"}, "plan": {}, "events": []}


# ------------------------------------------------------------------- projects + events

TABLE_HISTORIES: list[dict[str, Any]] = [
    {
        "project": {"id": "T1", "name": "智能装备产业园", "sector": "industrial",
                    "investment_wan": 80000},
        "plan": {"start": "2024-09-01"},
        "events": [
            {"date": "2024-01-10", "type": "step_completed", "step": "签约"},
            {"date": "2024-03-02", "type": "step_completed", "step": "拿地"},
            {"date": "2024-05-20", "type": "monthly_report", "period": "2024-04",
             "planned_wan": 800, "actual_wan": 800, "compliant": True},
            {"date": "2024-06-03", "type": "weekly_report", "period": "2024-W23"},
        ],
    },
    {
        "project": {"id": "T2", "name": "城南商业综合体", "sector": "commercial_residential",
                    "investment_wan": 1200},
        "plan": {},
        "events": [
            {"date": "2024-04-05", "type": "monthly_report", "period": "2024-03",
             "planned_wan": 500, "actual_wan": 300, "compliant": False},
            {"date": "2024-06-01", "type": "disposition", "warning": "T2/签约未落地",
             "action": "in_progress"},
            {"date": "2024-07-01", "type": "extension", "warning": "T2/签约未落地",
             "until": "2024-09-30"},
        ],
    },
    {
        # No rows in the events table; its 签约日期 column gives the one event.
        "project": {"id": "T3", "name": "人才公寓", "sector": "livelihood", "investment_wan": 3000},
        "plan": {},
        "events": [{"date": "2024-02-02", "type": "step_completed", "step": "签约"}],
    },
]  # fmt: skip


@pytest.mark.parametrize("events_name", ["tables_events.csv", "tables_events.xlsx"])
def test_projects_and_events_tables(events_name: str) -> None:
    projects = DATA / "tables_projects.csv"  # GBK
    events = DATA / events_name
    records = _read(projects, events_path=events)
    assert [r.history for r in records if r.history] == TABLE_HISTORIES
    assert [(r.file, r.locator) for r in records] == [
        (str(projects), "row 2"),
        (str(projects), "row 3"),
        (str(projects), "row 4"),
        (str(projects), "row 5"),
        (str(projects), "row 6"),
        (str(events), "row 4"),
        (str(events), "row 7"),
        (str(events), "row 10"),
    ]
    rejects = [r.reject for r in records if r.reject]
    assert [(x.file, x.locator, x.project_id, x.field, x.message) for x in rejects] == [
        # T4's project row is fine, but one of its events is not: the whole project waits.
        (str(events), "row 12", "T4", "实际投资(万元)",
         "金额无法识别: '三百'（应为数字，单位万元，或写明单位如 3.5亿、20000万元）"),
        (str(projects), "row 6", "T2", "项目代码", "项目代码重复: 'T2' 已在 row 3 出现"),
        (str(events), "row 4", "ORPHAN-1", "项目代码",
         f"项目代码 'ORPHAN-1' 不在项目表 {projects} 中"),
        (str(events), "row 7", None, "项目代码", "缺少项目代码"),
        (str(events), "row 10", "ORPHAN-2", "项目代码",
         f"项目代码 'ORPHAN-2' 不在项目表 {projects} 中；"
         "日期: 日期无法识别: '2024-02-30'（2024年2月没有30日）"),
    ]  # fmt: skip


def test_every_event_row_is_accounted_for() -> None:
    # 11 event rows: 8 attached to T1/T2/T4, 3 rejected on their own; nothing dropped.
    records = _read(DATA / "tables_projects.csv", events_path=DATA / "tables_events.csv")
    attached = sum(len(r.history["events"]) for r in records if r.history) - 1  # T3's 签约
    own_rejects = [r for r in records if r.file.endswith("tables_events.csv")]
    assert attached + 1 + len(own_rejects) == 11  # + T4's one event, inside its reject


def test_event_rows_need_date_and_type(tmp_path: Path) -> None:
    projects = tmp_path / "p.csv"
    projects.write_text("项目代码\nT1\n", encoding="utf-8")
    events = tmp_path / "e.csv"
    events.write_text("项目代码,日期,类型\nT1,,进展\nT1,2024-01-01,\n", encoding="utf-8")
    [record] = _read(projects, events_path=events)
    assert _outcome(record) == ("row 2", "T1", "日期", "缺少日期；row 3 类型: 缺少类型")


# ------------------------------------------------------------------------- mapping


def test_custom_mapping_extends_and_overrides() -> None:
    path = DATA / "custom.csv"
    [record] = _read(path, mapping=DATA / "custom_mapping.yaml")
    # 开工 now means only 实际开工; the 开工日期 column (2030) is ignored.
    assert record.history == {
        "project": {"id": "C-1", "name": "高山蔬菜基地", "sector": "other"},
        "plan": {},
        "events": [_event("2024-04-01", "开工")],
    }
    # Without it: 统一项目代码 is a default synonym of the id; 产业类别 and 实际开工 are not
    # known, so those columns are notes, and 开工日期 gives 开工.
    records = list(read_histories(path, notes=True))
    assert [r.text for r in records if isinstance(r, Note) and r.kind == "column"] == [
        "列“产业类别”没有对应的字段，未使用（可用 --mapping 指定；lifecycle-rules mapping 打印默认映射）",
        "列“实际开工”没有对应的字段，未使用（可用 --mapping 指定；lifecycle-rules mapping 打印默认映射）",
    ]
    [plain] = [r for r in records if isinstance(r, Record)]
    assert plain.history is not None and plain.history["events"] == [_event("2030-01-01", "开工")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colums:\n  id: [x]\n", "unknown section 'colums'"),
        ("booleans:\n  yes: true\n", "key True must be quoted text"),
        ("booleans:\n  '可能': maybe\n", "booleans.可能 should be true or false"),
        ("project:\n  name: [项目代码]\n", "header '项目代码' is given to both project.id and"),
        ("project:\n  name: 12\n", "project.name should be a header or a list of headers"),
        ("- a\n- b\n", "expected a YAML mapping of sections, got list"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_histories(DATA / "projects_gbk.csv", mapping=mapping)


# ----------------------------------------------------------------------- streaming


def _big_jsonl(path: Path, lines: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(lines):
            history = dict(EXPECTED[i % 4])
            history["project"] = {**history["project"], "id": f"P-{i}"}
            handle.write(json.dumps(history, ensure_ascii=False) + "\n")


def test_jsonl_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    _big_jsonl(path, 50_000)
    records = read_histories(path)
    first = next(records)
    assert first.history is not None and first.history["project"]["id"] == "P-0"
    # Lines added after the first record are still seen: the file was not read ahead.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"project": {"id": "LATE"}}) + "\n")
    ids = [r.history["project"]["id"] for r in records if r.history]
    assert len(ids) == 50_000 and ids[-1] == "LATE"


def test_jsonl_memory_stays_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    _big_jsonl(path, 50_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for record in read_histories(path) if record.history)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert size > 20_000_000
    assert peak < 1_000_000, f"peak {peak} bytes for a {size}-byte file"


def test_csv_memory_stays_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["项目代码", "项目名称", "行业", "总投资(万元)", "签约日期", "拿地日期"])
        for i in range(50_000):
            writer.writerow([f"P-{i}", "年产5万吨新材料项目", "工业", "65,000", "2024/1/10", "2024.3.2"])
    tracemalloc.start()
    try:
        count = sum(1 for record in read_histories(path) if record.history)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    # Flat but for the project codes seen (a duplicate is rejected across the whole run):
    # one small entry a project, no row kept.
    assert peak < 1_000_000 + 160 * 50_000, f"peak {peak} bytes"


# ------------------------------------------------------------------- fixture files


def test_make_files_reproduces_the_committed_inputs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_files", DATA / "make_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DATA.iterdir() if p.name not in ("make_files.py",))
    assert generated == [n for n in committed if not n.startswith((".", "__"))]
    for name in generated:
        if name.endswith(".xlsx"):
            assert _rows_as_dicts(tmp_path / name) == _rows_as_dicts(DATA / name), name
        else:
            assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def _rows_as_dicts(path: Path) -> list[object]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


# -- blocks of JSON lines (the batch's input path) ---------------------------------------
LINE_PARTS = st.sampled_from(['{"project": {"id": "P1"}}', "", "  ", '{"a": "拿地"}', "not json",
                              '{"x": "\\u00e9"}'])


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(LINE_PARTS, max_size=30), crlf=st.booleans(), bom=st.booleans(),
       final_newline=st.booleans(), block=st.integers(1, 80))
def test_blocks_cut_a_file_into_the_lines_the_reader_reads(
        lines: list[str], crlf: bool, bom: bool, final_newline: bool, block: int) -> None:
    import tempfile

    from lifecycle_rules.io.readers import jsonl_blocks

    text = ("\r\n" if crlf else "\n").join(lines) + ("\n" if final_newline and lines else "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.jsonl"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        expected = [(r.locator, r.history) for r in read_histories(path, raw_json=True)]
        blocks = list(jsonl_blocks(path, block_bytes=block))
    got = [(loc, line.decode("utf-8")) for b in blocks for loc, line in b.lines()]
    assert got == expected
    assert all(b.data.endswith(b"\n") for b in blocks[:-1])


def test_a_block_holds_many_lines_and_names_each_by_its_number(tmp_path: Path) -> None:
    from lifecycle_rules.io.readers import jsonl_blocks

    path = tmp_path / "h.jsonl"
    path.write_text("".join(f'{{"n": {i}}}\n' for i in range(1, 1001)), encoding="utf-8")
    blocks = list(jsonl_blocks(path, block_bytes=4096))
    assert 1 < len(blocks) < 1000
    located = [loc for b in blocks for loc, _ in b.lines()]
    assert located == [f"line {i}" for i in range(1, 1001)]
