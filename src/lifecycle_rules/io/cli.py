"""``lifecycle-rules``: evaluate exports, run a pack's fixtures, list packs, print the schema.

Exit status: 0 success (whatever warnings were found); 1 some input was rejected (unless
``--allow-rejects``) or a pack test failed; 2 bad usage, a pack that cannot be loaded, or
an unreadable input file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lifecycle_rules import __version__
from lifecycle_rules.core.dates import parse_iso_date
from lifecycle_rules.errors import LifecycleRulesError


def _param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value


def _date(text: str) -> Any:
    try:
        return parse_iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lifecycle-rules",
        description="Investment-project lifecycle warnings from city rule packs.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate project histories on a day")
    ev.add_argument("--pack", required=True, help="pack id (see 'packs') or a pack directory")
    ev.add_argument("--as-of", required=True, type=_date, help="the day, YYYY-MM-DD (Asia/Shanghai)")
    ev.add_argument("inputs", nargs="+", type=Path, metavar="FILE",
                    help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx")
    ev.add_argument("-o", "--output", type=Path, help="output file (.jsonl, .csv, .xlsx); default stdout JSONL")
    ev.add_argument("--format", choices=["jsonl", "csv", "xlsx"], help="output format (default: from the suffix)")
    ev.add_argument("--rejects", type=Path,
                    help="where rejected records go (default: OUTPUT.rejects.jsonl, or stderr)")
    ev.add_argument("--notices", type=Path,
                    help="where notices go (what was not evaluated and why; default: "
                    "OUTPUT.notices.jsonl, or stderr)")
    ev.add_argument("--allow-rejects", action="store_true", help="exit 0 even if records were rejected")
    ev.add_argument("--jobs", type=int, default=1, help="worker processes (0: all cores)")
    ev.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 or GBK)")
    ev.add_argument("--mapping", type=Path, help="YAML column mapping for CSV/XLSX")
    ev.add_argument("--layout", choices=["auto", "jsonl", "wide", "tables"], default="auto")
    ev.add_argument("--events", type=Path, help="events table, with a projects table as FILE")
    ev.add_argument("--include-closed", action="store_true", help="also list closed warnings")
    ev.add_argument("--engine", choices=["native", "durable"], default="native",
                    help="durable: the second, independent engine (durable-rules), for checking")
    ev.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE",
                    help="set a pack parameter (repeatable)")
    _calendar_option(ev)
    ev.add_argument("--quiet", action="store_true", help="no summary on stderr")

    ra = sub.add_parser("rates", help="portfolio rates over many projects (江阴: 签约项目备案率 …)")
    ra.add_argument("--pack", required=True)
    ra.add_argument("--as-of", required=True, type=_date)
    ra.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
    ra.add_argument("-o", "--output", type=Path, help="write the rates as .json, .jsonl or .csv")
    ra.add_argument("--encoding")
    ra.add_argument("--mapping", type=Path)
    ra.add_argument("--layout", choices=["auto", "jsonl", "wide", "tables"], default="auto")
    ra.add_argument("--events", type=Path)
    ra.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE")
    ra.add_argument("--allow-rejects", action="store_true")

    sub.add_parser("packs", help="list installed packs")

    ca = sub.add_parser("calendar", help="known years of the working-day schedule and where each comes from")
    _calendar_option(ca)
    ca.add_argument("--pack", help="also show the years this pack's own calendar: gives")
    ca.add_argument("--as-of", type=_date, help="warn if the schedule ends within 60 days of this day too")

    t = sub.add_parser("test", help="run a pack's fixtures and report coverage")
    t.add_argument("pack_dir", type=Path, nargs="+")

    s = sub.add_parser("schema", help="print the JSON Schema of pack.yaml")
    s.add_argument("-o", "--output", type=Path)
    return p


def _calendar_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--calendar", action="append", type=Path, default=[], metavar="FILE",
                   help="a calendar file giving years of the working-day schedule (the State Council "
                   "notice, in the pack calendar: format); repeatable; before installed calendar "
                   "packages and chinesecalendar")


def _run_calendar(files: list[Path]) -> Any:
    """The run's calendar; calendar packages that failed to load are said on stderr."""
    from lifecycle_rules.io.calendars import installed_packages, load_calendar

    for p in installed_packages():
        if p.error is not None:
            print(f"lifecycle-rules: warning: calendar package {p.name} ({p.origin}) failed to load, its "
                  f"years are not used: {p.error}", file=sys.stderr)
    return load_calendar(*files)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "rates":
            return _rates(args)
        if args.command == "packs":
            return _packs()
        if args.command == "calendar":
            return _calendar(args)
        if args.command == "test":
            return _test(args.pack_dir)
        if args.command == "schema":
            return _schema(args.output)
    except LifecycleRulesError as exc:
        print(f"lifecycle-rules: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours; keep quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("lifecycle-rules: interrupted; no output was completed", file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse requires a command


def _records(args: argparse.Namespace, *, raw_json: bool) -> Iterator[Any]:
    """Every record of the input files in order; a file that cannot be read at all (no
    such header, a broken mapping) is an error naming it. With ``raw_json``, UTF-8 JSON
    Lines come as blocks of lines, parsed in the workers."""
    from lifecycle_rules.io.readers import is_jsonl, jsonl_blocks, read_histories

    for path in args.inputs:
        try:
            if raw_json and args.encoding in (None, "utf-8", "utf8", "utf-8-sig") and \
                    is_jsonl(path, args.layout, args.events):
                yield from jsonl_blocks(path)
                continue
            yield from read_histories(path, encoding=args.encoding, mapping=args.mapping,
                                      layout=args.layout, events_path=args.events,
                                      raw_json=raw_json)
        except (ValueError, OSError, UnicodeError) as exc:
            raise LifecycleRulesError(f"{path}: {exc}") from None


def _evaluate(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.batch import Progress, count_lines, run
    from lifecycle_rules.io.calendars import end_warning
    from lifecycle_rules.io.records import Reject
    from lifecycle_rules.io.writers import open_writer, write_rejects
    from lifecycle_rules.pack.plugins import load_pack

    params = dict(args.param)
    calendar = _run_calendar(args.calendar)
    # Loaded first, to fail before reading anything; run() evaluates with it in process.
    pack = load_pack(args.pack, params, calendar)
    if args.engine != "native":
        from lifecycle_rules.engines import get_engine

        get_engine(args.engine)  # fail fast if its dependency is missing
    for path in args.inputs:
        if not path.is_file():
            print(f"lifecycle-rules: {path}: no such file", file=sys.stderr)
            return 2
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    rejects: list[Reject] = []
    notices: list[dict[str, Any]] = []
    rejects_path, notices_path = args.rejects, args.notices
    if args.output is not None:
        rejects_path = rejects_path or args.output.with_name(args.output.name + ".rejects.jsonl")
        notices_path = notices_path or args.output.with_name(args.output.name + ".notices.jsonl")

    total = None
    if len(args.inputs) == 1 and args.events is None:
        total = count_lines(args.inputs[0])
    with open_writer(args.output, args.format) as writer:
        summary = run(args.pack, params, _records(args, raw_json=True), args.as_of, writer.write, rejects.append,
                      notices.append, jobs=jobs, include_closed=args.include_closed,
                      progress=Progress(total), write_block=getattr(writer, "write_block", None),
                      engine=args.engine, calendar=calendar, pack=pack)
    if rejects:
        if rejects_path is not None:
            write_rejects(rejects_path, rejects)
            where = str(rejects_path)
        else:
            for r in rejects:
                print(json.dumps(r.to_dict(), ensure_ascii=False), file=sys.stderr)
            where = "stderr"
    if notices:
        if notices_path is not None:
            with open_writer(notices_path, "jsonl") as nw:
                for n in notices:
                    nw.write(n)
        else:
            for n in notices:
                print(f"lifecycle-rules: notice: {n['project_id']} ({n['locator']}): {n['notice']}",
                      file=sys.stderr)
    if not args.quiet:
        for line in summary.lines():
            print(f"lifecycle-rules: {line}", file=sys.stderr)
        if rejects:
            print(f"lifecycle-rules: {len(rejects)} rejected record(s) written to {where}",
                  file=sys.stderr)
        said = end_warning(calendar, args.as_of, "--as-of")
        if said:
            print(f"lifecycle-rules: warning: {said}", file=sys.stderr)
    return 1 if rejects and not args.allow_rejects else 0


def _rates(args: argparse.Namespace) -> int:
    from lifecycle_rules.core.rates import portfolio_rates
    from lifecycle_rules.io.batch import history_reject
    from lifecycle_rules.io.records import Reject
    from lifecycle_rules.io.writers import open_writer
    from lifecycle_rules.pack.plugins import load_pack

    pack = load_pack(args.pack, dict(args.param))
    if not pack.spec.rates:
        print(f"lifecycle-rules: pack {pack.id} declares no rates", file=sys.stderr)
        return 2
    rejects: list[Reject] = []
    current = ["", ""]  # file and locator of the record being counted (errors come synchronously)

    def histories() -> Any:
        for rec in _records(args, raw_json=False):
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
        print(f"{v.name}\t{shown}\t{v.numerator:g}/{v.denominator:g}\t{v.clause}")
    if args.output is not None:
        if args.output.suffix.lower() == ".json":
            args.output.write_text(json.dumps([v.to_dict() for v in values], ensure_ascii=False,
                                              indent=2) + "\n", encoding="utf-8")
        else:
            with open_writer(args.output, None) as w:
                for v in values:
                    w.write(v.to_dict())
    for r in rejects:
        print(json.dumps(r.to_dict(), ensure_ascii=False), file=sys.stderr)
    if rejects:
        print(f"lifecycle-rules: {len(rejects)} rejected record(s) left out of every rate",
              file=sys.stderr)
    return 1 if rejects and not args.allow_rejects else 0


def _packs() -> int:
    from lifecycle_rules.pack.plugins import discover

    bad = 0
    for entry in discover():
        if entry.pack is not None:
            spec = entry.pack.spec
            print(f"{entry.id}\t{spec.version}\t{spec.city}\t{len(spec.rules)} rules\t"
                  f"{spec.policy.title}\t{entry.origin}")
        else:
            bad += 1
            print(f"{entry.id}\tFAILED TO LOAD\t{entry.error}\t{entry.origin}")
    return 1 if bad else 0


def _calendar(args: argparse.Namespace) -> int:
    import datetime as dt

    from lifecycle_rules.io.calendars import end_warning, installed_packages
    from lifecycle_rules.pack.compile import pack_years
    from lifecycle_rules.pack.plugins import load_pack

    calendar = _run_calendar(args.calendar)
    if args.pack:
        pack = load_pack(args.pack)
        calendar = calendar.over(pack_years(pack.spec, pack.source))
    rows: list[list[Any]] = []  # [first, last, origin, source]
    for year, sched in calendar.years.items():
        if rows and rows[-1][1] == year - 1 and rows[-1][2:] == [sched.origin, sched.source]:
            rows[-1][1] = year
        else:
            rows.append([year, year, sched.origin, sched.source])
    print("years\tfrom\tsource")
    for first, last, origin, source in rows:
        span = str(first) if first == last else f"{first}-{last}"
        print(f"{span}\t{origin}\t{source}")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # Asia/Shanghai
    warned = False
    for day, what in ((today, "today"), (args.as_of, "--as-of")):
        said = end_warning(calendar, day, what) if day is not None else None
        if said:
            print(f"lifecycle-rules: warning: {said}", file=sys.stderr)
            warned = True
    if not warned:
        end = calendar.last_known_day(today)
        print(f"lifecycle-rules: the schedule is known up to {end}", file=sys.stderr)
    return 1 if any(p.error for p in installed_packages()) else 0


def _test(pack_dirs: list[Path]) -> int:
    from lifecycle_rules.testing import format_report, test_pack

    ok = True
    for d in pack_dirs:
        report = test_pack(d)
        for line in format_report(report):
            print(line)
        ok = ok and report.ok
    return 0 if ok else 1


def _schema(output: Path | None) -> int:
    from lifecycle_rules.pack.spec import PackSpec

    text = json.dumps(PackSpec.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
