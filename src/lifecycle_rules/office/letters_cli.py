"""``lifecycle-rules letters``: one Word letter (.docx) per warning the pack's levels call
for in a period (预警提示函, 督办通知 ...), from a template the office can edit, and the index
函件清单.xlsx of what was written. See docs/letters.md.

Everything is checked before any input is read (the docxtpl extra, the options, the input
files, the output folder, the template); the letters are written to a temporary folder and
moved into ``-o DIR`` only when all are complete. Exit status as ``evaluate``'s: 0 done,
1 some input records were rejected (unless ``--allow-rejects``; they are in
``DIR/函件清单.rejects.jsonl``), 2 the run failed and wrote nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifecycle_rules.office.letters_docx import LetterTemplate
    from lifecycle_rules.office.letters_out import LetterFolder
    from lifecycle_rules.office.portfolio import Portfolio
    from lifecycle_rules.pack.compile import Pack

INDEX_SIDES = ("函件清单.rejects.jsonl", "函件清单.notices.jsonl")


def add_parser(sub: Any, name: str) -> None:
    from lifecycle_rules.io.cli import _date, pack_options, reader_options

    p = sub.add_parser(name, help="write a Word letter (.docx) per warning the levels call for "
                       "(预警提示函, 督办 ...) and 函件清单.xlsx; needs lifecycle-rules[reports]",
                       description="One .docx letter per warning whose level was reached (or whose "
                       "sign-off became overdue) in the period [--since, --as-of], from a Word template, "
                       "and DIR/函件清单.xlsx listing them. See docs/letters.md.")
    p.add_argument("--pack", required=True, help="pack id (see 'packs') or a pack directory")
    p.add_argument("--as-of", required=True, type=_date, help="the day, 2024-11-30 (the letters' date)")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE",
                   help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                   help="the folder the letters go to: created if missing; an existing one must be empty "
                   "(or --force)")
    p.add_argument("--since", type=_date, metavar="DAY",
                   help="first day of the period (default: the first day of the --as-of month): a warning "
                   "gets a letter when its level was reached, or its sign-off became overdue, in the period")
    p.add_argument("--include-in-progress", action="store_true",
                   help="also write letters for warnings answered 正在办理 (in progress)")
    p.add_argument("--template", type=Path, metavar="T.docx",
                   help="the office's Word template (default: the built-in 公文 letter; fields in docs/letters.md)")
    p.add_argument("--issuer", help="the issuing office signed under each letter (default: the unit the "
                   "level's action names, else the placeholder （发文单位）)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder that is not empty (files of the same name are replaced, "
                   "others left as they are)")
    p.add_argument("--allow-rejects", action="store_true", help="exit 0 even if records were rejected")
    reader_options(p)
    pack_options(p)
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")


def _say(line: str) -> None:
    print(f"lifecycle-rules: {line}", file=sys.stderr)


def _check_usage(args: argparse.Namespace) -> None:
    from lifecycle_rules.core.results import as_of_day
    from lifecycle_rules.errors import LifecycleRulesError
    from lifecycle_rules.office.letters import first_of_month

    for option, day in (("--as-of", args.as_of), ("--since", args.since)):
        if day is not None:
            try:
                as_of_day(day)
            except LifecycleRulesError as exc:
                raise LifecycleRulesError(f"{option} {day.isoformat()}: {exc}") from None
    since = args.since or first_of_month(args.as_of)
    if since > args.as_of:
        raise LifecycleRulesError(f"--since {since.isoformat()} is after --as-of {args.as_of.isoformat()}")
    from lifecycle_rules.io.cli import check_reader_options

    check_reader_options(args)
    if args.issuer is not None and not args.issuer.strip():
        raise LifecycleRulesError("--issuer: empty")
    args.since = since


def run(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.calendars import end_warning, run_calendar
    from lifecycle_rules.io.outputs import check_files, locked
    from lifecycle_rules.office.letters_docx import LetterTemplate, docxtpl
    from lifecycle_rules.office.letters_out import LetterFolder
    from lifecycle_rules.pack.plugins import load_pack

    docxtpl()  # the reports extra, before anything else
    _check_usage(args)
    check_files(args, [])  # inputs, --events, --mapping readable; layouts known
    inputs = [*args.inputs, args.events, args.mapping, *args.calendar, args.template]
    folder = LetterFolder(args.output, force=args.force, sides=INDEX_SIDES, inputs=inputs)
    folder.check()
    template = LetterTemplate.load(args.template)
    calendar = run_calendar(args.calendar)
    pack = load_pack(args.pack, dict(args.param), calendar, args.as_of, args.allow_outside_effective)
    with locked([("-o", folder.target)]), folder:
        lines, rejected = _write(args, pack, template, folder)
    if not args.quiet:
        for line in lines:
            _say(line)
        said = end_warning(calendar, args.as_of, "--as-of")
        if said:
            _say(f"warning: {said}")
    return 1 if rejected and not args.allow_rejects else 0


def _read(args: argparse.Namespace, pack: Pack) -> Portfolio:
    from lifecycle_rules.errors import LifecycleRulesError
    from lifecycle_rules.office.portfolio import read_portfolio

    options = {"encoding": args.encoding, "mapping": args.mapping, "layout": args.layout,
               "events_path": args.events, "sheet": args.sheet}
    try:
        return read_portfolio(pack, args.inputs, options=options)
    except OSError as exc:
        raise LifecycleRulesError(f"{exc.filename or 'input'}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeError) as exc:
        text = str(exc)
        files = [str(f) for f in (*args.inputs, args.events, args.mapping) if f is not None]
        if text.startswith("mapping ") or any(text.startswith(f"{f}:") for f in files):
            raise LifecycleRulesError(text) from None
        raise LifecycleRulesError(f"{', '.join(map(str, args.inputs))}: {text}") from None


def _write(args: argparse.Namespace, pack: Pack, template: LetterTemplate,
           folder: LetterFolder) -> tuple[list[str], int]:
    """Read, choose, fill in, commit: the summary lines and the number of rejected records."""
    from lifecycle_rules.io.writers import write_rejects
    from lifecycle_rules.office.letters import INDEX_NAME, letters, select
    from lifecycle_rules.office.letters_docx import write_index

    portfolio = _read(args, pack)
    if not args.quiet:
        for note in portfolio.notes:
            if note.kind == "header":
                _say(f"{note.file}: {note.text}")
    selection = select(portfolio, args.as_of, args.since, include_in_progress=args.include_in_progress)
    items = letters(pack, selection, issuer=args.issuer.strip() if args.issuer else None)
    for n, item in enumerate(items, 1):
        template.render(item.fields, folder.path(item.file_name),
                        what=f"letter {n} ({item.fields['project_id']}, {item.fields['letter_type']})")
    notices = portfolio.notices(args.as_of)
    if portfolio.rejects:
        write_rejects(folder.path(INDEX_SIDES[0]), portfolio.rejects)
    if notices:
        with open(folder.path(INDEX_SIDES[1]), "x", encoding="utf-8") as f:
            f.writelines(json.dumps(n, ensure_ascii=False) + "\n" for n in notices)
    write_index(folder.path(INDEX_NAME), [item.row for item in items])
    folder.commit()

    kinds = Counter(item.fields["letter_type"] for item in items)
    by_type = ", ".join(f"{k} {n}" for k, n in kinds.items())
    period = f"{selection.since.isoformat()} to {selection.as_of.isoformat()}"
    lines = [f"{len(items)} letter(s) for {selection.standing} warning(s) standing on "
             f"{selection.as_of.isoformat()}, period {period}" + (f": {by_type}" if by_type else "")]
    if selection.skipped:
        lines.append(f"no letter for {sum(selection.skipped.values())} warning(s): "
                     + "; ".join(selection.skipped_lines()))
    lines.append(f"written to {folder.given}: {len(items)} .docx and {INDEX_NAME}")
    if pack.inactive:
        lines.append(f"{len(pack.inactive)} rule(s) inactive, found nothing: they need a limit the pack does not "
                     f"give (--param; see `lifecycle-rules packs`): {', '.join(pack.inactive)}")
    if folder.removed:
        lines.append(f"--force: removed {', '.join(folder.removed)} of an earlier run")
    if folder.left:
        shown = ", ".join(folder.left[:10]) + (" ..." if len(folder.left) > 10 else "")
        lines.append(f"--force: {len(folder.left)} other file(s) in {folder.given} left as they were: {shown}")
    if notices:
        lines.append(f"{len(notices)} notice(s) (what was not evaluated and why) written to "
                     f"{Path(folder.given) / INDEX_SIDES[1]}")
    if portfolio.rejects:
        lines.append(f"{len(portfolio.rejects)} rejected record(s) written to "
                     f"{Path(folder.given) / INDEX_SIDES[0]}")
    return lines, len(portfolio.rejects)
