"""Databases in and out: project histories read from SQL tables (or two queries), warnings
written back to a table, through SQLAlchemy 2 Core (``pip install lifecycle-rules[db]``
brings SQLAlchemy and psycopg 3; other databases bring their driver: PyMySQL or
mysqlclient, python-oracledb, dmSQLAlchemy for 达梦, Kingbase's dialect).

    from lifecycle_rules import db
    from lifecycle_rules.io.batch import run

    engine = db.connect("postgresql+psycopg://user@host/dbname")
    records = db.read_histories(engine, projects="projects", events="events")
    with db.open_output(engine, "warnings", as_of=day, pack=pack.label, digest=pack.digest) as out:
        run(pack.source, {}, records, day, out.write, out.reject, out.notice, pack=pack)

The command line does the same: ``lifecycle-rules evaluate --db URL --projects T --events T
-o URL#warnings`` (docs/databases.md). Reading streams in batches of bounded memory and
says which drivers really stream (``io/db_read.py``); writing is one transaction a batch,
upserted, and a re-run or a run killed midway leaves no duplicate (``io/db_write.py``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lifecycle_rules.io.db_cli import is_url
from lifecycle_rules.io.db_read import BATCH, db_records, first_line, split_name
from lifecycle_rules.io.db_write import BATCH_ROWS, DbOutputs
from lifecycle_rules.io.readers.columns import load_mapping
from lifecycle_rules.io.readers.tables import read_rows
from lifecycle_rules.io.records import Note, Record, Rows

__all__ = ["BATCH", "BATCH_ROWS", "DbOutputs", "connect", "is_url", "open_output", "read_histories",
           "same_database", "shown", "split_target"]


def shown(url: str | sa.URL) -> str:
    """A URL as messages show it: the password hidden."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def connect(url: str, *, option: str = "--db", check: bool = True) -> Engine:
    """An engine for ``url``, and (``check``) one connection made and closed, so that a bad
    URL, a dialect or driver that is not installed, or a server that does not answer is a
    ValueError of one line naming the option and the URL (password hidden), before any
    work is done."""
    name = f"{option} {shown(url)}"
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"{name}: not a database URL (dialect+driver://user@host:port/database, "
                         "sqlite:///file.db)") from None
    try:
        engine = sa.create_engine(parsed)
    except sa.exc.NoSuchModuleError:
        raise ValueError(f"{name}: no SQLAlchemy dialect {parsed.drivername!r} is installed (PostgreSQL, "
                         "MySQL, SQLite and Oracle come with SQLAlchemy; 达梦: dmSQLAlchemy; Kingbase: its "
                         "dialect)") from None
    except ImportError as exc:
        raise ValueError(f"{name}: the driver for {parsed.drivername} is not installed ({exc}); "
                         "pip install it (PostgreSQL: psycopg[binary])") from None
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"{name}: {first_line(exc)}") from None
    if check:
        try:
            with engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            raise ValueError(f"{name}: cannot connect: {first_line(exc)}") from None
    return engine


def split_target(text: str) -> tuple[str, str, str | None]:
    """``URL#TABLE`` (``#schema.table`` allowed) as (URL, table, schema); a ValueError
    if there is no table after ``#``."""
    url, hash_, table = text.rpartition("#")
    if not hash_ or not url or not table.strip():
        raise ValueError(f"-o {shown(text.partition('#')[0])}: name the table after the URL: -o URL#TABLE")
    schema, name = split_name(table.strip())
    return url, name, schema


def same_database(a: Engine, b: Engine) -> bool:
    """Are two engines one SQLite database file? (Then reading and writing share one
    connection: SQLite lets a connection commit only while no other one reads.)"""
    if a.dialect.name != "sqlite" or b.dialect.name != "sqlite":
        return False
    da, db_ = a.url.database or "", b.url.database or ""
    if da in ("", ":memory:") or db_ in ("", ":memory:"):
        return a is b
    try:
        return Path(da).resolve() == Path(db_).resolve()
    except OSError:
        return da == db_


def read_histories(
    db: str | Engine, *, projects: str | None = None, events: str | None = None,
    sql_projects: str | None = None, sql_events: str | None = None, mapping: str | Path | None = None,
    pack_columns: tuple[str, Mapping[str, Any]] | None = None, batch: int = BATCH,
    connection: Connection | None = None, notes: bool = False, deferred: bool = False,
) -> Iterator[Record | Note | Rows]:
    """Project histories from the projects table (or query) and the events table (or
    query) of the database ``db`` (a URL or an engine), one :class:`Record` a project (a
    history, or a reject naming the table as ``file``, ``row N`` and the column), then a
    reject for each event whose code is in no projects row; with ``notes``, the notices
    too (columns no field takes, rows that are not projects).

    Columns are mapped as a file's header is (``mapping``: a YAML file over columns.yaml;
    ``pack_columns``: a pack's id and ``columns:``). The tables, columns and queries are
    checked at the call: a missing one is a ValueError naming it. Then projects are
    streamed ``batch`` at a time with their events, one query a batch (``io/db_read.py``
    says what memory holds and which drivers really stream).

    With ``deferred``, a project whose code is new comes as :class:`Rows`, its cells not
    yet read (``io.batch.run`` reads them in the worker that evaluates it: reading cells is
    most of the cost); otherwise every project is a Record."""
    engine = connect(db) if isinstance(db, str) else db
    items = db_records(engine, projects=projects, events=events, sql_projects=sql_projects,
                       sql_events=sql_events, mapping=load_mapping(mapping, pack_columns), batch=batch,
                       connection=connection)
    first = next(items, None)  # the checks run before the first item
    return _chain(first, items, notes, deferred)


def _chain(first: Record | Note | Rows | None, rest: Iterator[Record | Note | Rows], notes: bool,
           deferred: bool) -> Iterator[Record | Note | Rows]:
    if first is None:
        return
    for item in itertools.chain((first,), rest):
        if isinstance(item, Rows) and not deferred:
            yield from (r for r in read_rows(item) if notes or isinstance(r, Record))
        elif notes or not isinstance(item, Note):
            yield item


def open_output(db: str | Engine | Connection, table: str, *, as_of: dt.date, pack: str, digest: str,
                parameters: Mapping[str, Any] | None = None, batch_rows: int = BATCH_ROWS,
                schema: str | None = None) -> DbOutputs:
    """The tables a run writes (``table``, ``table_rejects``, ``table_notices``,
    ``table_runs``; created if missing) in ``db`` (a URL, an engine, or a connection to
    share with the reader). Use it with ``with``: its batches are committed as they fill
    (``batch_rows`` rows a transaction), the last one with the sweep of the rows other runs
    of this (as_of, pack) left, when the block ends without error; on an error the batch
    in progress is rolled back. ``io/db_write.py`` says what each table holds."""
    if isinstance(db, Connection):
        return DbOutputs(db, table, schema, as_of=as_of, pack=pack, digest=digest, parameters=parameters,
                         batch_rows=batch_rows)
    engine = connect(db, option="-o") if isinstance(db, str) else db
    return DbOutputs(engine.connect(), table, schema, as_of=as_of, pack=pack, digest=digest,
                     parameters=parameters, batch_rows=batch_rows, owns_connection=True)
