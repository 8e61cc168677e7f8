"""``lifecycle-rules explain``: why each warning of one project fired, or did not, on a day
(``lifecycle_rules.core.explain``; docs/explain.md).

The input files are read as ``evaluate`` reads them (JSON Lines, CSV, XLSX; the same reader
options) until the project is found. Exit status: 0 explained; 1 the project's record was
rejected (its reject message on stderr, as ``evaluate`` would give it); 2 the run failed
(a bad option, pack or file, a project id no file has, an unknown rule).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lifecycle_rules.errors import HistoryError, LifecycleRulesError


def add_parser(sub: Any, name: str) -> None:
    from lifecycle_rules.io.cli import _date, pack_options, reader_options

    p = sub.add_parser(name, help="why each warning of one project fired, or did not, on a day",
                       description="The trace of each rule on one project and day: whether it applies, the "
                       "anchor taken, each level's threshold with its arithmetic, elapsed time (working days "
                       "listed), answers and the sign-off cycle, the tier and route, the units and the entry "
                       "that chose each; a rule without a warning says why. See docs/explain.md.")
    p.add_argument("--pack", required=True, help="pack id (see 'packs') or a pack directory")
    p.add_argument("--as-of", required=True, type=_date, help="the day, 2024-11-30 (Asia/Shanghai)")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE",
                   help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("--project", required=True, metavar="ID", help="the project's code (project.id)")
    p.add_argument("--rule", metavar="RULE", help="only this rule (its id, e.g. jd.land-to-start)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text (default): in the office's words; json: the trace's keys (docs/explain.md)")
    reader_options(p)
    pack_options(p)


def run(args: argparse.Namespace) -> int:
    from lifecycle_rules.core.explain import explain
    from lifecycle_rules.core.explain_text import join, text_lines
    from lifecycle_rules.io.batch import history_reject
    from lifecycle_rules.io.calendars import run_calendar
    from lifecycle_rules.io.outputs import check_files
    from lifecycle_rules.pack.plugins import load_pack

    _check_usage(args)
    check_files(args, [])  # inputs, --events, --mapping readable; layouts known
    calendar = run_calendar(args.calendar)
    pack = load_pack(args.pack, dict(args.param), calendar, args.as_of, args.allow_outside_effective)
    if args.rule is not None and args.rule not in pack.rule_order:
        raise LifecycleRulesError(f"--rule {args.rule}: pack {pack.id} has no such rule; its rules are "
                                  f"{', '.join(pack.rule_order)}")
    record = _find(args, pack)
    if record.reject is not None:
        return _rejected(record.reject)
    try:
        trace = explain(pack, record.history, args.as_of, args.rule)  # a dict: raw_json is off
    except HistoryError as exc:
        return _rejected(history_reject(record.file, record.locator, exc, record.columns))
    if args.format == "json":
        sys.stdout.write(json.dumps(trace.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(join(text_lines(trace)))
    return 0


def _check_usage(args: argparse.Namespace) -> None:
    if not args.project.strip():
        raise LifecycleRulesError("--project: empty")
    from lifecycle_rules.io.cli import check_reader_options

    check_reader_options(args)


def _find(args: argparse.Namespace, pack: Any) -> Any:
    """The first record of the project, read as evaluate reads it (a code seen twice is
    rejected the second time, so the first one counts); LifecycleRulesError if none has it."""
    from lifecycle_rules.io.cli import _naming_once
    from lifecycle_rules.io.readers import Record, Seen, read_histories
    from lifecycle_rules.io.readers.codes import normal_id

    wanted = normal_id(args.project)
    seen = Seen()
    read = nameless = 0
    for path in args.inputs:
        try:
            for item in read_histories(path, encoding=args.encoding, mapping=args.mapping, layout=args.layout,
                                       events_path=args.events, sheet=args.sheet, seen=seen,
                                       pack_columns=(pack.id, pack.spec.columns)):
                if not isinstance(item, Record):
                    continue
                read += 1
                if item.reject is not None:
                    code = item.reject.project_id
                else:
                    project = item.history.get("project") if isinstance(item.history, dict) else None
                    code = project.get("id") if isinstance(project, dict) else None
                if code is None:
                    nameless += 1
                elif normal_id(str(code)) == wanted:
                    return item
        except (ValueError, OSError, UnicodeError) as exc:
            raise LifecycleRulesError(_naming_once(path, args, exc)) from None
    files = ", ".join(str(p) for p in args.inputs)
    more = f"; {nameless} rejected record(s) had no project code to compare" if nameless else ""
    raise LifecycleRulesError(f"--project {args.project}: no such project in {files} "
                              f"({read} record(s) read{more})")


def _rejected(reject: Any) -> int:
    where = f"{reject.file} {reject.locator}" + (f", {reject.field}" if reject.field else "")
    print(f"lifecycle-rules: {where}: project {reject.project_id or '?'} was rejected: {reject.message}",
          file=sys.stderr)
    return 1
