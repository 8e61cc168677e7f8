"""Tables read by their column names (a database query, an Arrow batch): the tables
layout's mapping, conversions and rejects, a row at a time (io/readers/tables.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lifecycle_rules.io.readers.columns import load_mapping
from lifecycle_rules.io.readers.tables import named_notes, named_record, named_table, project_code
from lifecycle_rules.io.records import Note, Record

MAPPING = load_mapping()
PROJECTS = named_table("projects", ["项目代码", "name", "sector", "investment_wan", "plan_start", "序号", "xmfzr"],
                       "projects", MAPPING)
EVENTS = named_table("events", ["project_id", "date", "type", "step", "planned_wan"], "events", MAPPING)


def test_typed_cells_become_the_history_a_sheet_gives() -> None:
    cells = ["JD-1", "厂房", "工业", Decimal("65000.50"), dt.date(2024, 9, 1), 3, "张三"]
    events = [(4, ["JD-1", dt.datetime(2024, 3, 2, 0, 0), "完成", "拿地", None]),
              (3, ["ＪＤ-1 ", dt.date(2024, 1, 10), "step_completed", "签约", Decimal("12")])]
    (record,) = named_record(PROJECTS, 7, cells, EVENTS, events)
    assert isinstance(record, Record) and record.reject is None and record.locator == "row 7"
    assert record.history == {
        "project": {"id": "JD-1", "name": "厂房", "sector": "industrial", "investment_wan": 65000.5},
        "plan": {"start": "2024-09-01"},
        "events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约", "planned_wan": 12},
                   {"date": "2024-03-02", "type": "step_completed", "step": "拿地"}],
    }


def test_every_bad_cell_is_named_and_a_stray_event_is_rejected() -> None:
    cells = ["JD-2", "x", "火星", Decimal("-1"), "2024-13-01", None, None]
    events = [(1, ["JD-2", "2024/2/30", "step_completed", "签约", None]),
              (2, ["JD-9", dt.date(2024, 1, 1), "完成", "签约", None])]
    project, stray = named_record(PROJECTS, 2, cells, EVENTS, events)
    assert isinstance(project, Record) and project.reject is not None
    assert project.reject.field == "sector" and project.reject.project_id == "JD-2"
    for words in ("火星", "金额不能为负数", "2024-13-01", "events row 1 date"):
        assert words in project.reject.message
    assert isinstance(stray, Record) and stray.reject is not None
    assert (stray.reject.file, stray.reject.locator, stray.reject.project_id) == ("events", "row 2", "JD-9")
    assert "不在项目表 projects 中" in stray.reject.message


def test_a_code_seen_twice_and_a_total_row() -> None:
    from lifecycle_rules.io.readers.codes import Seen

    seen = Seen()
    first = next(named_record(PROJECTS, 1, ["JD-3", "a", "工业", 1, None, None, None], seen=seen))
    again = next(named_record(PROJECTS, 5, ["JD-3 ", "b", "工业", 1, None, None, None], seen=seen))
    assert isinstance(first, Record) and first.reject is None
    assert isinstance(again, Record) and again.reject is not None and "row 1" in again.reject.message
    (total,) = named_record(PROJECTS, 9, ["合计", None, None, 100, None, None, None], seen=seen)
    assert isinstance(total, Note) and total.kind == "skipped"


def test_columns_no_field_takes_are_said_and_a_missing_one_is_an_error() -> None:
    assert [n.locator for n in named_notes(PROJECTS)] == ["column xmfzr"]
    assert project_code(PROJECTS, [" ＪＤ-1 ", None]) == "JD-1" and project_code(PROJECTS, [None]) is None
    with pytest.raises(ValueError, match="missing required column"):
        named_table("events", ["project_id", "date"], "events", MAPPING)


def test_a_new_projects_row_is_read_where_it_is_evaluated_and_reads_the_same() -> None:
    from lifecycle_rules.io.readers.codes import Seen
    from lifecycle_rules.io.readers.tables import deferred, read_rows
    from lifecycle_rules.io.records import Rows

    cells = ["JD-7", "厂房", "工业", Decimal("100"), dt.date(2024, 9, 1), None, None]
    events = [(3, ["JD-7", dt.date(2024, 1, 10), "step_completed", "签约", None])]
    seen = Seen()
    (rows,) = deferred(PROJECTS, 4, cells, project_code(PROJECTS, cells), EVENTS, events, seen)
    assert isinstance(rows, Rows) and "JD-7" in seen
    assert list(read_rows(rows)) == list(named_record(PROJECTS, 4, cells, EVENTS, events))
    # Read at once: a code seen before (a reject naming the first row), a 合计 row, no code.
    (again,) = deferred(PROJECTS, 9, cells, "JD-7", EVENTS, [], seen)
    assert isinstance(again, Record) and again.reject is not None and "row 4" in again.reject.message
    (total,) = deferred(PROJECTS, 10, ["合计", None, None, 5, None, None, None], "合计", None, [], seen)
    assert isinstance(total, Note)
    (nameless,) = deferred(PROJECTS, 11, [None, "x", "工业", 1, None, None, None], None, None, [], seen)
    assert isinstance(nameless, Record) and nameless.reject is not None and "缺少项目代码" in nameless.reject.message
    assert "合计" not in seen
