"""``lifecycle-rules report``: the monthly bulletin (通报) of a portfolio, as .xlsx or .html.

    lifecycle-rules report --pack jiande --as-of 2024-11-30 FILE... -o 通报.xlsx [--since D0]

The input files are read as ``evaluate`` reads them (the same reader options), every
project evaluated on the days the figures need (``bulletin.needed_days``: the period's
eve, ``as_of``, the trend's month ends, and the day before each closing in the period),
the figures computed (``bulletin.compute``, pure) and rendered. ``evaluate``'s conventions
hold: the output, its rejects file (``OUT.rejects.jsonl``) and notices file
(``OUT.notices.jsonl``) are checked and locked before anything is read, written to
temporary files and moved into place together only when all are complete; exit 0 on
success, 1 if records were rejected (the bulletin is still written and says so) unless
``--allow-rejects``, 2 when the run failed and wrote nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle_rules.errors import LifecycleRulesError

if TYPE_CHECKING:  # heavy imports stay inside run (cli imports this module for its parser)
    from lifecycle_rules.office.bulletin import Bulletin
    from lifecycle_rules.office.portfolio import Portfolio

FORMATS = {".xlsx": "xlsx", ".html": "html", ".htm": "html"}


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1 or more)")
    return n


def add_parser(sub: Any, name: str) -> None:
    from lifecycle_rules.io import cli  # loaded: it is the one calling

    p = sub.add_parser(name, help="the monthly bulletin (通报) of a portfolio, as .xlsx or .html")
    p.add_argument("--pack", required=True, help="pack id (see 'packs') or a pack directory")
    p.add_argument("--as-of", required=True, type=cli._date, help="the bulletin's day, 2024-11-30")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE",
                   help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("-o", "--output", required=True, type=Path, help="the bulletin: .xlsx or .html")
    p.add_argument("--format", choices=["xlsx", "html"], help="output format (default: from the suffix)")
    p.add_argument("--since", type=cli._date,
                   help="the period's first day (default: the first day of --as-of's month)")
    p.add_argument("--response-days", type=_positive, metavar="N",
                   help="the response window of the unit scorecard (default: the pack's sign-off "
                   "cycle, else 30)")
    p.add_argument("--rejects", type=Path, help="where rejected records go (default: OUTPUT.rejects.jsonl)")
    p.add_argument("--notices", type=Path, help="where notices go (default: OUTPUT.notices.jsonl)")
    p.add_argument("--allow-rejects", action="store_true", help="exit 0 even if records were rejected")
    cli.reader_options(p)
    cli.pack_options(p)
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")


def _format(args: argparse.Namespace) -> str:
    if str(args.output) == "-":
        raise LifecycleRulesError("-o -: a bulletin is a file (-o 通报.xlsx or 通报.html)")
    fmt = args.format or FORMATS.get(args.output.suffix.lower())
    if fmt is None:
        raise LifecycleRulesError(f"-o {args.output}: cannot tell the bulletin's format from its suffix "
                                  f"{args.output.suffix!r} (use .xlsx or .html, or --format)")
    return str(fmt)


def _check_usage(args: argparse.Namespace) -> dt.date:
    from lifecycle_rules.core.vocabulary import FIRST_DAY
    from lifecycle_rules.office.bulletin import default_since, needed_days

    since: dt.date = args.since or default_since(args.as_of)
    if since > args.as_of:
        raise LifecycleRulesError(f"--since {since.isoformat()} is after --as-of {args.as_of.isoformat()}")
    if needed_days(since, args.as_of)[0] < FIRST_DAY:
        raise LifecycleRulesError(f"--as-of {args.as_of.isoformat()}: the bulletin looks back a year (and a "
                                  f"day before --since); days before {FIRST_DAY.isoformat()} are not evaluated")
    from lifecycle_rules.io.cli import check_reader_options

    check_reader_options(args)
    return since


def run(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.calendars import run_calendar
    from lifecycle_rules.io.outputs import RunOutputs, check_files, locked, side_paths
    from lifecycle_rules.io.run_end import output_errors
    from lifecycle_rules.pack.plugins import load_pack

    fmt = _format(args)
    since = _check_usage(args)
    calendar = run_calendar(args.calendar)
    pack = load_pack(args.pack, dict(args.param), calendar, args.as_of, args.allow_outside_effective)
    rejects_path, notices_path, stale = side_paths(args)
    outputs = [("-o", args.output), ("--rejects" if args.rejects else "rejects file", rejects_path),
               ("--notices" if args.notices else "notices file", notices_path)]
    check_files(args, outputs)
    # The rendered file goes through RunOutputs' main writer as one block of bytes (its JSON
    # Lines writer writes a block as given): committed with the side files, last.
    out = RunOutputs(args.output, "jsonl", rejects_path, notices_path, stale, outputs)
    with output_errors(out), locked([*outputs, *(("stale side file", p) for p in stale)]), out:
        made = _make(args, pack, since, fmt, rejects_path, notices_path)
        for reject in made.rejects:
            out.reject(reject)
        for notice in made.notices:
            out.notice(notice)
        out.write_block(made.data)
    if not args.quiet:
        _summary(args, made, rejects_path, calendar)
    return 1 if made.rejects and not args.allow_rejects else 0


class _Made:
    def __init__(self, data: bytes, bulletin: Any, rejects: list[Any], notices: list[dict[str, Any]]) -> None:
        self.data, self.bulletin, self.rejects, self.notices = data, bulletin, rejects, notices


def _read(args: argparse.Namespace, pack: Any) -> Any:
    from lifecycle_rules.office.portfolio import read_portfolio

    options = {"encoding": args.encoding, "mapping": args.mapping, "layout": args.layout,
               "events_path": args.events, "sheet": args.sheet}
    try:
        portfolio = read_portfolio(pack, args.inputs, options=options)
    except (ValueError, OSError, UnicodeError) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            raise LifecycleRulesError(f"{exc.filename or args.inputs[0]}: {exc.strerror}") from None
        text = str(exc)
        named = [str(f) for f in (*args.inputs, args.events, args.mapping) if f is not None]
        if not (text.startswith("mapping ") or any(text.startswith(f"{f}:") for f in named)):
            text = f"{', '.join(str(f) for f in args.inputs)}: {text}"
        raise LifecycleRulesError(text) from None
    if not args.quiet:
        for note in portfolio.notes:
            if note.kind == "header":
                print(f"lifecycle-rules: {note.file}: {note.text}", file=sys.stderr)
    return portfolio


def _screen(portfolio: Any, as_of: dt.date) -> None:
    """A history the reader took but the pack does not (a step it does not know ...) is a
    reject, as in ``evaluate``: found on as_of, the latest day evaluated (every event
    seen on an earlier day is seen on it)."""
    from lifecycle_rules.core.engine import evaluate
    from lifecycle_rules.errors import HistoryError
    from lifecycle_rules.io.batch import history_reject

    kept = []
    for entry in portfolio.entries:
        try:
            evaluate(portfolio.pack, entry.history, as_of)
        except HistoryError as exc:
            portfolio.rejects.append(history_reject(entry.file, entry.locator, exc))
            continue
        kept.append(entry)
    portfolio.entries[:] = kept


def _results(portfolio: Any, since: dt.date, as_of: dt.date) -> dict[dt.date, list[Any]]:
    from lifecycle_rules.core.engine import evaluate
    from lifecycle_rules.office.bulletin import closing_eves, needed_days

    results: dict[dt.date, list[Any]] = {d: portfolio.results(d) for d in needed_days(since, as_of)}
    for day, positions in closing_eves(results[as_of], since, as_of).items():
        if day not in results:  # only the projects that closed a warning the next day
            results[day] = [evaluate(portfolio.pack, portfolio.entries[i].history, day, include_closed=True)
                            for i in positions]
    return results


def _notices(portfolio: Any, results: dict[dt.date, list[Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """The readers' notes, then as_of's notices, then any other day's not said on as_of."""
    out = [{"file": n.file, "locator": n.locator, "project_id": None, "notice": n.text} for n in portfolio.notes]
    out += portfolio.notices(as_of)
    said = {(n["project_id"], n["notice"]) for n in out}
    for day in sorted(results, reverse=True):
        if day == as_of or len(results[day]) != len(portfolio.entries):
            continue
        for n in portfolio.notices(day):
            if (n["project_id"], n["notice"]) not in said:
                said.add((n["project_id"], n["notice"]))
                out.append({**n, "notice": f"on {day.isoformat()}: {n['notice']}"})
    return out


def _rates(portfolio: Any, as_of: dt.date) -> list[Any]:
    from lifecycle_rules.core.rates import portfolio_rates

    if not portfolio.pack.spec.rates:
        return []
    # Every history here was decoded and checked against the pack already.
    return portfolio_rates(portfolio.pack, [e.history for e in portfolio.entries], as_of)


def bulletin_of(portfolio: Portfolio, since: dt.date, as_of: dt.date, *,
                response_days: int | None = None) -> tuple[Bulletin, list[dict[str, Any]]]:
    """The bulletin of a portfolio (``read_portfolio``) and the notices of its run (readers'
    notes, then the results'). A history the pack does not take becomes a reject of the
    portfolio (``portfolio.rejects``) first."""
    from lifecycle_rules.office.bulletin import compute

    _screen(portfolio, as_of)
    results = _results(portfolio, since, as_of)
    notices = _notices(portfolio, results, as_of)
    bulletin = compute(portfolio.pack, since, as_of, results, rates=_rates(portfolio, as_of),
                       rejected=len(portfolio.rejects), noticed=len(notices), response_days=response_days)
    return bulletin, notices


def _make(args: argparse.Namespace, pack: Any, since: dt.date, fmt: str,
          rejects_path: Path | None, notices_path: Path | None) -> _Made:
    portfolio = _read(args, pack)
    bulletin, notices = bulletin_of(portfolio, since, args.as_of, response_days=args.response_days)
    rejects = list(portfolio.rejects)
    files = {"rejects_file": rejects_path.name if rejects and rejects_path else "",
             "notices_file": notices_path.name if notices and notices_path else ""}
    if fmt == "html":
        from lifecycle_rules.office.bulletin_html import render_html

        return _Made(render_html(bulletin, **files).encode("utf-8"), bulletin, rejects, notices)
    from lifecycle_rules.office.bulletin_xlsx import render_xlsx

    book = render_xlsx(bulletin, **files)
    for sheet, row, header, project in book.escaped:
        notices.append({"file": str(args.output), "locator": f"sheet {sheet} row {row}", "project_id": project or None,
                        "notice": f"output: {header}: characters a worksheet cannot hold (control characters) "
                        "written as \\uXXXX"})
    return _Made(book.data, bulletin, rejects, notices)


def _summary(args: argparse.Namespace, made: _Made, rejects_path: Path | None, calendar: Any) -> None:
    from lifecycle_rules.io.calendars import end_warning

    b = made.bulletin
    o = b.overall
    levels = ", ".join(f"{lv} {o.standing[lv]}" for lv in b.levels)
    lines = [f"report: {b.projects} project(s) evaluated, {len(made.rejects)} rejected, "
             f"{len(made.notices)} notice(s); standing on {b.as_of.isoformat()}: {levels}, "
             f"closure overdue {o.overdue}; period {b.since.isoformat()}..{b.as_of.isoformat()}: "
             f"new {o.new}, escalated {o.escalated}, closed {o.closed}",
             f"report: bulletin written to {args.output}"]
    if made.rejects:
        lines.append(f"{len(made.rejects)} rejected record(s) written to {rejects_path}")
    said = end_warning(calendar, args.as_of, "--as-of")
    if said:
        lines.append(f"warning: {said}")
    for line in lines:
        print(f"lifecycle-rules: {line}", file=sys.stderr)
