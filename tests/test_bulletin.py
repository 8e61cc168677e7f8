"""The monthly bulletin (通报): figures against counts made by hand on two small portfolios
(tests/data/bulletin/), and the files a clerk opens (.xlsx reopened with openpyxl, .html
parsed), made through the command line. Period 2024-11-01..2024-11-30, eve 2024-10-31.
建德: orange on day 76 after 拿地, red on day 91 (五.2, 三(三)); 正在办理 starts a 30-day cycle,
销号超时 from day 121 (三(四)); R = 30. 漯河: yellow after 2 months without progress, red after
3 (四(二)二); no cycle, so R is the bulletin's 30 days."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from lifecycle_rules.io.cli import main
from lifecycle_rules.office import bulletin as bl
from lifecycle_rules.office.bulletin_tables import tables
from lifecycle_rules.office.bulletin_words import cn_numeral_date, definitions, summary
from lifecycle_rules.office.portfolio import read_portfolio
from lifecycle_rules.office.report_cli import bulletin_of
from lifecycle_rules.office.svg import Series, lines, stacked_bars
from lifecycle_rules.pack.plugins import load_pack

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "bulletin"
AS_OF = dt.date(2024, 11, 30)
SINCE = dt.date(2024, 11, 1)
PACKS = ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"]
SCRIPT_NAME = "<script>alert(1)</script>"


def make(pack_id: str, as_of: dt.date = AS_OF, since: dt.date = SINCE) -> bl.Bulletin:
    pack = load_pack(pack_id)
    portfolio = read_portfolio(pack, [DATA / f"{pack_id}.jsonl"])
    bulletin, _ = bulletin_of(portfolio, since, as_of)
    return bulletin


def item(b: bl.Bulletin, project: str) -> bl.Item:
    (found,) = [i for i in b.items if i.warning.project_id == project]
    return found


def score(b: bl.Bulletin, unit: str) -> bl.UnitScore:
    (found,) = [s for s in b.scores if s.unit == unit]
    return found


def row(d: bl.Breakdown, label: str) -> tuple[int, int, int, int, int, int, int, int]:
    t = dict(d.rows)[label]
    return (t.standing["red"], t.standing["orange"], t.standing["yellow"], t.total, t.overdue,
            t.new, t.escalated, t.closed)


# --------------------------------------------------------------------- 建德, by hand

# Each project of tests/data/bulletin/jiande.jsonl has one warning, jd.land-to-start
# (开工监管 within 90 days of 拿地) but JD-I's jd.sign-to-land (拿地 within 180 days of
# 签约: orange on day 151). On the eve (10-31) and on as_of (11-30):
#   JD-A 拿地 03-02: red since 06-01, open on both days.        carried, 超时 (182 days > 30)
#   JD-B 拿地 08-20: nothing on 10-31; red since 11-19 on 11-30.  new, 待响应 (11 days)
#   JD-C 拿地 08-10: orange since 10-25 on 10-31, red since 11-09. carried + escalated, 待响应 (21)
#   JD-D 拿地 05-01: red 07-31, 正在办理 08-05, 已完成 11-10.      carried, closed 11-10; the day
#                    before it was in_progress: 按期. 102 days (07-31..11-10).
#   JD-E 拿地 03-10: red 06-09, 正在办理 06-15: 销号超时 from 10-14 (06-15 + 121); no region.
#                                                                carried, 超时, 174 days
#   JD-F 拿地 04-01: red 07-01, 正在办理 07-10 (销号超时 from 11-08), 已完成 11-20: the day
#                    before its 销号 it was 销号超时: carried, closed, 超时, 142 days.
#   JD-G 拿地 08-25: orange 11-09, 开工监管 done 11-12: new and closed in the period; closed
#                    from 未办理 3 days after its 预警日期: 按期, 3 days.
#   JD-H 拿地 01-05: red 04-05, 已完成 05-01: closed before the period: not in the bulletin.
#   JD-I 签约 06-15 (开发区): orange since 11-13.                  new, 待响应, 17 days
#   JD-J 拿地 06-20: red 09-19, 正在办理 10-20 (商服住).             carried, in_progress: 按期, 72

def test_jiande_overview_by_hand() -> None:
    b = make("jiande")
    o = b.overall
    assert b.response_days == 30 and b.eve == dt.date(2024, 10, 31) and b.projects == 10
    # Standing on 11-30: red A, B, C, E, J; orange I. 销号超时: E.
    assert (o.standing["red"], o.standing["orange"], o.standing["yellow"], o.total, o.overdue) == (5, 1, 0, 6, 1)
    # New: B, G, I (G also closed). Escalated: C. Closed in the period: D, F, G.
    assert (o.new, o.escalated, o.closed) == (3, 1, 3)
    assert {i.warning.project_id: i.change for i in b.items} == {
        "JD-A": "", "JD-B": "新增", "JD-C": "升级", "JD-D": "", "JD-E": "", "JD-F": "", "JD-G": "新增",
        "JD-I": "新增", "JD-J": ""}  # JD-H is not there: closed before the period
    assert b.standing_projects == 6
    # 期内预警 9 = carried 6 (A, C, D, E, F, J) + new 3; 按期 D, G, J; 超时 A, E, F; 待响应 B, C, I.
    assert len(b.items) == 9 and sum(i.carried for i in b.items) == 6
    assert {i.warning.project_id: i.response for i in b.items} == {
        "JD-A": "超时", "JD-B": "待响应", "JD-C": "待响应", "JD-D": "按期", "JD-E": "超时", "JD-F": "超时",
        "JD-G": "按期", "JD-I": "待响应", "JD-J": "按期"}
    assert (b.on_time, b.late) == (3, 3)
    assert item(b, "JD-F").before == "closure_overdue" and item(b, "JD-D").before == "in_progress"
    assert item(b, "JD-G").before == "open"
    assert {i.warning.project_id: i.days for i in b.items} == {
        "JD-A": 182, "JD-B": 11, "JD-C": 21, "JD-D": 102, "JD-E": 174, "JD-F": 142, "JD-G": 3, "JD-I": 17,
        "JD-J": 72}
    text = summary(b)
    assert "在办预警6条（红灯5条、橙灯1条、黄灯0条）" in text and "销号超时1条" in text
    assert "新增预警3条，升级1条，销号3条" in text and "按期响应率50.0%" in text


def test_jiande_breakdowns_by_hand() -> None:
    b = make("jiande")
    # (red, orange, yellow, total, 销号超时, new, escalated, closed)
    # 下涯镇: A red, B red (new). 大同镇: C red (escalated), J red, D closed. (未填写): E red,
    # 销号超时. 洋溪街道: I orange (new). 乾潭镇: F closed, G new and closed.
    assert [label for label, _ in b.by_region.rows] == ["下涯镇", "大同镇", "（未填写）", "洋溪街道", "乾潭镇"]
    assert row(b.by_region, "下涯镇") == (2, 0, 0, 2, 0, 1, 0, 0)
    assert row(b.by_region, "大同镇") == (2, 0, 0, 2, 0, 0, 1, 1)
    assert row(b.by_region, "（未填写）") == (1, 0, 0, 1, 1, 0, 0, 0)
    assert row(b.by_region, "洋溪街道") == (0, 1, 0, 1, 0, 1, 0, 0)
    assert row(b.by_region, "乾潭镇") == (0, 0, 0, 0, 0, 1, 0, 2)
    # Stages in the pack's order, all shown; I is 签约未落地, the others 落地未开工.
    assert [label for label, _ in b.by_stage.rows] == ["签约未落地", "落地未开工", "开工未竣工", "竣工未投产",
                                                         "投产未达产", "已达产"]
    assert row(b.by_stage, "签约未落地") == (0, 1, 0, 1, 0, 1, 0, 0)
    assert row(b.by_stage, "落地未开工") == (5, 0, 0, 5, 1, 2, 1, 3)
    assert row(b.by_stage, "开工未竣工") == (0,) * 8
    # Units: each warning once per unit named on it; the total row once per warning.
    assert row(b.by_unit, "市规划和自然资源局") == (5, 1, 0, 6, 1, 3, 1, 3)  # on every warning
    assert row(b.by_unit, "市住建局") == (2, 0, 0, 2, 0, 0, 1, 0)  # C and J (商服住)
    assert row(b.by_unit, "开发区管委会") == (0, 1, 0, 1, 0, 1, 0, 0)  # I
    total = b.by_unit.total
    assert (total.total, total.new, total.closed) == (6, 3, 3)


def test_jiande_lists_by_hand() -> None:
    b = make("jiande")

    def ids(items: list[bl.Item]) -> list[str]:
        return [i.warning.project_id for i in items]

    # Red: since ascending: A 06-01, E 06-09, J 09-19, C 11-09, B 11-19.
    assert ids(b.standing("red")) == ["JD-A", "JD-E", "JD-J", "JD-C", "JD-B"]
    assert ids(b.standing("orange", "yellow")) == ["JD-I"]
    assert ids(b.overdue) == ["JD-E"]
    # Closed: the reds first (F since 07-01, D since 07-31), then G's orange.
    assert ids(b.closed) == ["JD-F", "JD-D", "JD-G"]
    # The lists hold every warning of the period once (standing lists + closed list).
    assert len(b.standing("red", "orange", "yellow")) + len(b.closed) == len(b.items)


def test_jiande_scorecard_by_hand() -> None:
    b = make("jiande")
    # 属地政府 is on A, B, C, D, F, G, I, J (not E, a government project: 行业主管部门 ...).
    s = score(b, "属地政府")
    assert (s.carried, s.new, s.received) == (5, 3, 8)  # carried A C D F J; new B G I
    assert (s.closed, s.in_progress, s.overdue, s.waiting, s.unanswered) == (3, 1, 0, 3, 1)  # D F G; J; -; B C I; A
    assert (s.on_time, s.late) == (3, 2)  # D G J; A F
    assert s.rate == pytest.approx(0.6)
    assert s.average_days == 68.8  # (182+11+21+102+142+3+17+72)/8 = 68.75, half up
    # 市经信局: the industrial ones outside the zone: A, B, D, F, G.
    s = score(b, "市经信局")
    assert (s.received, s.on_time, s.late, s.rate, s.average_days) == (5, 2, 2, 0.5, 88.0)  # 440/5
    # 市规划和自然资源局: all nine.
    s = score(b, "市规划和自然资源局")
    assert (s.received, s.overdue, s.on_time, s.late, s.rate) == (9, 1, 3, 3, 0.5)
    assert s.average_days == 80.4  # 724/9 = 80.44
    # 市住建局: C (待响应) and J (按期): 100%, nothing late.
    s = score(b, "市住建局")
    assert (s.received, s.waiting, s.on_time, s.late, s.rate, s.average_days) == (2, 1, 1, 0, 1.0, 46.5)
    # E's units: one warning, 销号超时: 0%.
    for unit in ("市发改局", "行业主管部门", "项目业主"):
        s = score(b, unit)
        assert (s.received, s.overdue, s.late, s.rate, s.average_days) == (1, 1, 1, 0.0, 174.0)
    # 开发区管委会: I, 待响应: no rate.
    s = score(b, "开发区管委会")
    assert (s.received, s.rate, s.average_days) == (1, None, 17.0)
    # Ranking: rate desc, then fewer 超时, then fewer days, then name; no rate last.
    assert [(s.rank, s.unit) for s in b.scores] == [
        (1, "市住建局"), (2, "属地政府"), (3, "市经信局"), (4, "市规划和自然资源局"), (5, "市发改局"),
        (6, "行业主管部门"), (7, "项目业主"), (8, "开发区管委会")]
    # 红榜: nothing late and a rate: only 市住建局. 黑榜: the three at 0%, by name.
    assert [s.unit for s in b.board("红榜")] == ["市住建局"]
    assert [s.unit for s in b.board("黑榜")] == ["市发改局", "行业主管部门", "项目业主"]
    for s in b.scores:  # every received warning is in exactly one status column and one judgement
        assert s.closed + s.in_progress + s.overdue + s.waiting + s.unanswered == s.received
        assert s.on_time + s.late + s.waiting == s.received


def test_jiande_trend_by_hand() -> None:
    b = make("jiande")
    # Month ends 2023-12-31 .. 2024-11-30. H: orange 03-21, red 04-05, closed 05-01.
    # A: orange 05-17, red 06-01. E: orange 05-25, red 06-09, 销号超时 10-14. F: orange 06-16,
    # red 07-01, closed 11-20. D: red 07-31, closed 11-10. J: red 09-19. C: orange 10-25, red
    # 11-09. B: red 11-19. I: orange 11-13. G: orange 11-09, closed 11-12 (no month end).
    expected = [  # (day, red, orange, 销号超时)
        ("2023-12-31", 0, 0, 0), ("2024-01-31", 0, 0, 0), ("2024-02-29", 0, 0, 0),
        ("2024-03-31", 0, 1, 0),  # H
        ("2024-04-30", 1, 0, 0),  # H
        ("2024-05-31", 0, 2, 0),  # A, E
        ("2024-06-30", 2, 1, 0),  # A, E red; F orange
        ("2024-07-31", 4, 0, 0),  # A, E, F, D
        ("2024-08-31", 4, 0, 0),
        ("2024-09-30", 5, 0, 0),  # + J
        ("2024-10-31", 5, 1, 1),  # + C orange; E 销号超时
        ("2024-11-30", 5, 1, 1),  # A, B, C, E, J; I orange; E
    ]
    got = [(p.day.isoformat(), p.standing["red"], p.standing["orange"], p.overdue) for p in b.trend]
    assert got == expected


# --------------------------------------------------------------------- 漯河, by hand

# tests/data/bulletin/luohe.jsonl: lh.preliminary-stall (前期工作, keyed by its anchor) but
# LH-7's lh.investment-shortfall (月度投资). R = 30 days (the draft sets no cycle).
#   LH-1 签约 01-10, progress 03-15: @01-10 yellow 03-11 closed 03-15 (before: left out);
#        @03-15 yellow 05-16, red 06-16, open.              carried, 超时 (167 days)
#   LH-2 签约 09-20: yellow 11-21.                          new, 待响应 (9)
#   LH-3 签约 08-10: yellow 10-11, red 11-11.               carried + escalated, 待响应 (19)
#   LH-4 签约 08-25: yellow 10-26; progress 11-05 closes it: closed from 未办理 10 days after: 按期 (10)
#   LH-5 签约 05-01: yellow 07-02, red 08-02, 正在办理 09-01.  carried, 按期 (120)
#   LH-6 签约 04-01: yellow 06-02, red 07-02, 无需办理 11-15: closed from 未办理 136 days after:
#        carried, closed, 超时 (136)
#   LH-7 开工 03-01, October's report short (filed 11-05): yellow 11-05.  new, 待响应 (25)

def test_luohe_by_hand() -> None:
    b = make("luohe")
    o = b.overall
    assert b.response_days == 30 and b.levels == ["red", "yellow"]
    assert (o.standing["red"], o.standing["yellow"], o.total, o.overdue) == (3, 2, 5, 0)  # L1 L3 L5; L2 L7
    assert (o.new, o.escalated, o.closed) == (2, 1, 2)  # L2 L7; L3; L4 L6
    assert {i.warning.project_id: (i.response, i.days) for i in b.items} == {
        "LH-1": ("超时", 167), "LH-2": ("待响应", 9), "LH-3": ("待响应", 19), "LH-4": ("按期", 10),
        "LH-5": ("按期", 120), "LH-6": ("超时", 136), "LH-7": ("待响应", 25)}
    assert (b.on_time, b.late) == (2, 2)
    assert [label for label, _ in b.by_region.rows] == ["源汇区", "郾城区", "召陵区"]
    assert row(b.by_region, "源汇区") == (2, 0, 1, 3, 0, 1, 0, 0)  # L1 L5 red, L7 yellow (new)
    assert row(b.by_region, "郾城区") == (1, 0, 1, 2, 0, 1, 1, 0)  # L3 red (escalated), L2 (new)
    assert row(b.by_region, "召陵区") == (0, 0, 0, 0, 0, 0, 0, 2)  # L4, L6 closed
    assert row(b.by_stage, "前期") == (3, 0, 1, 4, 0, 1, 1, 2)
    assert row(b.by_stage, "在建") == (0, 0, 1, 1, 0, 1, 0, 0)
    # Units: four on all seven warnings; 市自然资源和规划局 on L1-L6; 市统计局, 县区政府 on L7.
    s = score(b, "市发改委")
    assert (s.carried, s.new, s.closed, s.in_progress, s.waiting, s.unanswered) == (5, 2, 2, 1, 3, 1)
    assert (s.on_time, s.late, s.rate, s.average_days) == (2, 2, 0.5, 69.4)  # 486/7 = 69.43
    s = score(b, "市自然资源和规划局")
    assert (s.received, s.rate, s.average_days) == (6, 0.5, 76.8)  # 461/6 = 76.83
    assert (score(b, "市统计局").rate, score(b, "市统计局").average_days) == (None, 25.0)
    # Equal rates and 超时: fewer days first, then by name (code point order: 发 < 领, 县 < 部).
    assert [s.unit for s in b.scores] == [
        "市发改委", "市领导", "相关县区党政主要领导和分管领导", "相关部门党政主要领导和分管领导", "市自然资源和规划局",
        "县区政府", "市统计局"]
    assert b.board("红榜") == []
    assert [s.unit for s in b.board("黑榜")] == ["市自然资源和规划局", "市发改委", "市领导"]
    got = [(p.day.isoformat(), p.standing["red"], p.standing["yellow"]) for p in b.trend]
    assert got[:5] == [(d, 0, 0) for d in ("2023-12-31", "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30")]
    assert got[5:] == [("2024-05-31", 0, 1), ("2024-06-30", 1, 1), ("2024-07-31", 2, 1), ("2024-08-31", 3, 0),
                       ("2024-09-30", 3, 0), ("2024-10-31", 3, 2), ("2024-11-30", 3, 2)]


def test_a_longer_period() -> None:
    # --since 2024-10-01, eve 09-30: standing then A, D, E, F, J (all red). C (orange 10-25,
    # red 11-09) is new now, never also escalated; B, G, I new as before; D, F, G closed.
    b = make("jiande", since=dt.date(2024, 10, 1))
    assert sorted(i.warning.project_id for i in b.items if i.change == "新增") == ["JD-B", "JD-C", "JD-G", "JD-I"]
    assert (b.eve, b.overall.new, b.overall.escalated, b.overall.closed) == (dt.date(2024, 9, 30), 4, 0, 3)


def test_days_and_words() -> None:
    assert bl.trend_days(dt.date(2024, 11, 15))[-2:] == [dt.date(2024, 10, 31), dt.date(2024, 11, 15)]
    assert bl.trend_days(dt.date(2024, 3, 31))[0] == dt.date(2023, 4, 30)
    assert bl.trend_days(dt.date(2025, 2, 28))[-3] == dt.date(2024, 12, 31)
    assert bl.needed_days(SINCE, AS_OF)[0] == dt.date(2023, 12, 31)
    assert [cn_numeral_date(dt.date(*d)) for d in ((2024, 11, 30), (2025, 1, 9), (2025, 10, 20))] == [
        "二〇二四年十一月三十日", "二〇二五年一月九日", "二〇二五年十月二十日"]
    with pytest.raises(KeyError, match="2024-10-31"):
        bl.compute(load_pack("jiande"), SINCE, AS_OF, {AS_OF: []})
    with pytest.raises(ValueError):
        bl.compute(load_pack("jiande"), AS_OF, SINCE, {})


def test_every_figure_is_defined_in_the_bulletin_and_in_docs() -> None:
    b = make("jiande")
    terms = [t for t, _ in definitions(b)]
    doc = (ROOT / "docs" / "bulletin.md").read_text(encoding="utf-8")
    for term in ("上期结转", "本期新增", "升级", "本期销号", "销号超时", "期内预警", "响应评定", "按期响应率",
                 "持续天数", "排名与红黑榜", "趋势", "责任单位"):
        assert term in terms
        assert term in doc, term
    headers = {c.header for t in tables(b) for c in t.columns} | {c.group for t in tables(b) for c in t.columns}
    for header in ("上期结转", "本期新增", "按期响应率", "平均办理天数", "响应评定", "本期变化", "持续天数",
                   "销号前状态"):
        assert header in headers and header in doc


def test_the_figures_are_pure() -> None:
    # The figures, their words and the charts read nothing and write nothing: no file,
    # process or clock module, nothing of io/, no workbook library.
    forbidden = ("lifecycle_rules.io", "openpyxl", "os", "pathlib", "subprocess", "tempfile", "time", "sys", "io")
    for name in ("bulletin", "bulletin_words", "svg"):
        tree = ast.parse((ROOT / "src/lifecycle_rules/office" / f"{name}.py").read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not [m for m in imported if m.split(".")[0] in forbidden or m.startswith(forbidden[0])], name
    assert "datetime.date.today" not in (ROOT / "src/lifecycle_rules/office/bulletin.py").read_text(encoding="utf-8")


def test_svg_escapes_and_sizes() -> None:
    svg = stacked_bars("<b>", ["<i>", "a&b"], [Series("<s>", "#c00000", (1, 2))], width=300, height=200)
    assert 'width="300" height="200"' in svg and "<b>" not in svg and "&lt;i&gt;" in svg and "a&amp;b" in svg
    assert "http" not in svg
    svg = lines("t", ["1月", "2月"], [Series("红灯", "#c00000", (0, 7))], width=400, height=220)
    assert svg.count("<circle") == 2 and 'height="220"' in svg


# --------------------------------------------------------------------- the files


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def report(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str,
           pack: str = "jiande", source: Path | None = None) -> tuple[int, Path, str]:
    out = tmp_path / name
    code, err = run(["report", "--pack", pack, "--as-of", "2024-11-30", str(source or DATA / f"{pack}.jsonl"),
                     "-o", str(out), *extra], capsys)
    return code, out, err


def test_xlsx_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(tmp_path, capsys, "通报.xlsx")
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["概况", "分乡镇", "分责任单位", "红灯清单", "橙黄灯清单", "销号超时", "本期销号",
                               "单位考评", "月度趋势", "说明"]
    ws = book["概况"]
    assert ws["A1"].value == "建德投资项目全生命周期预警通报（2024年11月）　一、总体情况"
    assert "数据截至2024年11月30日" in ws["A2"].value and "建政办函〔2024〕22号" in ws["A2"].value
    assert ws["A3"].value.startswith("截至2024年11月30日，纳入监测项目10个")
    # Rows 5-6: the two-row header (row 4 is the table's note). 所处阶段 spans both rows;
    # 在办预警（截至11月30日） is merged over 红灯, 橙灯, 黄灯, 合计, 其中销号超时.
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A5:A6" in merged and "B5:F5" in merged and "G5:I5" in merged
    assert ws["B5"].value == "在办预警（截至11月30日）" and ws["G5"].value == "本期变化"
    assert [ws.cell(6, c).value for c in range(2, 10)] == ["红灯", "橙灯", "黄灯", "合计", "其中销号超时",
                                                             "新增", "升级", "销号"]
    assert ws.freeze_panes == "B7" and ws.print_title_rows == "$1:$6"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert [ws.cell(8, c).value for c in range(1, 10)] == ["落地未开工", 5, 0, 0, 5, 1, 2, 1, 3]
    assert ws.cell(13, 1).value == "合计" and ws.cell(13, 5).value == 6
    red = book["红灯清单"]  # no note: the header is rows 3-4
    assert red.freeze_panes == "D5" and red.print_title_rows == "$1:$4"
    assert {"A3:A4", "B3:D3"} <= {str(r) for r in red.merged_cells.ranges}  # 项目 over 项目代码 .. 所属乡镇（街道）
    assert red["B3"].value == "项目" and red["A3"].value == "序号"
    header = [red.cell(4, c).value or red.cell(3, c).value for c in range(1, red.max_column + 1)]
    first = dict(zip(header, [red.cell(5, c).value for c in range(1, red.max_column + 1)], strict=True))
    assert first["序号"] == 1 and first["项目代码"] == "JD-A" and first["办理状态"] == "未办理"
    assert first["预警颜色"] == "红灯" and first["预警等级"] == "红灯预警"
    assert first["责任单位"] == "属地政府、市经信局、市规划和自然资源局"
    assert first["预警日期"] == dt.datetime(2024, 6, 1) and first["响应评定"] == "超时" and first["持续天数"] == 182
    names = [red.cell(r, 3).value for r in range(5, red.max_row + 1)]
    assert SCRIPT_NAME in names  # user data kept as it is, text not markup
    scores = book["单位考评"]
    assert scores.freeze_panes == "C8"
    values = [[c.value for c in r] for r in scores.iter_rows(min_row=8)]
    assert values[0][:2] == [1, "市住建局"] and values[0][12] == 1.0 and values[0][-1] == "红榜"
    assert scores.cell(8, 13).number_format == "0.0%"
    notes = book["说明"]
    assert any(notes.cell(r, 1).value == "期内预警" for r in range(1, notes.max_row + 1))


def test_html_escapes_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(tmp_path, capsys, "通报.html")
    assert code == 0, err
    html = out.read_text(encoding="utf-8")

    class Reader(HTMLParser):
        tags: list[str]
        texts: list[str]
        urls: list[str]

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "action")]

        def handle_data(self, data: str) -> None:
            self.texts.append(data)

    page = Reader()
    page.tags, page.texts, page.urls = [], [], []
    page.feed(html)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert SCRIPT_NAME in page.texts  # shown as text...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html  # ...escaped in the file
    assert page.urls == []
    assert not re.search(r"https?:|url\(|@import|//[a-z]", html, re.I)
    assert page.tags.count("svg") == 2 and page.tags.count("section") == 10
    assert "Content-Security-Policy" in html and "default-src &#x27;none&#x27;" in html
    assert "@page" in html and "break-inside: avoid" in html and '"SimSun"' in html and '"SimHei"' in html
    assert "数据截至二〇二四年十一月三十日" in html


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("suffix", [".xlsx", ".html"])
def test_every_pack_example_makes_a_bulletin(pack: str, suffix: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(tmp_path, capsys, f"通报{suffix}", pack=pack, source=ROOT / f"examples/{pack}.jsonl")
    assert code == 0, err
    assert f"bulletin written to {out}" in err
    rates = bool(load_pack(pack).spec.rates)  # 江阴's five rates: a sheet, a section
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(out)
        assert ("五率" in book.sheetnames) == rates
        assert all(ws.print_title_rows and ws.freeze_panes for ws in book.worksheets)
        assert not rates or "签约项目备案率" in [c.value for c in book["五率"]["A"]]
    else:
        html = out.read_text(encoding="utf-8")
        assert ('id="rates"' in html) == rates and html.count("<svg") >= 1
        assert not rates or "签约项目备案率" in html


def test_rejects_are_counted_written_beside_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    lines_ = (DATA / "jiande.jsonl").read_text(encoding="utf-8").splitlines()
    bad_date = json.dumps({"project": {"id": "BAD-1"}, "events": [{"date": "2024-02-30", "type": "progress"}]})
    bad_step = json.dumps({"project": {"id": "BAD-2"}, "events": [
        {"date": "2024-02-03", "type": "step_completed", "step": "开公"}]}, ensure_ascii=False)
    src.write_text("\n".join([*lines_, bad_date, bad_step]) + "\n", encoding="utf-8")
    code, out, err = report(tmp_path, capsys, "通报.xlsx", source=src)
    assert code == 1, err
    rejects = [json.loads(x) for x in (tmp_path / "通报.xlsx.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["locator"], r["project_id"], r["field"]) for r in rejects] == [
        ("line 11", "BAD-1", "events[0].date"), ("line 12", "BAD-2", "events[0].step")]
    book = openpyxl.load_workbook(out)
    said = " ".join(str(c.value) for c in book["说明"]["B"])
    assert "有2条记录无法读取，未纳入任何统计，明细见 通报.xlsx.rejects.jsonl" in said
    assert "另有2条记录无法读取" in book["概况"]["A3"].value
    assert "2 rejected record(s) written to" in err
    code, out, _ = report(tmp_path, capsys, "通报2.html", "--allow-rejects", source=src)
    assert code == 0 and "明细见 通报2.html.rejects.jsonl" in out.read_text(encoding="utf-8")


def test_cells_a_worksheet_cannot_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    rows = [json.loads(x) for x in (DATA / "jiande.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["project"]["name"] = "新材料\u0007项目"  # JD-A: a bell in its name
    rows[1]["project"]["name"] = "=HYPERLINK(\"x\")"  # JD-B: text, not a formula
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, out, _ = report(tmp_path, capsys, "b.xlsx", source=src)
    assert code == 0
    red = openpyxl.load_workbook(out)["红灯清单"]
    names = {red.cell(r, 2).value: red.cell(r, 3) for r in range(5, red.max_row + 1)}
    assert names["JD-A"].value == "新材料\\u0007项目"
    assert names["JD-B"].value == '=HYPERLINK("x")' and names["JD-B"].data_type == "s"
    notices = [json.loads(x) for x in (tmp_path / "b.xlsx.notices.jsonl").read_text(encoding="utf-8").splitlines()]
    escaped = [n for n in notices if n["notice"].startswith("output: ")]
    assert {(n["project_id"], n["locator"]) for n in escaped} == {("JD-A", "sheet 红灯清单 row 5")}


def test_notices_are_written_beside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(tmp_path, capsys, "b.html", pack="jiande", source=ROOT / "examples/jiande.jsonl")
    assert code == 0
    notices = [json.loads(x) for x in (tmp_path / "b.html.notices.jsonl").read_text(encoding="utf-8").splitlines()]
    assert notices and all(set(n) == {"file", "locator", "project_id", "notice"} for n in notices)
    assert f"有{len(notices)}条提示" in out.read_text(encoding="utf-8")
    assert not (tmp_path / "b.html.rejects.jsonl").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["-o", "x.pdf"], "cannot tell the bulletin's format from its suffix '.pdf'"),
    (["-o", "-"], "a bulletin is a file"),
    (["-o", "x.html", "--since", "2024-12-01"], "--since 2024-12-01 is after --as-of 2024-11-30"),
    (["-o", "x.html", "--response-days", "0"], "response-days: '0' is not a number of days"),
])
def test_usage_errors_write_nothing(extra: list[str], message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = run(["report", "--pack", "jiande", "--as-of", "2024-11-30", str(DATA / "jiande.jsonl"), *extra],
                    capsys)
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []


def test_an_input_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.xlsx"
    src.write_bytes(b"")
    code, err = run(["report", "--pack", "jiande", "--as-of", "2024-11-30", str(src), "-o", str(src)], capsys)
    assert code == 2 and "is an input" in err


def test_response_days_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # R = 10 days: C (red since 11-09, 21 days) and I (17 days) are now late; B (11) too.
    b, _ = bulletin_of(read_portfolio(load_pack("jiande"), [DATA / "jiande.jsonl"]), SINCE, AS_OF, response_days=10)
    assert [i for i in b.items if i.response == "待响应"] == [] and b.late == 6
    code, out, _ = report(tmp_path, capsys, "r.html", "--response-days", "10")
    assert code == 0 and "未办理（超过10日）" in out.read_text(encoding="utf-8")

