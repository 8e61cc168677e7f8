"""``lifecycle-rules``: evaluate exports, run a pack's fixtures, list packs, print the schema.

Exit status: 0 success (whatever warnings were found); 1 some input was rejected (unless
``--allow-rejects``) or a pack test failed; 2 the run failed and wrote nothing: bad usage,
a pack that cannot be loaded, an unreadable input file, an output that cannot be written
(no such directory, read-only, a directory, another run writing it, a full disk), a worker
process that died; 130 interrupted (SIGINT), 143 terminated (SIGTERM; 129 SIGHUP), also
with nothing written; 141 the reader of standard output went away. Every exit 2, 130, 143
is one line on stderr, ``lifecycle-rules: ...``, never a traceback; options and files are
checked, and output files locked, before any input is read.

``evaluate`` writes its output, rejects and notices files through ``io/outputs.py``:
checked against every input and each other, locked (``.NAME.lock``), written to temporary
files of their own and moved into place together only when all are complete (side files
first, the main output last; stale side files of the same output removed in that step).
A CSV or XLSX output is in the office's words (``office/table.py``; ``--columns contract``:
the SPEC §4 keys); JSON Lines are always the contract.
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import importlib
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from lifecycle_rules import __version__
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.io.db_cli import db_options, evaluate_db, output_target, wants_db


class _Parser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit 2 (argparse's usage block is --help's)."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument "):  # "argument --as-of: ..." names the option
            self.exit(2, f"lifecycle-rules: {message.removeprefix('argument ')}\n")
        self.exit(2, f"lifecycle-rules: {message} (see {self.prog} --help)\n")


def _param(text: str) -> tuple[str, Any]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value


def _date(text: str) -> dt.date:
    """A day as data writes it (2024-11-30, 2024/11/30, 2024.11.30, 2024年11月30日), read by
    the readers' parse_date; not a bare number (20241130, an Excel serial) nor a time."""
    from lifecycle_rules.io.readers.values import parse_date

    plain = unicodedata.normalize("NFKC", text).strip()
    try:
        if plain.isdigit() or ":" in plain:
            raise ValueError(plain)
        return parse_date(plain)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use 2024-11-30)") from None


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of worker processes (0: all cores)")
    return jobs


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="lifecycle-rules",
        description="Investment-project lifecycle warnings from city rule packs.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate project histories on a day")
    ev.add_argument("--pack", required=True, help="pack id (see 'packs'; the version in force on --as-of), "
                    "id@version (that version), or a pack directory")
    ev.add_argument("--as-of", required=True, type=_date,
                    help="the day, 2024-11-30 (or 2024/11/30, 2024年11月30日; Asia/Shanghai)")
    ev.add_argument("inputs", nargs="*", type=Path, metavar="FILE",
                    help="histories: .jsonl, .csv (UTF-8 or GBK) or .xlsx (or --db URL)")
    ev.add_argument("-o", "--output", type=output_target,
                    help="output file (.jsonl, .csv, .xlsx), or a database table URL#TABLE; default stdout JSONL")
    ev.add_argument("--format", choices=["jsonl", "csv", "xlsx"], help="output format (default: from the suffix)")
    ev.add_argument("--rejects", type=Path,
                    help="where rejected records go (default: OUTPUT.rejects.jsonl, OUTPUT.rejects.csv beside "
                    "the office's CSV, a sheet of the office's XLSX, or stderr)")
    ev.add_argument("--notices", type=Path,
                    help="where notices go (what was not evaluated and why; default: OUTPUT.notices.jsonl, "
                    "OUTPUT.notices.csv beside the office's CSV, a sheet of the office's XLSX, or stderr)")
    ev.add_argument("--allow-rejects", action="store_true", help="exit 0 even if records were rejected")
    ev.add_argument("--jobs", type=_jobs, default=None,
                    help="worker processes (0: all cores; default: all cores when the input files come to "
                    "8 MiB or more, else 1)")
    reader_options(ev)
    ev.add_argument("--include-closed", action="store_true", help="also list closed warnings")
    ev.add_argument("--engine", choices=["native", "durable"], default="native",
                    help="durable: the second, independent engine (durable-rules), for checking")
    ev.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE",
                    help="set a pack parameter (repeatable)")
    _calendar_option(ev)
    ev.add_argument("--quiet", action="store_true", help="no summary on stderr")
    _columns_option(ev)
    _effective_option(ev)
    db_options(ev)

    ra = sub.add_parser("rates", help="portfolio rates over many projects (江阴: 签约项目备案率 …)")
    ra.add_argument("--pack", required=True, help="pack id, id@version, or a pack directory")
    ra.add_argument("--as-of", required=True, type=_date)
    ra.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
    ra.add_argument("-o", "--output", type=Path, help="write the rates as .json, .jsonl, .csv or .xlsx")
    reader_options(ra)
    ra.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE")
    ra.add_argument("--allow-rejects", action="store_true")
    _columns_option(ra)
    _effective_option(ra)

    sub.add_parser("packs", help="list installed packs")

    ins = sub.add_parser("inspect", help="how an export will be read: sheet, header, every column's "
                         "fate, counts and rejects; evaluates nothing")
    ins.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
    ins.add_argument("--mapping", type=Path, help="YAML column mapping laid over the default")
    ins.add_argument("--pack", help="also check the histories against this pack (steps, event types)")
    ins.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 or GBK)")
    _sheet_option(ins)

    mp = sub.add_parser("mapping", help="print the default column mapping, a file to start --mapping from")
    mp.add_argument("-o", "--output", type=Path)

    ca = sub.add_parser("calendar", help="known years of the working-day schedule and where each comes from")
    _calendar_option(ca)
    ca.add_argument("--pack", help="also show the years this pack's own calendar: gives")
    ca.add_argument("--as-of", type=_date, help="warn if the schedule ends within 60 days of this day too")

    t = sub.add_parser("test", help="run a pack's fixtures and report coverage")
    t.add_argument("pack_dir", type=Path, nargs="+")
    t.add_argument("--format", choices=["text", "junit", "github", "json"], default="text",
                   help="text (default): the report; junit: JUnit XML; github: GitHub Actions annotations; "
                   "json: a summary per pack")
    t.add_argument("-o", "--output", type=Path, help="write the report to this file (default: stdout)")

    s = sub.add_parser("schema", help="print the JSON Schema of pack.yaml")
    s.add_argument("-o", "--output", type=Path)
    for name, module in _COMMANDS.items():
        importlib.import_module(module).add_parser(sub, name)
    return p


# Commands that live in their own modules (the office's paperwork): each module has
# ``add_parser(subparsers, name)`` and ``run(args) -> exit code``, and keeps its heavy
# imports inside ``run``.
_COMMANDS: dict[str, str] = {
    "report": "lifecycle_rules.office.report_cli",
    "letters": "lifecycle_rules.office.letters_cli",
    "explain": "lifecycle_rules.io.explain_cli",
    "diff": "lifecycle_rules.io.diff_cli",
}


def reader_options(p: argparse.ArgumentParser) -> None:
    """How input files are read, the same for every command that reads histories:
    --encoding, --mapping, --layout, --events, --sheet."""
    p.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 or GBK)")
    p.add_argument("--mapping", type=Path, help="YAML column mapping for CSV/XLSX")
    p.add_argument("--layout", choices=["auto", "jsonl", "wide", "tables"], default="auto")
    p.add_argument("--events", type=Path, help="events table, with a projects table as FILE")
    _sheet_option(p)


def check_reader_options(args: argparse.Namespace) -> None:
    """What ``reader_options`` took, checked before anything is read: --layout and --events
    go together, and --encoding names an encoding Python knows."""
    if args.layout == "tables" and args.events is None:
        raise LifecycleRulesError("--layout tables needs --events FILE (the events table)")
    if args.layout in ("jsonl", "wide") and args.events is not None:
        raise LifecycleRulesError(f"--events goes with --layout tables (or auto), not --layout {args.layout}")
    if args.encoding is not None:
        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise LifecycleRulesError(f"--encoding: unknown encoding {args.encoding!r}") from None


def pack_options(p: argparse.ArgumentParser) -> None:
    """Which policy a command runs: --param (repeatable), --calendar, --allow-outside-effective."""
    p.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE",
                   help="set a pack parameter (repeatable)")
    _calendar_option(p)
    _effective_option(p)


def _sheet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sheet", metavar="NAME|N",
                   help="the worksheet of an .xlsx to read: its name or number (default: the first "
                   "sheet whose header names the project code column)")


def _columns_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--columns", choices=["office", "contract"],
                   help="a .csv/.xlsx output in the office's words (office, the default: Chinese headers "
                   "and values, rejects and notices as sheets or CSV beside it) or in the machine's keys "
                   "(contract, as JSON Lines have them)")


def _effective_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-outside-effective", action="store_true",
                   help="evaluate the pack even if --as-of is outside its effective dates (pack.yaml effective:)")


def _calendar_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--calendar", action="append", type=Path, default=[], metavar="FILE",
                   help="a calendar file giving years of the working-day schedule (the State Council "
                   "notice, in the pack calendar: format); repeatable; before installed calendar "
                   "packages and chinesecalendar")


def _run_calendar(files: list[Path]) -> Any:
    from lifecycle_rules.io.calendars import run_calendar

    return run_calendar(files)


def main(argv: Sequence[str] | None = None) -> int:
    from lifecycle_rules.io.outputs import Terminated, signals_unwind

    args = build_parser().parse_args(argv)
    try:
        with signals_unwind():
            return _command(args)
    except LifecycleRulesError as exc:
        print(f"lifecycle-rules: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours; keep quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file that went away or a full disk, after the checks
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lifecycle-rules: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        what = f"terminated by {exc.name}" if isinstance(exc, Terminated) else "interrupted"
        done = "the output was complete before" if "output complete" in getattr(exc, "__notes__", ()) \
            else "no output was completed"
        print(f"lifecycle-rules: {what}; {done}", file=sys.stderr)
        return exc.code if isinstance(exc, Terminated) else 130


def _command(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "rates":
        return _rates(args)
    if args.command == "packs":
        return _packs()
    if args.command == "calendar":
        return _calendar(args)
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "mapping":
        return _mapping(args.output)
    if args.command == "test":
        return _test(args)
    if args.command == "schema":
        return _schema(args.output)
    if args.command in _COMMANDS:
        code: int = importlib.import_module(_COMMANDS[args.command]).run(args)
        return code
    return 2  # pragma: no cover - argparse requires a command


def _records(args: argparse.Namespace, *, raw_json: bool, pack: Any = None) -> Iterator[Any]:
    """Every record of the input files in order; a file that cannot be read at all (no
    such header, a broken mapping) is an error naming it. With ``raw_json``, UTF-8 JSON
    Lines come as blocks of lines, parsed in the workers."""
    from lifecycle_rules.io.readers import Seen, is_jsonl, jsonl_blocks, read_histories

    seen = Seen()  # project codes across every file of the run
    for path in args.inputs:
        try:
            if raw_json and args.encoding in (None, "utf-8", "utf8", "utf-8-sig") and \
                    is_jsonl(path, args.layout, args.events):
                yield from jsonl_blocks(path, seen=seen)
                continue
            yield from headers_said(read_histories(
                path, encoding=args.encoding, mapping=args.mapping, layout=args.layout, events_path=args.events,
                raw_json=raw_json, sheet=args.sheet, seen=seen, notes=True,
                pack_columns=(pack.id, pack.spec.columns) if pack else None), args)
        except (ValueError, OSError, UnicodeError) as exc:
            raise LifecycleRulesError(_naming_once(path, args, exc)) from None


def headers_said(items: Iterable[Any], args: argparse.Namespace) -> Iterator[Any]:
    """A reader's items, passed on; the header each table was read by said on stderr
    (unless --quiet)."""
    from lifecycle_rules.io.readers import Note

    for item in items:
        if isinstance(item, Note) and item.kind == "header" and not getattr(args, "quiet", False):
            print(f"lifecycle-rules: {item.file}: {item.text}", file=sys.stderr)
        yield item


def _naming_once(path: Path, args: argparse.Namespace, exc: Exception) -> str:
    """A reader's error naming the file it is about once: most already begin with it
    (the input, the events table, the mapping); an OSError names its own file."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename or path}: {exc.strerror}"
    text = str(exc)
    files = [str(f) for f in (path, args.events, args.mapping) if f is not None]
    if text.startswith("mapping ") or any(text.startswith(f"{f}:") for f in files):
        return text
    return f"{path}: {text}"


def _check_usage(args: argparse.Namespace, suffixes: str) -> None:
    """The options of evaluate and rates that need no file: before the pack is loaded."""
    from lifecycle_rules.io.writers import output_format

    fmt = getattr(args, "format", None)
    if args.output is None or str(args.output) == "-":  # standard output
        if fmt not in (None, "jsonl"):
            raise LifecycleRulesError(f"--format {fmt} needs -o FILE (standard output takes JSON Lines)")
    elif fmt is None and output_format(args.output) is None:
        raise LifecycleRulesError(f"-o {args.output}: cannot tell the output format from its suffix "
                                  f"{args.output.suffix!r} (use {suffixes})")
    tabular = args.output is not None and str(args.output) != "-" and output_format(args.output, fmt) != "jsonl"
    if getattr(args, "columns", None) == "office" and not tabular:
        raise LifecycleRulesError("--columns office needs a .csv or .xlsx output (JSON Lines are the machine "
                                  "contract)")
    args.columns = getattr(args, "columns", None) or ("office" if tabular else "contract")
    check_reader_options(args)


def _check_files(args: argparse.Namespace, outputs: Sequence[tuple[str, Path | None]]) -> None:
    from lifecycle_rules.io.outputs import check_files

    check_files(args, outputs)


def _evaluate(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.batch import WorkerError, cores, default_jobs, run
    from lifecycle_rules.io.outputs import file_outputs
    from lifecycle_rules.io.progress import Progress, count_lines
    from lifecycle_rules.io.run_end import output_errors, report_run

    if wants_db(args):
        return evaluate_db(args)

    _check_usage(args, ".jsonl, .csv or .xlsx, or --format")
    params, calendar, pack = run_pack(args)
    out, lock = file_outputs(args)
    jobs = default_jobs(args.inputs, args.events) if args.jobs is None else args.jobs or cores()
    try:
        with output_errors(out), lock, out:
            total = None
            if len(args.inputs) == 1 and args.events is None:
                total = count_lines(args.inputs[0])
            summary = run(pack.source, params, _records(args, raw_json=True, pack=pack), args.as_of, out.write,
                          out.reject, out.notice, jobs=jobs, include_closed=args.include_closed,
                          progress=Progress(total), write_block=out.write_block,
                          engine=args.engine, calendar=calendar, pack=pack, office=args.columns == "office")
    except WorkerError as exc:
        raise LifecycleRulesError(f"{exc}; nothing was written") from None
    return report_run(args, summary, out, calendar)


def run_pack(args: argparse.Namespace) -> tuple[dict[str, Any], Any, Any]:
    """An evaluate run's parameters, calendar and pack, loaded first, to fail before
    reading anything (the version in force on --as-of, its dates checked; run() evaluates
    with it in process, workers load its directory); another engine, if named, found."""
    from lifecycle_rules.pack.plugins import load_pack

    params = dict(args.param)
    calendar = _run_calendar(args.calendar)
    pack = load_pack(args.pack, params, calendar, args.as_of, args.allow_outside_effective)
    if args.engine != "native":
        from lifecycle_rules.engines import get_engine

        get_engine(args.engine)  # fail fast if its dependency is missing
    return params, calendar, pack


def _rates(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.outputs import locked
    from lifecycle_rules.pack.plugins import load_pack

    _check_usage(args, ".json, .jsonl, .csv or .xlsx")
    pack = load_pack(args.pack, dict(args.param), None, args.as_of, args.allow_outside_effective)
    if not pack.spec.rates:
        print(f"lifecycle-rules: pack {pack.id} declares no rates", file=sys.stderr)
        return 2
    _check_files(args, [("-o", args.output)])
    with locked([("-o", args.output)]):
        from lifecycle_rules.office.rate_table import run_rates

        return run_rates(args, pack, lambda: _records(args, raw_json=False, pack=pack))


def _packs() -> int:
    from lifecycle_rules.pack.plugins import discover
    from lifecycle_rules.pack.versions import dates_text

    bad = 0
    for entry in discover():
        if entry.pack is not None:
            spec, inactive = entry.pack.spec, entry.pack.inactive
            # One line a pack version, with its effective dates; last, the rules inactive
            # until a parameter with no default is set.
            needs = "; ".join(f"{rule} needs a limit: {', '.join(names)}" for rule, names in inactive.items())
            print(f"{spec.id}\t{spec.version}\t{spec.city}\t{len(spec.rules)} rules"
                  + (f" ({len(inactive)} inactive)" if inactive else "")
                  + f"\t{spec.policy.title}\t{dates_text(spec.effective)}\t{entry.origin}"
                  + (f"\t{needs}" if needs else ""))
        else:
            bad += 1
            print(f"{entry.id}\tFAILED TO LOAD\t{entry.error}\t{entry.origin}")
    return 1 if bad else 0


def _inspect(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.inspect import inspect
    from lifecycle_rules.io.readers import is_jsonl
    from lifecycle_rules.pack.plugins import load_pack

    pack = load_pack(args.pack) if args.pack else None
    for path in args.inputs:
        if not path.is_file():
            raise LifecycleRulesError(f"{path}: no such file")
        if is_jsonl(path):
            raise LifecycleRulesError(f"{path}: inspect reads CSV and Excel exports; JSON Lines need no "
                                      "column mapping (evaluate checks them)")
        try:
            lines = inspect(path, mapping=args.mapping, sheet=args.sheet, encoding=args.encoding, pack=pack)
        except (ValueError, OSError, UnicodeError) as exc:
            raise LifecycleRulesError(_naming_once(path, args, exc)) from None
        print("\n".join(lines))
    return 0


def _mapping(output: Path | None) -> int:
    from lifecycle_rules.io.inspect import default_mapping

    return _print_or_write(output, default_mapping())


def _calendar(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.calendars import command

    return command(_run_calendar(args.calendar), args.pack, args.as_of)


def _test(args: argparse.Namespace) -> int:
    from lifecycle_rules.io.test_formats import run_tests

    return run_tests(args.pack_dir, args.format, args.output)


def _schema(output: Path | None) -> int:
    from lifecycle_rules.pack.spec import PackSpec

    return _print_or_write(output, json.dumps(PackSpec.model_json_schema(), ensure_ascii=False, indent=2) + "\n")


def _print_or_write(output: Path | None, text: str) -> int:
    """A text to stdout, or to a file written whole (``write_text``)."""
    if output is None:
        sys.stdout.write(text)
    else:
        from lifecycle_rules.io.writers import write_text

        write_text(output, text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
