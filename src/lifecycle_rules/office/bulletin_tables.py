"""What each part of the bulletin holds, as tables of Chinese headers and cell values:
built once from the figures (``bulletin.Bulletin``) and laid out by both renderers, so
the xlsx and the html show the same numbers under the same headers. Pure.

A table has a two-row header: each column has its own header and, optionally, a group
header above it (consecutive columns with the same group share one merged cell; a column
with no group spans both rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lifecycle_rules.office.bulletin import Breakdown, Bulletin, Item, Tally
from lifecycle_rules.office.bulletin_words import (
    definitions,
    level_words,
    percent,
    short_date,
    summary,
)
from lifecycle_rules.office.rate_table import rate_rows, rate_sheets
from lifecycle_rules.office.words import COLOR_WORDS, HEADERS, STATUS_WORDS, office_row

Cell = str | int | float | dt.date | None
Kind = Literal["text", "int", "date", "pct", "num", "long"]

_NUMBERS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Column:
    header: str
    group: str | None = None
    kind: Kind = "text"
    width: float = 10.0  # in characters (xlsx); the html lets the browser decide


@dataclass(frozen=True)
class Table:
    key: str  # overview, regions, units, red, lower, overdue, closed, scores, trend, rates, notes
    sheet: str  # the xlsx sheet's name (at most 31 characters)
    heading: str  # 一、总体情况 ...
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    lead: tuple[str, ...] = ()  # paragraphs before the table
    note: str = ""  # how to read it, under the heading
    total_row: bool = False  # the last row is a total
    frozen_columns: int = 1
    empty: str = "（无）"
    big: bool = False  # starts a new page in print


def _levels_header(b: Bulletin) -> list[Column]:
    return [Column(COLOR_WORDS.get(lv, lv), "", "int", 7) for lv in b.levels]


def _tally_columns(b: Bulletin, first: str, width: float) -> tuple[Column, ...]:
    now = f"在办预警（截至{short_date(b.as_of, b.as_of)}）"
    change = "本期变化"
    cols = [Column(first, None, "text", width)]
    cols += [Column(c.header, now, "int", 7) for c in _levels_header(b)]
    cols += [Column("合计", now, "int", 7), Column("其中销号超时", now, "int", 9)]
    cols += [Column("新增", change, "int", 7), Column("升级", change, "int", 7), Column("销号", change, "int", 7)]
    return tuple(cols)


def _tally_row(b: Bulletin, label: str, t: Tally) -> tuple[Cell, ...]:
    return (label, *(t.standing[lv] for lv in b.levels), t.total, t.overdue, t.new, t.escalated, t.closed)


def _breakdown_table(b: Bulletin, key: str, sheet: str, heading: str, d: Breakdown, width: float,
                     *, lead: Sequence[str] = (), note: str = "") -> Table:
    rows = [_tally_row(b, label, t) for label, t in d.rows]
    rows.append(_tally_row(b, "合计", d.total))
    return Table(key, sheet, heading, _tally_columns(b, d.by, width), tuple(rows), tuple(lead), note,
                 total_row=True)


# The list columns: (key of office_row or of the bulletin, header, group, kind, width).
_PROJECT, _WARNING, _HANDLING, _PERIOD = "项目", "预警", "办理", "本期"
_LIST: tuple[tuple[str, str, str | None, Kind, float], ...] = (
    ("n", "序号", None, "int", 5),
    ("project_id", HEADERS["project_id"], _PROJECT, "text", 13),
    ("project_name", HEADERS["project_name"], _PROJECT, "text", 22),
    ("region", HEADERS["region"], _PROJECT, "text", 11),
    ("title", HEADERS["title"], _WARNING, "text", 18),
    ("subject", HEADERS["subject"], _WARNING, "text", 12),
    ("color", HEADERS["color"], _WARNING, "text", 6),
    ("level_name", HEADERS["level_name"], _WARNING, "text", 10),
    ("since", HEADERS["since"], _WARNING, "date", 11),
    ("due", HEADERS["due"], _WARNING, "date", 11),
    ("days", "持续天数", _WARNING, "int", 6),
    ("status", HEADERS["status"], _HANDLING, "text", 9),
    ("pushes", HEADERS["pushes"], _HANDLING, "int", 6),
    ("closed_on", HEADERS["closed_on"], _HANDLING, "date", 11),
    ("before", "销号前状态", _HANDLING, "text", 9),
    ("tier", HEADERS["tier"], _HANDLING, "text", 7),
    ("responsible", HEADERS["responsible"], _HANDLING, "text", 26),
    ("change", "本期变化", _PERIOD, "text", 6),
    ("response", "响应评定", _PERIOD, "text", 7),
)
_STANDING_KEYS = [k for k, *_ in _LIST if k not in ("closed_on", "before")]
_CLOSED_KEYS = [k for k, *_ in _LIST if k not in ("status", "pushes")]


def _list_table(b: Bulletin, key: str, sheet: str, heading: str, items: Sequence[Item],
                keys: Sequence[str], note: str = "") -> Table:
    spec = {k: (h, g, kind, w) for k, h, g, kind, w in _LIST}
    cols = tuple(Column(*spec[k]) for k in keys)
    rows = []
    for n, item in enumerate(items, 1):
        row: dict[str, Any] = office_row(b.pack, item.result, item.warning)
        row.update(n=n, days=item.days, change=item.change, response=item.response,
                   before=STATUS_WORDS.get(item.before, item.before))
        rows.append(tuple(row[k] for k in keys))
    return Table(key, sheet, heading, cols, tuple(rows), note=note, frozen_columns=3, big=True)


def _score_table(b: Bulletin, heading: str) -> Table:
    r = b.response_days
    got, state, judge = "期内预警", f"办理情况（截至{short_date(b.as_of, b.as_of)}）", "考评"
    cols = (
        Column("名次", None, "int", 5), Column("责任单位", None, "text", 22),
        Column("上期结转", got, "int", 7), Column("本期新增", got, "int", 7), Column("合计", got, "int", 7),
        Column("本期已销号", state, "int", 8), Column("正在办理", state, "int", 7),
        Column("销号超时", state, "int", 7), Column(f"未办理（{r}日内）", state, "int", 10),
        Column(f"未办理（超过{r}日）", state, "int", 11),
        Column("按期", judge, "int", 6), Column("超时", judge, "int", 6),
        Column("按期响应率", judge, "pct", 9), Column("平均办理天数", judge, "num", 9),
        Column("红黑榜", None, "text", 7),
    )
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (s.rank, s.unit, s.carried, s.new, s.received, s.closed, s.in_progress, s.overdue,
         s.waiting, s.unanswered, s.on_time, s.late, s.rate, s.average_days, s.board) for s in b.scores)
    red, black = b.board("红榜"), b.board("黑榜")
    lead = (f"红榜：{'、'.join(s.unit for s in red) or '（无）'}。",
            f"黑榜：{'、'.join(s.unit for s in black) or '（无）'}。")
    note = ("专项考评：按各责任单位对期内预警的响应和处置情况考评。期内预警按截至日状态分列，"
            "按期、超时、待响应的定义见说明。")
    return Table("scores", "单位考评", heading, cols, rows, lead, note, frozen_columns=2, big=True)


def _trend_table(b: Bulletin, heading: str) -> Table:
    group = "在办预警"
    cols = (Column("月份", None, "text", 16), *(Column(c.header, group, "int", 7) for c in _levels_header(b)),
            Column("合计", group, "int", 7), Column("其中销号超时", None, "int", 10))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (trend_label(p.day), *(p.standing[lv] for lv in b.levels), p.total, p.overdue) for p in b.trend)
    return Table("trend", "月度趋势", heading, cols, rows, note="每月末在办预警条数（本月为截至日）。", big=True)


def trend_label(day: dt.date) -> str:
    month_end = (day + dt.timedelta(days=1)).day == 1
    return f"{day.year}年{day.month}月" + ("" if month_end else f"（截至{day.day}日）")


def _rates_table(b: Bulletin, heading: str) -> Table:
    """The rates as ``lifecycle-rules rates`` writes them for the office (``rate_table``),
    with what each counts beside it."""
    values = rate_rows(b.pack, b.rates)
    counts = {d["name"]: d for d in rate_sheets(b.pack, b.rates)[1][1]}
    cols = (Column("指标", None, "text", 16), Column("数值", None, "pct", 9), Column("分子", None, "num", 10),
            Column("分母", None, "num", 10), Column("统计区间", None, "text", 22),
            Column("分子口径", "口径", "long", 34), Column("分母口径", "口径", "long", 34),
            Column("政策依据", None, "text", 24), Column("说明", None, "long", 30))
    rows = tuple(tuple(_as_cell(x) for x in (
        v["name"], v["value"], v["numerator"], v["denominator"], v["window"],
        counts.get(v["name"], {}).get("numerator", ""), counts.get(v["name"], {}).get("denominator", ""),
        v["clause"], v["notes"])) for v in values)
    return Table("rates", "五率", heading, cols, rows, big=True,
                 note="组合指标：分母为零或数据不全的不计数值（记为“—”），不作推算。")


def _as_cell(value: object) -> Cell:
    return value if value is None or isinstance(value, str | int | float | dt.date) else str(value)


def _whole(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 2)


def _numbered(n: int, text: str) -> str:
    return f"{_NUMBERS[n - 1] if n <= 10 else n}、{text}"


def tables(b: Bulletin, *, rejects_file: str = "", notices_file: str = "") -> list[Table]:
    """The bulletin's parts in reading order."""
    lower = [lv for lv in b.levels if lv != "red"]
    lower_words = "、".join(level_words(b.pack, lv) for lv in lower)
    parts: list[tuple[str, Any]] = [
        ("总体情况", lambda h: _breakdown_table(
            b, "overview", "概况", h, b.by_stage, 14, lead=(summary(b),),
            note="按预警所处阶段分列。")),
        ("分乡镇（街道）情况", lambda h: _breakdown_table(b, "regions", "分乡镇", h, b.by_region, 18)),
        ("分责任单位情况", lambda h: _breakdown_table(
            b, "units", "分责任单位", h, b.by_unit, 24,
            note="一条预警有多个责任单位的，每个单位各计一次；合计行每条预警只计一次。")),
        (f"{level_words(b.pack, 'red')}清单", lambda h: _list_table(
            b, "red", "红灯清单", h, b.standing("red"), _STANDING_KEYS)),
    ]
    if lower:
        parts.append((f"{lower_words}清单", lambda h: _list_table(
            b, "lower", "橙黄灯清单" if "orange" in lower else "黄灯清单", h, b.standing(*lower), _STANDING_KEYS)))
    parts += [
        ("销号超时清单", lambda h: _list_table(
            b, "overdue", "销号超时", h, b.overdue, _STANDING_KEYS,
            note="截至日办理状态为销号超时的预警；同时列在所属等级的清单中。")),
        ("本期销号清单", lambda h: _list_table(
            b, "closed", "本期销号", h, b.closed, _CLOSED_KEYS, note="销号日期在统计期内的预警。")),
        ("责任单位考评（红黑榜）", lambda h: _score_table(b, h)),
        ("近12个月预警趋势", lambda h: _trend_table(b, h)),
    ]
    if b.rates:
        parts.append(("五率", lambda h: _rates_table(b, h)))
    parts.append(("说明", lambda h: Table(
        "notes", "说明", h, (Column("事项", None, "text", 14), Column("说明", None, "long", 100)),
        tuple(definitions(b, rejects_file=rejects_file, notices_file=notices_file)), big=True)))
    return [make(_numbered(n, heading)) for n, (heading, make) in enumerate(parts, 1)]


def shown(value: Cell, kind: Kind) -> str:
    """A cell as text (the html's, and the test's way of reading both files alike)."""
    if value is None or value == "":
        return "—" if kind in ("pct", "num", "date") else ""
    if kind == "pct" and isinstance(value, float):
        return percent(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}" if kind == "num" else str(_whole(value))
    return str(value)
