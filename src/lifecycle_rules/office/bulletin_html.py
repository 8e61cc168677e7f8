"""The bulletin as ONE self-contained HTML file: no script, no external stylesheet, font
or image (government intranets have no internet, and a page that asks for one stalls or
leaks); a Content-Security-Policy that forbids any request makes that a rule the browser
keeps. Charts are inline SVG (``svg.py``). 公文 style: body in 仿宋/宋体 by name with
fallbacks, headings in 黑体; prints on A4 (the wide lists on landscape pages), each big
part on a new page, table headers repeated, rows never cut. Every text is escaped: project
names, units and messages are user data.
"""

from __future__ import annotations

from html import escape

from lifecycle_rules.office.bulletin import Bulletin
from lifecycle_rules.office.bulletin_tables import Table, shown, tables, trend_label
from lifecycle_rules.office.bulletin_words import cn_numeral_date, subtitle, title
from lifecycle_rules.office.svg import Series, lines, stacked_bars

LEVEL_COLORS = {"red": "#c00000", "orange": "#ed7d31", "yellow": "#e0b000"}
BODY_FONTS = ('"FangSong_GB2312","仿宋_GB2312","FangSong","仿宋","SimSun","宋体","Songti SC",'
              '"Noto Serif CJK SC","Source Han Serif SC",serif')
HEADING_FONTS = ('"SimHei","黑体","Microsoft YaHei","微软雅黑","Noto Sans CJK SC","Source Han Sans SC",'
                 '"WenQuanYi Micro Hei",sans-serif')
TITLE_FONTS = ('"FZXiaoBiaoSong-B05S","方正小标宋简体","SimSun","宋体","Songti SC","Noto Serif CJK SC",'
               '"Source Han Serif SC",serif')
# Nothing may be fetched: no script, no connection, no font or image from anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'"

CSS = f"""
@page {{ size: A4; margin: 20mm 16mm 18mm 16mm; }}
@page wide {{ size: A4 landscape; margin: 14mm 12mm; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ font-family: {BODY_FONTS}; font-size: 16pt; line-height: 1.6; color: #111; margin: 0 auto;
        max-width: 1180px; padding: 24px 28px; background: #fff; }}
h1 {{ font-family: {TITLE_FONTS}; font-size: 22pt; font-weight: bold; text-align: center; margin: 8px 0 4px; }}
h2, h3, th, .meta, figcaption {{ font-family: {HEADING_FONTS}; }}
h2 {{ font-size: 16pt; margin: 28px 0 8px; }}
.meta {{ text-align: center; font-size: 10.5pt; color: #444; margin-bottom: 18px; }}
.lead {{ text-indent: 2em; margin: 6px 0; }}
.note {{ font-size: 10.5pt; color: #444; margin: 2px 0 8px; }}
.signed {{ text-align: right; margin-top: 10px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 10.5pt; line-height: 1.35; margin: 6px 0 14px; }}
th, td {{ border: 1px solid #666; padding: 3px 5px; vertical-align: middle; }}
th {{ background: #e8e8e8; font-weight: bold; text-align: center; font-size: 10pt; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.d {{ white-space: nowrap; }}
tr.total td {{ font-weight: bold; background: #f4f4f4; }}
td.empty {{ text-align: center; color: #666; }}
td.red {{ color: #c00000; font-weight: bold; }}
td.orange {{ color: #c55a11; font-weight: bold; }}
td.yellow {{ color: #8a6d00; font-weight: bold; }}
thead {{ display: table-header-group; }}
tr, figure, svg {{ break-inside: avoid; page-break-inside: avoid; }}
figure {{ margin: 8px 0 12px; }}
figcaption {{ font-size: 10pt; color: #444; }}
section.wide table {{ font-size: 9pt; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 14pt; }}
  section.big {{ break-before: page; page-break-before: always; }}
  section.wide {{ page: wide; }}
  svg.chart {{ max-width: 100%; height: auto; }}
}}
"""

_WIDE = {"red", "lower", "overdue", "closed", "rates", "scores"}


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _header(t: Table) -> str:
    top, bottom = [], []
    i = 0
    cols = t.columns
    while i < len(cols):
        c = cols[i]
        if c.group is None:
            top.append(f'<th rowspan="2" scope="col">{_e(c.header)}</th>')
            i += 1
            continue
        j = i
        while j < len(cols) and cols[j].group == c.group:
            bottom.append(f'<th scope="col">{_e(cols[j].header)}</th>')
            j += 1
        top.append(f'<th colspan="{j - i}" scope="colgroup">{_e(c.group)}</th>')
        i = j
    return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(bottom)}</tr></thead>"


_LEVEL_CLASS = {"红灯": "red", "橙灯": "orange", "黄灯": "yellow"}


def _cell(value: object, kind: str) -> str:
    text = shown(value, kind)  # type: ignore[arg-type]
    cls = "n" if kind in ("int", "pct", "num") else "d" if kind == "date" else _LEVEL_CLASS.get(text, "")
    return f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>"


def _table(t: Table) -> str:
    body = []
    for n, row in enumerate(t.rows, 1):
        cls = ' class="total"' if t.total_row and n == len(t.rows) else ""
        body.append(f"<tr{cls}>" + "".join(_cell(v, c.kind) for v, c in zip(row, t.columns, strict=True))
                    + "</tr>")
    if not t.rows:
        body.append(f'<tr><td class="empty" colspan="{len(t.columns)}">{_e(t.empty)}</td></tr>')
    total = sum(c.width for c in t.columns) or 1
    cols = "".join(f'<col style="width:{100 * c.width / total:.1f}%">' for c in t.columns)
    return f'<table><colgroup>{cols}</colgroup>{_header(t)}<tbody>{"".join(body)}</tbody></table>'


def _stage_chart(b: Bulletin) -> str:
    rows = [(label, t) for label, t in b.by_stage.rows if t.total]
    series = [Series(_short(lv), LEVEL_COLORS[lv], tuple(t.standing[lv] for _, t in rows)) for lv in reversed(b.levels)]
    return stacked_bars("在办预警分阶段分布", [label for label, _ in rows], series, width=720, height=300)


def _trend_chart(b: Bulletin) -> str:
    labels = [f"{p.day.month}月" for p in b.trend]  # the title gives the years
    series = [Series(_short(lv), LEVEL_COLORS[lv], tuple(p.standing[lv] for p in b.trend)) for lv in b.levels]
    series.append(Series("合计", "#555555", tuple(p.total for p in b.trend)))
    first, last = trend_label(b.trend[0].day), trend_label(b.trend[-1].day)
    return lines(f"近12个月在办预警趋势（{first}至{last}）", labels, series, width=720, height=320)


def _short(level: str) -> str:
    return {"red": "红灯", "orange": "橙灯", "yellow": "黄灯"}.get(level, level)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def render_html(b: Bulletin, *, rejects_file: str = "", notices_file: str = "") -> str:
    """The whole page as text (UTF-8 when written)."""
    parts = []
    for t in tables(b, rejects_file=rejects_file, notices_file=notices_file):
        classes = " ".join(c for c in ("big" if t.big else "", "wide" if t.key in _WIDE else "") if c)
        out = [f'<section id="{_e(t.key)}" class="{classes}">' if classes else f'<section id="{_e(t.key)}">',
               f"<h2>{_e(t.heading)}</h2>"]
        out += [f'<p class="lead">{_e(p)}</p>' for p in t.lead]
        if t.key == "overview":
            out.append(f'<p class="signed">数据截至{_e(cn_numeral_date(b.as_of))}</p>')
            if b.overall.total:
                out.append(_figure(_stage_chart(b), "图1 在办预警分阶段分布（按等级堆叠）"))
        if t.key == "trend":
            out.append(_figure(_trend_chart(b), "图2 近12个月每月末在办预警条数"))
        if t.note:
            out.append(f'<p class="note">{_e(t.note)}</p>')
        out.append(_table(t))
        out.append("</section>")
        parts.append("\n".join(out))
    head = (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title(b))}</title>\n<style>{CSS}</style>\n</head>\n<body>\n")
    top = f"<header><h1>{_e(title(b))}</h1>\n<p class=\"meta\">{_e(subtitle(b))}</p></header>\n"
    return head + top + "\n".join(parts) + "\n</body>\n</html>\n"
