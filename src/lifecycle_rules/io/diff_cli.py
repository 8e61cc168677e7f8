"""``lifecycle-rules diff``: what a change of policy does to the warnings of a portfolio.

    lifecycle-rules diff --pack A --pack B --as-of D FILE... [--param-a N=V] [--param-b N=V]
                         [-o diff.xlsx|diff.csv|diff.jsonl]

B is another pack, another version of the same pack (``jiande@2024.1``), or the same pack
with other parameters (``--param-b``). The input files are read once, as ``evaluate``
reads them (the reader options, pack A's column synonyms), every history is evaluated on
``--as-of`` under A and under B, and the two lists of results are compared
(``core.compare``): warnings added (in B, not in A, by key), removed, and changed (level,
since, due, tier, status, responsible units: old → new), with counts by rule and by
responsible unit.

Standard output is a summary in Chinese; without ``-o`` it also lists every change, with
``-o`` the list goes to the file: ``.jsonl`` (machine keys), ``.csv`` (the office's words)
or ``.xlsx`` (the list, and sheets of counts by rule and by unit). Each pack's effective
dates are checked on ``--as-of`` (``--allow-outside-effective``). A record that cannot be
read, or a history pack A does not take, is a reject: listed on stderr as JSON, and exit 1
unless ``--allow-rejects``; a history B does not take (a step it does not know ...) is said
on stderr and its project left out of the comparison. Exit 0 when the comparison was made,
whatever it found; 2 when the run failed and wrote nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle_rules.errors import LifecycleRulesError

if TYPE_CHECKING:  # heavy imports stay inside run (cli imports this module for its parser)
    from lifecycle_rules.core.compare import Diff, WarningChange
    from lifecycle_rules.core.results import Result
    from lifecycle_rules.io.writers import Table
    from lifecycle_rules.pack.compile import Pack

SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
KIND_WORDS = {"added": "新增", "removed": "消失", "changed": "变化"}
FIELD_WORDS = {"level": "等级", "since": "预警日期", "due": "期限", "tier": "协调层级", "status": "办理状态",
               "responsible": "责任单位"}


def add_parser(sub: Any, name: str) -> None:
    from lifecycle_rules.io.cli import _calendar_option, _date, _param, reader_options

    p = sub.add_parser(name, help="compare the warnings of two packs (or versions, or parameters) on the same "
                       "histories", description="Warnings added, removed and changed when the histories are "
                       "evaluated under pack B instead of pack A, with counts by rule and by responsible unit.")
    p.add_argument("--pack", action="append", required=True, metavar="PACK",
                   help="give it twice: A, then B (a pack id, id@version, or a pack directory)")
    p.add_argument("--as-of", required=True, type=_date, help="the day, 2024-11-30 (Asia/Shanghai)")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE",
                   help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("--param-a", action="append", type=_param, default=[], metavar="NAME=VALUE",
                   help="set a parameter of pack A (repeatable)")
    p.add_argument("--param-b", action="append", type=_param, default=[], metavar="NAME=VALUE",
                   help="set a parameter of pack B (repeatable)")
    p.add_argument("-o", "--output", type=Path,
                   help="the full list of changes: .jsonl, .csv or .xlsx (default: listed on stdout)")
    p.add_argument("--include-closed", action="store_true", help="also compare closed warnings")
    p.add_argument("--allow-outside-effective", action="store_true",
                   help="use a pack even if --as-of is outside its effective dates")
    p.add_argument("--allow-rejects", action="store_true", help="exit 0 even if records were rejected")
    reader_options(p)
    _calendar_option(p)


def _check_usage(args: argparse.Namespace) -> str | None:
    if len(args.pack) != 2:
        raise LifecycleRulesError(f"--pack: give it twice, A then B (got {len(args.pack)})")
    fmt = None
    if args.output is not None:
        if str(args.output) == "-":
            raise LifecycleRulesError("-o -: the list goes to standard output without -o")
        fmt = SUFFIXES.get(args.output.suffix.lower())
        if fmt is None:
            raise LifecycleRulesError(f"-o {args.output}: cannot tell the format from its suffix "
                                      f"{args.output.suffix!r} (use .jsonl, .csv or .xlsx)")
    from lifecycle_rules.io.cli import check_reader_options

    check_reader_options(args)
    return fmt


def run(args: argparse.Namespace) -> int:
    from lifecycle_rules.core.compare import compare
    from lifecycle_rules.io.calendars import run_calendar
    from lifecycle_rules.io.outputs import check_files, locked
    from lifecycle_rules.pack.plugins import load_pack

    fmt = _check_usage(args)
    calendar = run_calendar(args.calendar)
    packs = [load_pack(ref, dict(params), calendar, as_of=args.as_of,
                       allow_outside_effective=args.allow_outside_effective)
             for ref, params in zip(args.pack, (args.param_a, args.param_b), strict=True)]
    check_files(args, [("-o", args.output)])
    with locked([("-o", args.output)]):
        results, rejects, dropped = _evaluate(args, packs[0], packs[1])
        diff = compare(*results)
        if args.output is not None and fmt is not None:
            write_diff(args.output, fmt, diff, packs[0], packs[1], args.as_of, results[0])
    for reject in rejects:
        print(json.dumps(reject.to_dict(), ensure_ascii=False), file=sys.stderr)
    for line in dropped:
        print(f"lifecycle-rules: {line}", file=sys.stderr)
    names = {r.project_id: r.project_name for r in results[0]}
    text = summary_lines(diff, packs[0], packs[1], args, len(rejects))
    if args.output is None:
        text += ["", "明细："] + [f"  {change_line(c, names)}" for c in diff.changes]
    sys.stdout.write("\n".join(text) + "\n")
    return 1 if rejects and not args.allow_rejects else 0


def _evaluate(args: argparse.Namespace, a: Pack, b: Pack) -> tuple[tuple[list[Result], list[Result]], list[Any],
                                                                   list[str]]:
    """Both sides' results on as_of, the rejects (of reading, and of pack A), and what pack
    B could not evaluate (said, and left out)."""
    from lifecycle_rules.core.engine import evaluate
    from lifecycle_rules.errors import HistoryError
    from lifecycle_rules.io.batch import history_reject
    from lifecycle_rules.office.portfolio import read_portfolio

    options = {"encoding": args.encoding, "mapping": args.mapping, "layout": args.layout,
               "events_path": args.events, "sheet": args.sheet}
    try:
        portfolio = read_portfolio(a, args.inputs, options=options)
    except (ValueError, OSError, UnicodeError) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            raise LifecycleRulesError(f"{exc.filename or args.inputs[0]}: {exc.strerror}") from None
        text = str(exc)
        named = [str(f) for f in (*args.inputs, args.events, args.mapping) if f is not None]
        if not (text.startswith("mapping ") or any(text.startswith(f"{f}:") for f in named)):
            text = f"{', '.join(str(f) for f in args.inputs)}: {text}"
        raise LifecycleRulesError(text) from None
    rejects = list(portfolio.rejects)
    left: list[Result] = []
    right: list[Result] = []
    dropped: list[str] = []
    for entry in portfolio.entries:
        try:
            # A decoded history (a model or a lean struct) is taken as it is.
            left.append(evaluate(a, entry.history, args.as_of,  # type: ignore[arg-type]
                                 include_closed=args.include_closed))
        except HistoryError as exc:
            rejects.append(history_reject(entry.file, entry.locator, exc))
            continue
        try:
            right.append(evaluate(b, entry.history, args.as_of,  # type: ignore[arg-type]
                                  include_closed=args.include_closed))
        except HistoryError as exc:
            dropped.append(f"{entry.file} {entry.locator}: pack B ({b.label}) does not take this history, "
                           f"left out of the comparison: {exc}")
    return (left, right), rejects, dropped


# -- words ---------------------------------------------------------------------------------------

def _params(params: Sequence[tuple[str, Any]]) -> str:
    return "（参数 " + "，".join(f"{k}={v}" for k, v in params) + "）" if params else ""


def word(name: str, value: Any) -> str:
    """A compared field's value in the office's words."""
    from lifecycle_rules.office.words import COLOR_WORDS, STATUS_WORDS, TIER_WORDS, UNIT_JOIN, day_words

    if value is None or value == ():
        return "无"
    if name == "level":
        return COLOR_WORDS.get(value, str(value))
    if name == "status":
        return STATUS_WORDS.get(value, str(value))
    if name == "tier":
        return TIER_WORDS.get(value, f"{value}级")
    if name == "responsible":
        return UNIT_JOIN.join(value)
    if isinstance(value, dt.date):
        return day_words(value)
    return str(value)


def detail(change: WarningChange) -> str:
    """What differs, in words: ``等级 橙灯 → 红灯；预警日期 …``; for an added or removed warning,
    its level, day, deadline, tier, status and units."""
    from lifecycle_rules.core.compare import FIELDS

    if change.kind == "changed":
        return "；".join(f"{FIELD_WORDS[f]} {word(f, change.old(f))} → {word(f, change.new(f))}"
                        for f in change.fields)
    side = change.new if change.kind == "added" else change.old
    return "，".join(f"{FIELD_WORDS[f]} {word(f, side(f))}" for f in FIELDS)


def change_line(change: WarningChange, names: dict[str, str]) -> str:
    from lifecycle_rules.core.wording import cn_subject, project_label

    project = project_label(names.get(change.project_id, ""), change.project_id)
    return (f"{KIND_WORDS[change.kind]}  {project}  {change.rule}  {cn_subject(change.subject)}："
            f"{detail(change)}")


def _counts(counter: Any) -> str:
    return "，".join(f"{KIND_WORDS[k]} {counter.get(k, 0)}" for k in KIND_WORDS)


def summary_lines(diff: Diff, a: Pack, b: Pack, args: argparse.Namespace, rejected: int) -> list[str]:
    """The summary in Chinese: the two policies, the counts, by rule and by unit."""
    titles = {r.id: r.title for pack in (b, a) for r in pack.rules}
    out = [f"政策对比：A = {a.label}{_params(args.param_a)}，B = {b.label}{_params(args.param_b)}；"
           f"评估日 {args.as_of.isoformat()}；比较项目 {diff.projects} 个。",
           f"新增预警 {diff.count('added')} 条（B 有、A 无），消失 {diff.count('removed')} 条（A 有、B 无），"
           f"变化 {diff.count('changed')} 条；相同 {diff.unchanged} 条。"]
    if rejected:
        out.append(f"未能读取或 A 不接受的记录 {rejected} 条（见标准错误输出），未参与比较。")
    if diff.only_a:
        out.append(f"B 不接受的项目 {len(diff.only_a)} 个，未参与比较：{'、'.join(diff.only_a)}。")
    if not diff.changes:
        out.append("两者在这些项目上的预警完全相同。")
        return out
    out += ["", "按规则："]
    out += [f"  {rule} {titles.get(rule, '')}：{_counts(c)}" for rule, c in diff.by_rule().items()]
    out += ["", "按责任单位（一条预警计入其前后所有责任单位）："]
    out += [f"  {unit}：{_counts(c)}" for unit, c in diff.by_unit().items()]
    if args.output is not None:
        out += ["", f"明细 {len(diff.changes)} 条已写入 {args.output}。"]
    return out


# -- the file ------------------------------------------------------------------------------------

def _tables() -> tuple[Table, Table, Table]:
    from lifecycle_rules.io.writers import Table

    pairs = [(f"{f}_{side}", f"{FIELD_WORDS[f]}（{side.upper()}）") for f in FIELD_WORDS for side in "ab"]
    headers = {"change": "变化", "project_id": "项目代码", "project_name": "项目名称", "rule": "规则编号",
               "title": "预警事项", "subject": "环节/期间", "key": "预警编号", "changed": "变化内容",
               **dict(pairs), "detail": "说明"}
    dates = frozenset(k for k, _ in pairs if k.startswith(("since", "due")))
    changes = Table(tuple(headers), headers, "预警变化", dates=dates, office=True,
                    widths={"key": 36, "title": 18, "responsible_a": 28, "responsible_b": 28, "detail": 60},
                    wrap=frozenset({"detail", "responsible_a", "responsible_b"}))
    count_headers = {"name": "", "added": "新增", "removed": "消失", "changed": "变化"}
    by_rule = Table(tuple(count_headers), {**count_headers, "name": "规则"}, "按规则", office=True,
                    widths={"name": 30})
    by_unit = Table(tuple(count_headers), {**count_headers, "name": "责任单位"}, "按责任单位", office=True,
                    widths={"name": 30})
    return changes, by_rule, by_unit


def machine_rows(diff: Diff, a: Pack, b: Pack, as_of: dt.date) -> Iterator[dict[str, Any]]:
    """The changes as JSON Lines rows: machine keys and values."""
    from lifecycle_rules.core.compare import FIELDS

    for c in diff.changes:
        row: dict[str, Any] = {"change": c.kind, "project_id": c.project_id, "key": c.key, "rule": c.rule,
                               "subject": c.subject, "changed": list(c.fields) if c.kind == "changed" else []}
        for side, w in (("a", c.a), ("b", c.b)):
            row[side] = None if w is None else {f: (list(v) if isinstance(v := getattr(w, f), tuple) else v)
                                                for f in FIELDS}
        row.update({"as_of": as_of, "pack_a": a.label, "pack_b": b.label})
        yield row


def office_rows(diff: Diff, a: Pack, b: Pack, names: dict[str, str]) -> Iterator[dict[str, Any]]:
    from lifecycle_rules.core.wording import cn_subject

    titles = {r.id: r.title for pack in (a, b) for r in pack.rules}
    for c in diff.changes:
        row: dict[str, Any] = {"change": KIND_WORDS[c.kind], "project_id": c.project_id,
                               "project_name": names.get(c.project_id, ""), "rule": c.rule,
                               "title": titles.get(c.rule, c.rule), "subject": cn_subject(c.subject), "key": c.key,
                               "changed": "、".join(FIELD_WORDS[f] for f in c.fields) if c.kind == "changed" else ""}
        for f in FIELD_WORDS:
            for side, value in (("a", c.old(f)), ("b", c.new(f))):
                row[f"{f}_{side}"] = value if isinstance(value, dt.date) else (
                    "" if (c.a if side == "a" else c.b) is None else word(f, value))
        row["detail"] = detail(c)
        yield row


def write_diff(path: Path, fmt: str, diff: Diff, a: Pack, b: Pack, as_of: dt.date,
               results_a: Sequence[Result]) -> None:
    """The full list to ``path``: all or nothing (a temporary file moved into place)."""
    from lifecycle_rules.io.writers import open_tables, sheet_of

    names = {r.project_id: r.project_name for r in results_a}
    changes, by_rule, by_unit = _tables()
    if fmt == "jsonl":
        with open_tables(path, "jsonl", [changes]) as writer:
            for row in machine_rows(diff, a, b, as_of):
                writer.write(row)
        return
    titles = {r.id: r.title for pack in (b, a) for r in pack.rules}
    with open_tables(path, "csv" if fmt == "csv" else "xlsx", [changes, by_rule, by_unit]) as writer:
        for row in office_rows(diff, a, b, names):
            writer.write(row)
        for title, counts in (("按规则", {f"{r} {titles.get(r, '')}".strip(): c for r, c in diff.by_rule().items()}),
                              ("按责任单位", diff.by_unit())):
            sheet = sheet_of(writer, title)
            if sheet is None:
                continue  # a CSV holds the list only
            for name, c in counts.items():
                sheet.write({"name": name, **{k: c.get(k, 0) for k in KIND_WORDS}})
