"""``evaluate`` with a database on either side (docs/databases.md): ``--db URL`` with the
projects and events tables (``--projects``/``--events``) or two queries
(``--sql-projects``/``--sql-events``) in, ``-o URL#TABLE`` out. The options are parsed
here without SQLAlchemy; a run imports it (the ``db`` extra) only when it needs it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from lifecycle_rules.errors import LifecycleRulesError


class DbTarget(str):
    """``-o URL#TABLE``: a database table, not a file (kept as text: a Path would fold the //)."""

    __slots__ = ()


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+._-]+://")


def is_url(text: str) -> bool:
    """Does ``text`` look like a database URL (``dialect+driver://...``), not a file path?"""
    return bool(_URL.match(text))


def output_target(text: str) -> Path | DbTarget:
    """``-o``: a file, or ``URL#TABLE``, a database table."""
    return DbTarget(text) if is_url(text) else Path(text)


def db_options(p: argparse.ArgumentParser) -> None:
    """Histories read from a database (docs/databases.md): --db URL with the projects and
    events tables (--projects, --events) or two queries (--sql-projects, --sql-events)."""
    p.add_argument("--db", metavar="URL", help="read the histories from this database (SQLAlchemy URL: "
                   "postgresql+psycopg://user@host/db, sqlite:///file.db ...) instead of files")
    p.add_argument("--projects", metavar="TABLE", help="with --db: the projects table (schema.table allowed); "
                   "--events TABLE names the events table")
    p.add_argument("--sql-projects", metavar="SQL", help="with --db: a query giving the projects rows")
    p.add_argument("--sql-events", metavar="SQL", help="with --db: a query giving the events rows")
    p.add_argument("--db-batch", type=_rows, metavar="ROWS",
                   help="with -o URL#TABLE: rows (warnings, rejects, notices) a transaction (default 2000)")


def _rows(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (1 or more)")
    return int(text)


def wants_db(args: argparse.Namespace) -> bool:
    """Does this ``evaluate`` run have a database on either side (or no input file)?"""
    return not args.inputs or isinstance(args.output, DbTarget) or any(
        getattr(args, o) is not None for o in ("db", "projects", "sql_projects", "sql_events", "db_batch"))


def _check_db_usage(args: argparse.Namespace) -> None:
    """The options of a run with a database on either side, before the pack is loaded."""
    from lifecycle_rules.io.cli import _check_usage, check_reader_options

    db_out = isinstance(args.output, DbTarget)
    if args.db is None:
        if not args.inputs:
            raise LifecycleRulesError("the following arguments are required: FILE (or --db URL)")
        for option in ("projects", "sql_projects", "sql_events"):
            if getattr(args, option) is not None:
                raise LifecycleRulesError(f"--{option.replace('_', '-')} goes with --db URL")
    else:
        if args.inputs:
            raise LifecycleRulesError(f"--db reads the histories from the database: no FILE ({args.inputs[0]})")
        if (args.projects is None) == (args.sql_projects is None):
            raise LifecycleRulesError("--db needs the projects: --projects TABLE or --sql-projects SQL (one)")
        if args.events is not None and args.sql_events is not None:
            raise LifecycleRulesError("--events TABLE and --sql-events SQL: give one")
        for option, value in (("--layout", args.layout != "auto"), ("--encoding", args.encoding),
                              ("--sheet", args.sheet)):
            if value:
                raise LifecycleRulesError(f"{option} is for files; --db reads tables")
        args.events_table, args.events = (str(args.events) if args.events is not None else None), None
    if args.db_batch is not None and not db_out:
        raise LifecycleRulesError("--db-batch goes with -o URL#TABLE")
    if db_out:
        for option in ("format", "columns", "rejects", "notices"):
            if getattr(args, option) is not None:
                raise LifecycleRulesError(f"--{option} is for files: -o URL#TABLE writes the warnings to TABLE, "
                                          "the rejects and notices to TABLE_rejects and TABLE_notices")
        args.columns = "contract"
        check_reader_options(args)
    else:
        _check_usage(args, ".jsonl, .csv or .xlsx, or --format")


def evaluate_db(args: argparse.Namespace) -> int:
    """``evaluate`` with a database on either side (or both): --db URL in, -o URL#TABLE out."""
    import contextlib

    from sqlalchemy.exc import SQLAlchemyError

    from lifecycle_rules import db
    from lifecycle_rules.io.batch import WorkerError, cores, default_jobs, run
    from lifecycle_rules.io.cli import _check_files, _records, headers_said, run_pack
    from lifecycle_rules.io.db_read import first_line
    from lifecycle_rules.io.db_write import BATCH_ROWS, DbOutputs, TableError
    from lifecycle_rules.io.outputs import file_outputs
    from lifecycle_rules.io.progress import Progress
    from lifecycle_rules.io.run_end import output_errors, report_run

    _check_db_usage(args)
    params, calendar, pack = run_pack(args)
    db_out = isinstance(args.output, DbTarget)
    try:
        source = db.connect(args.db) if args.db is not None else None
        target = db.split_target(args.output) if db_out else None
        sink = db.connect(target[0], option="-o") if target is not None else None
        _check_files(args, [])  # the input files, --mapping
    except ValueError as exc:
        raise LifecycleRulesError(str(exc)) from None
    shared = None
    lock: Any = contextlib.nullcontext()
    out: Any
    if target is not None and sink is not None:
        shared = source.connect() if source is not None and db.same_database(source, sink) else None
        out = DbOutputs(shared or sink.connect(), target[1], target[2], as_of=args.as_of, pack=pack.label,
                        digest=pack.digest, parameters=params, owns_connection=True,
                        batch_rows=args.db_batch or BATCH_ROWS)
        where = f"-o {db.shown(target[0])}#{target[1]}"
        if source is not None:
            where = f"--db {db.shown(args.db)} or {where}"
    else:
        out, lock = file_outputs(args)
        where = f"--db {db.shown(args.db)}"
    if source is not None:
        try:
            records: Any = db.read_histories(
                source, projects=args.projects, events=args.events_table, sql_projects=args.sql_projects,
                sql_events=args.sql_events, mapping=args.mapping, pack_columns=(pack.id, pack.spec.columns),
                connection=shared, notes=True, deferred=True)
        except (ValueError, SQLAlchemyError) as exc:
            if shared is not None:
                shared.close()
            raise LifecycleRulesError(f"--db {db.shown(args.db)}: {first_line(exc)}") from None
        records = headers_said(records, args)
        jobs = args.jobs or cores()  # not given (None) or 0: all cores
    else:
        records = _records(args, raw_json=True, pack=pack)
        jobs = default_jobs(args.inputs, args.events) if args.jobs is None else args.jobs or cores()
    try:
        with output_errors(out, raw=db_out), lock, out:
            summary = run(pack.source, params, records, args.as_of, out.write, out.reject, out.notice, jobs=jobs,
                          include_closed=args.include_closed, progress=Progress(None),
                          write_block=out.write_block, engine=args.engine, calendar=calendar, pack=pack,
                          office=args.columns == "office")
            out.read = summary.read
    except WorkerError as exc:
        raise LifecycleRulesError(f"{exc}; {_kept(db_out)}") from None
    except TableError as exc:
        raise LifecycleRulesError(f"{where}: {exc}") from None
    except SQLAlchemyError as exc:
        raise LifecycleRulesError(f"{where}: {first_line(exc)}; {_kept(db_out)}") from None
    written = [f"{out.written} warning(s) written to {out.name} in {out.transactions} transaction(s), "
               f"run {out.run_id}"] if db_out else []
    return report_run(args, summary, out, calendar, *written)


def _kept(db_out: bool) -> str:
    return ("the batches committed before stay, the run is marked failed in its _runs table; a re-run "
            "replaces them") if db_out else "nothing was written"
