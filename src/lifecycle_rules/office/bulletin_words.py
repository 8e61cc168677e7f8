"""The bulletin's words: its title, the summary paragraph (a 通报 reads top-down: the
month's figures first), the 说明 that defines every figure, and each portfolio rate's
definition in Chinese. Pure; both renderers use them, so the xlsx and the html say the
same thing. ``docs/bulletin.md`` is the same definitions for the developer.
"""

from __future__ import annotations

import datetime as dt

from lifecycle_rules.core.wording import cn_date
from lifecycle_rules.office.bulletin import (
    BOARD_SIZE,
    DEFAULT_RESPONSE_DAYS,
    NO_REGION,
    NO_STAGE,
    NO_UNIT,
    Bulletin,
)
from lifecycle_rules.office.words import COLOR_WORDS, STATUS_WORDS
from lifecycle_rules.pack.compile import Pack

_DIGITS = "〇一二三四五六七八九"


def cn_numeral_date(day: dt.date) -> str:
    """二〇二四年十一月三十日 (公文 落款 style)."""
    def small(n: int) -> str:
        tens, ones = divmod(n, 10)
        return ("" if tens < 2 else _DIGITS[tens]) + ("十" if tens else "") + (_DIGITS[ones] if ones else "")
    return "".join(_DIGITS[int(c)] for c in str(day.year)) + f"年{small(day.month)}月{small(day.day)}日"


def short_date(day: dt.date, year_of: dt.date | None = None) -> str:
    """11月30日 within ``year_of``'s year, else 2024年11月30日."""
    return f"{day.month}月{day.day}日" if year_of is not None and day.year == year_of.year else cn_date(day)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def level_words(pack: Pack, level: str) -> str:
    """红灯, or 红灯（督办） where the pack's own name for the level says something else."""
    color = COLOR_WORDS.get(level, level)
    spec = pack.spec.levels.get(level)  # type: ignore[call-overload]
    name = spec.name if spec is not None else ""
    return color if not name or name.startswith(color[0]) else f"{color}（{name}）"


def title(b: Bulletin) -> str:
    return f"{b.pack.spec.city}投资项目全生命周期预警通报（{b.as_of.year}年{b.as_of.month}月）"


def period_words(b: Bulletin) -> str:
    return f"{cn_date(b.since)}至{short_date(b.as_of, b.since)}"


def subtitle(b: Bulletin) -> str:
    return (f"{b.pack.spec.city} · 统计期：{period_words(b)} · 数据截至{cn_date(b.as_of)} · "
            f"依据{b.pack.document} · 规则包 {b.pack.label}")


def summary(b: Bulletin) -> str:
    """The opening paragraph: the month's figures in one breath."""
    o = b.overall
    levels = "、".join(f"{level_words(b.pack, lv)}{o.standing[lv]}条" for lv in b.levels)
    judged = b.on_time + b.late
    rate = percent(b.on_time / judged if judged else None)
    text = (f"截至{cn_date(b.as_of)}，纳入监测项目{b.projects}个，在办预警{o.total}条（{levels}），"
            f"涉及项目{b.standing_projects}个，其中销号超时{o.overdue}条。"
            f"本期（{period_words(b)}）新增预警{o.new}条，升级{o.escalated}条，销号{o.closed}条。"
            f"期内预警{len(b.items)}条，按期响应{b.on_time}条，超时{b.late}条，"
            f"待响应{len(b.items) - judged}条，按期响应率{rate}。")
    red, black = b.board("红榜"), b.board("黑榜")
    if red:
        text += f"红榜：{'、'.join(s.unit for s in red)}。"
    if black:
        text += f"黑榜：{'、'.join(s.unit for s in black)}。"
    if b.rates:
        text += "五率：" + "，".join(f"{r.name}{'暂无数值' if r.value is None else percent(r.value)}"
                                   for r in b.rates) + "。"
    if b.rejected:
        text += f"另有{b.rejected}条记录无法读取，未纳入统计（见说明）。"
    return text


def definitions(b: Bulletin, *, rejects_file: str = "", notices_file: str = "") -> list[tuple[str, str]]:
    """说明: (term, definition), each figure so a clerk can recount it from the lists."""
    eve, r = cn_date(b.eve), b.response_days
    cycle = b.pack.spec.signoff.cycle_days
    window = (f"{r}日（规则包的销号周期）" if cycle == r else
              f"{r}日（规则包未规定销号周期，按月通报取{DEFAULT_RESPONSE_DAYS}日）" if cycle is None
              and r == DEFAULT_RESPONSE_DAYS else f"{r}日（本次设定）")
    colors = "；".join(f"{COLOR_WORDS.get(lv, lv)}即{b.pack.spec.levels[lv].name}"  # type: ignore[index]
                      for lv in b.levels)
    out = [
        ("统计期", f"{period_words(b)}；期前一日为{eve}。各数字由规则包对每个项目在{eve}、"
                f"{cn_date(b.as_of)}、各月末及本期销号前一日的计算结果得出；截至日之后的事件不计入。"),
        ("预警等级", f"{colors}。"),
        ("在办预警", "当日办理状态为未办理、正在办理或销号超时的预警（已销号的不计）。"
                 f"“在办预警”各表均为{cn_date(b.as_of)}的状态。"),
        ("上期结转", f"{eve}在办的预警。"),
        ("本期新增", f"{eve}不在办、而在统计期内在办或销号的预警（含期内出现又已销号的）；"
                 "清单“本期变化”栏记为“新增”。"),
        ("升级", f"{eve}在办、{cn_date(b.as_of)}等级更高的预警（新增的不再计为升级）；清单记为“升级”。"),
        ("本期销号", "销号日期在统计期内的预警，见“本期销号清单”。"),
        ("销号超时", f"{cn_date(b.as_of)}办理状态为销号超时的预警：答复“正在办理”后经规定次数推送仍未销号"
                 + ("。" if cycle else "（本规则包未规定销号周期，不出现销号超时）。")),
        ("期内预警", "上期结转与本期新增之和，即统计期内责任单位须办理的全部预警；"
                 "等于各等级在办清单与本期销号清单的行数之和。"),
        ("响应期限", f"{window}。"),
        ("响应评定", "在办的预警按截至日的状态评定，本期销号的按销号前一日的状态评定："
                 f"正在办理为按期；销号超时为超时；未办理且距预警日期超过{r}日为超时；"
                 f"未办理且未超过{r}日的，在办为待响应（不计入考评），已销号为按期。"),
        ("按期响应率", "按期 ÷（按期 + 超时），待响应的不计；无可评定预警的单位不计响应率。"),
        ("持续天数", f"预警日期至销号日期（已销号）或{cn_date(b.as_of)}（在办）的天数；"
                 "平均办理天数为该单位期内预警持续天数的平均数，保留一位小数。"),
        ("责任单位", "预警所列的每个责任单位各计一次（一条预警可计入多个单位）；分单位表的合计行每条预警只计一次。"
                 f"未列单位的记为“{NO_UNIT}”。"),
        ("排名与红黑榜", "按按期响应率从高到低，相同的超时条数少者在前，"
                   "再相同的平均办理天数少者在前，再按单位名称排序。"
                   f"红榜为无超时且有可评定预警的前{BOARD_SIZE}个单位；"
                   f"黑榜为有超时的单位中按期响应率最低的{BOARD_SIZE}个（相同的超时多者、平均办理天数多者在前）。"),
        ("分阶段、分乡镇", f"阶段为预警所处的阶段（未分阶段的记为“{NO_STAGE}”）；"
                     f"乡镇（街道）为项目的所属乡镇（街道）（未填写的记为“{NO_REGION}”）。"
                     "分乡镇、分单位表按红灯、橙灯、黄灯、合计、新增依次从多到少排列。"),
        ("清单排序", "先按等级（红灯在前），再按预警日期从早到晚，再按乡镇（街道）、项目代码。"
                 "销号超时清单中的预警同时列在所属等级的清单中。"),
        ("趋势", "近12个月每月末（本月为截至日）当日在办的预警条数，按等级分列。"),
        ("办理状态", f"{STATUS_WORDS['open']}：尚未答复；{STATUS_WORDS['in_progress']}：已答复正在办理、尚未销号；"
                 f"{STATUS_WORDS['closure_overdue']}：见上；{STATUS_WORDS['closed']}：答复无需办理、已完成办理、"
                 "项目退出，或所要求的事项已完成、项目已退出。"),
    ]
    if b.rates:
        out.append(("五率", "各指标的口径见“五率”表；分母为零或数据不全的指标不计数值（记为“—”），不作推算。"))
    inactive = b.pack.inactive
    if inactive:
        out.append(("未启用的规则", f"规则包中{len(inactive)}条规则的时限政策未公布、本次未设定，未启用："
                    f"{'、'.join(sorted(inactive))}（以 --param 设定后启用）。"))
    read = (f"有{b.rejected}条记录无法读取，未纳入任何统计" +
            (f"，明细见 {rejects_file}" if rejects_file else "") + "。") if b.rejected else "全部记录均已读取。"
    out.append(("读取情况", f"共计算项目{b.projects}个；{read}"))
    if b.noticed:
        out.append(("提示", f"有{b.noticed}条提示（未计算的规则及原因、跳过的行等）" +
                    (f"，明细见 {notices_file}" if notices_file else "") + "。"))
    return out
