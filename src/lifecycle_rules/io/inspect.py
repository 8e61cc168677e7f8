"""``lifecycle-rules inspect``: how an export will be read, without evaluating it. The
sheet and header rows, each column and the field it feeds (or why none), sample values,
counts of data, blank, summary and note rows, duplicates, and the rejects reading (and,
with a pack, checking the histories against it) would give. ``lifecycle-rules mapping``:
the default column mapping, as a file to start from."""

from __future__ import annotations

from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle_rules.core.facts import Facts
from lifecycle_rules.core.history import parse_history
from lifecycle_rules.core.vocabulary import LAST_DAY
from lifecycle_rules.errors import HistoryError
from lifecycle_rules.io.batch import history_reject
from lifecycle_rules.io.readers.codes import Seen
from lifecycle_rules.io.readers.columns import _PROJECT_SECTIONS, _default_mapping_text, _load_mapping
from lifecycle_rules.io.readers.sheets import SheetRef, _blank, _open_sheet
from lifecycle_rules.io.readers.tables import _letter, _project_or_note
from lifecycle_rules.io.readers.values import _is_empty, _text
from lifecycle_rules.io.records import Note, Reject

if TYPE_CHECKING:
    from lifecycle_rules.pack.compile import Pack

SAMPLES = 3
SECTION_WORDS = {"project": "项目", "plan": "计划", "milestones": "环节完成"}


def default_mapping() -> str:
    """The default column mapping (``columns.yaml``), to copy and edit for ``--mapping``."""
    return _default_mapping_text()


def inspect(path: Path, *, mapping: Path | None = None, sheet: SheetRef = None, encoding: str | None = None,
            pack: Pack | None = None) -> list[str]:
    """The report, line by line (Chinese, for the clerk who keeps the sheet)."""
    m = _load_mapping(mapping, (pack.id, pack.spec.columns) if pack is not None else None)
    opened, rows = _open_sheet(path, encoding, m, _PROJECT_SECTIONS, [("project", "id")], sheet)
    fates: dict[int, str] = {}
    for c in opened.columns:
        fates[c.index] = f"{SECTION_WORDS.get(c.section, c.section)} {c.name}" + \
            (f"（单位{_unit_word(c.unit)}，换算为万元）" if c.unit != 1 else "")
    for index, _ in opened.ignored:
        fates[index] = "不使用（映射列为无关列）"
    for index, _ in opened.unknown:
        fates[index] = "无对应字段，未使用（将写入提示）"
    headers = {c.index: c.header for c in opened.columns} | dict(opened.ignored) | dict(opened.unknown)
    samples: dict[int, list[str]] = {i: [] for i in headers}
    counts: Counter[str] = Counter()
    rejects: list[Reject] = []
    skipped: list[Note] = []
    seen = Seen()
    with closing(rows):
        for number, cells in rows:
            if _blank(cells):
                counts["空白行"] += 1
                continue
            for i in headers:
                if i < len(cells) and not _is_empty(cells[i]) and len(samples[i]) < SAMPLES:
                    samples[i].append(_text(cells[i])[:20])
            for item in _project_or_note(opened, number, cells, seen):
                if isinstance(item, Note):
                    skipped.append(item)
                    counts["非项目行（跳过）"] += 1
                elif item.reject is not None:
                    rejects.append(item.reject)
                    counts["重复项目代码" if item.reject.message.startswith("项目代码重复") else "读取时拒收"] += 1
                else:
                    counts["项目"] += 1
                    if pack is not None:
                        problem = _check(pack, item.file, item.locator, item.history, item.columns)
                        if problem is not None:
                            rejects.append(problem)
                            counts["按规则包拒收"] += 1
    where = opened.where
    out = [f"文件: {path}", f"读取: {where}" + (f"（编码 {opened.encoding}）" if opened.encoding else ""), "列:"]
    for i in sorted(headers):
        shown = "、".join(samples[i]) or "（无数据）"
        out.append(f"  {_letter(i):>2}  {headers[i]}  ->  {fates[i]}    样例: {shown}")
    out.append("行: " + "，".join(f"{k} {v}" for k, v in counts.items()) if counts else "行: 无数据")
    for note in skipped:
        out.append(f"  跳过 {note.locator}: {note.text}")
    for r in rejects:
        out.append(f"  拒收 {r.locator} {r.field or ''}: {r.message}")
    if pack is not None:
        out.append(f"按规则包 {pack.label} 检查了环节与事件类型（未计算预警）")
    return out


def _unit_word(unit: Any) -> str:
    return {10000: "亿元", 1: "万元"}.get(unit, "元")


def _check(pack: Pack, file: str, locator: str, history: Any, columns: Any) -> Reject | None:
    """The reject evaluation would give this history under ``pack`` (its validation and
    its steps and event types; no rule is run)."""
    try:
        Facts.build(pack, parse_history(history), LAST_DAY)
    except HistoryError as exc:
        return history_reject(file, locator, exc, columns)
    return None
