"""``lifecycle-rules rates``: portfolio rates printed, and written for people or machines.

``-o x.json`` / ``x.jsonl`` write ``RateValue.to_dict()`` rows (the machine's keys). ``-o
x.csv`` / ``x.xlsx`` write the office's table (``--columns office``, the default): 指标, 数值
(a percentage cell), 分子, 分母, 统计区间, 政策依据 (cited by the policy's document number),
说明 (why a rate has no value), and the provenance every row carries: 评估日期, 规则包
(id@version) and 规则包摘要 (``Pack.digest``; the machine's rows: ``as_of``, ``pack``,
``pack_digest``); an ``.xlsx`` has a second sheet, 指标说明, saying what
each rate counts: numerator, denominator, window and the pack's reading. ``--columns
contract`` writes the machine's keys to a CSV or XLSX too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lifecycle_rules.core.rates import RateValue
from lifecycle_rules.core.wording import cn_date, cn_period
from lifecycle_rules.io.writers import Row, Table
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.spec import ProjectSet, RateDef, ReportSum

__all__ = ["DEFINITIONS", "RATES", "rate_rows", "rate_sheets", "run_rates"]

RATES = Table(
    ("name", "value", "numerator", "denominator", "window", "clause", "notes", "as_of", "pack", "pack_digest"),
    {"name": "指标", "value": "数值", "numerator": "分子", "denominator": "分母", "window": "统计区间",
     "clause": "政策依据", "notes": "说明", "as_of": "评估日期", "pack": "规则包", "pack_digest": "规则包摘要"},
    "指标", dates=frozenset({"as_of"}),
    widths={"name": 18, "value": 10, "numerator": 12, "denominator": 12, "window": 26, "clause": 28,
            "notes": 50, "as_of": 11, "pack": 16, "pack_digest": 26},
    wrap=frozenset({"name", "window", "clause", "notes"}), percent=frozenset({"value"}), office=True,
)
DEFINITIONS = Table(
    ("name", "kind", "numerator", "denominator", "window", "clause", "reading"),
    {"name": "指标", "kind": "统计方式", "numerator": "分子", "denominator": "分母", "window": "统计区间",
     "clause": "政策依据", "reading": "口径说明"},
    "指标说明", widths={"name": 18, "kind": 14, "numerator": 34, "denominator": 34, "window": 20, "clause": 28,
                      "reading": 70},
    wrap=frozenset({"name", "numerator", "denominator", "window", "clause", "reading"}), office=True,
)
_PLAN = {"start": "计划开工日期", "completion": "计划竣工日期", "production": "计划投产日期"}
_FIELD = {"planned_wan": "计划投资", "actual_wan": "实际完成投资"}
_REPORT = {"monthly_report": "月度报告", "weekly_report": "周报"}


def whole(number: float) -> float | int:
    """A count or sum as it is written: 4, not 4.0."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _count(number: float) -> str:
    """As printed: 4, 1234567.5 (never 4.0 nor 1.23457e+06)."""
    return str(whole(round(number, 6)))


def _notes(rate: RateValue, defn: RateDef | None) -> str:
    """Why the rate has no value, in words (a year's figures incomplete, an empty
    denominator); any other note of the rate as it is."""
    said: list[str] = []
    if rate.missing:
        runs: list[tuple[str, str, int]] = []
        for period, n in rate.missing:
            if runs and runs[-1][2] == n and int(runs[-1][1][5:]) + 1 == int(period[5:]):
                runs[-1] = (runs[-1][0], period, n)
            else:
                runs.append((period, period, n))
        months = "、".join(f"{cn_period(a)}{'' if a == b else '至' + str(int(b[5:])) + '月'}（{n}个项目）"
                           for a, b, n in runs)
        den = defn.denominator if defn is not None else None
        figure = _FIELD.get(den.field, den.field) if isinstance(den, ReportSum) else "分母数据"
        said.append(f"当年{figure}不全：{months}尚无报送的{figure}；报送项目报齐全年12个月前不计数值（不估算）")
    else:
        said += rate.notes
    if not rate.denominator and not rate.missing:
        said.append("分母为0（统计区间内没有符合条件的项目），不计数值")
    return "；".join(said)


def rate_rows(pack: Pack, values: Sequence[RateValue]) -> list[dict[str, Any]]:
    """The rates in the office's words (keys of ``RATES``), each with its provenance: the
    day (the end of its window), the pack as id@version and its digest."""
    defs = {r.id: r for r in pack.spec.rates}
    label, digest = pack.label, pack.digest
    return [{
        "name": v.name, "value": "—" if v.value is None else v.value,
        "numerator": whole(v.numerator), "denominator": whole(v.denominator),
        "window": f"{cn_date(v.window_start)}至{cn_date(v.window_end)}" if v.window_start
        else f"截至{cn_date(v.window_end)}",
        "clause": pack.cite(v.clause), "notes": _notes(v, defs.get(v.id)),
        "as_of": v.window_end, "pack": label, "pack_digest": digest,
    } for v in values]


def _side(rate: RateDef, side: ProjectSet | ReportSum, numerator: bool) -> str:
    if isinstance(side, ReportSum):
        months = "当年1至12月各月" if rate.window == "year" else "截至统计日各期"
        return (f"{months}{_REPORT.get(side.report, side.report)}所报{_FIELD.get(side.field, side.field)}"
                "（万元）之和，同一期以最后一次报送为准")
    if side.step_completed is not None:
        what = f"完成“{side.step_completed}”"
        when = "统计区间内" if side.within == "window" else "截至统计日已"
        member = f"{when}{what}的项目"
    else:
        plan = _PLAN[side.plan or "start"]
        member = f"{plan}在统计区间内的项目" if side.within == "window" else f"{plan}不晚于统计日的项目"
    return f"分母项目中{member}数" if numerator and rate.kind == "count" else f"{member}数"


def _definitions(pack: Pack) -> list[Row]:
    return [{
        "name": r.name, "kind": "项目计数" if r.kind == "count" else "金额求和（万元）",
        "numerator": _side(r, r.numerator, True), "denominator": _side(r, r.denominator, False),
        "window": "当年1月1日至统计日" if r.window == "year" else "截至统计日（不限年份）",
        "clause": pack.cite(r.clause), "reading": (r.reading or "").strip(),
    } for r in pack.spec.rates]


def rate_sheets(pack: Pack, values: Sequence[RateValue]) -> list[tuple[Table, Sequence[Row]]]:
    """The office's tables of the rates: the values, then what each rate counts."""
    return [(RATES, rate_rows(pack, values)), (DEFINITIONS, _definitions(pack))]


def run_rates(args: argparse.Namespace, pack: Pack, records: Callable[[], Iterator[Any]]) -> int:
    """The rates over ``records()`` (what ``evaluate`` reads), printed as a table and, with
    ``-o``, written; rejects on stderr. Exit 1 if a record was rejected (unless allowed)."""
    from lifecycle_rules.core.rates import portfolio_rates
    from lifecycle_rules.io import writers
    from lifecycle_rules.io.batch import history_reject
    from lifecycle_rules.io.records import Record, Reject

    rejects: list[Reject] = []
    current = ["", ""]  # file and locator of the record being counted (errors come synchronously)

    def histories() -> Any:
        for rec in records():
            if not isinstance(rec, Record):
                continue  # what a reader says of a file, not a project
            if rec.reject is not None:
                rejects.append(rec.reject)
            else:
                current[:] = [rec.file, rec.locator]
                yield rec.history

    def bad(index: int, exc: Any) -> None:
        rejects.append(history_reject(current[0], current[1], exc))

    values = portfolio_rates(pack, histories(), args.as_of, on_error=bad)
    for v in values:
        shown = "—" if v.value is None else f"{v.value:.1%}"
        print(f"{v.name}\t{shown}\t{_count(v.numerator)}/{_count(v.denominator)}\t{v.clause}")
    if args.output is not None:
        rows = [v.to_dict() for v in values]
        for row in rows:
            row["numerator"], row["denominator"] = whole(row["numerator"]), whole(row["denominator"])
            # Which policy produced the rate (as every warning row: SPEC §4).
            row.update(as_of=args.as_of.isoformat(), pack=pack.label, pack_digest=pack.digest)
        office = rate_sheets(pack, values) if args.columns == "office" else None
        writers.write_rates(args.output, rows, office)
    for v in values:
        for note in v.notes:  # why a rate has no value: never a silent dash
            print(f"lifecycle-rules: {v.name}: {note}", file=sys.stderr)
    for r in rejects:
        print(json.dumps(r.to_dict(), ensure_ascii=False), file=sys.stderr)
    if rejects:
        print(f"lifecycle-rules: {len(rejects)} rejected record(s) left out of every rate",
              file=sys.stderr)
    return 1 if rejects and not args.allow_rejects else 0
