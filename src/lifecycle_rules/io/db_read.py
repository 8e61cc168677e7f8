"""Project histories read from database tables (or two SQL queries) through SQLAlchemy 2
Core, in batches of bounded memory (``lifecycle_rules.db`` is the public face).

The projects and events tables are the tables layout of a file (README, "Batch over
exported data"): their column names are mapped to fields as a header is (columns.yaml, a
pack's ``columns:``, ``--mapping``), every cell is read and checked as a sheet's is, and a
row with bad cells is one reject naming the table (as ``file``), the row and the column.
``readers.tables.named_table`` / ``deferred`` do that part (a project row and its events
are read into a history in the process that evaluates it: ``Rows``); this module does the SQL.

How it reads, and what memory holds:

- The projects are streamed (``execution_options(yield_per=BATCH)``): ``BATCH`` rows at a
  time, each batch's events fetched in one query, ``WHERE <code column> IN (the batch's
  codes)``. In memory: one batch of projects and its events, and the project codes seen
  (to reject a duplicate, about 130 bytes a project, as for files). The events table
  wants an index on its code column (one lookup per batch, not a scan).
- Whether ``yield_per`` really streams is the driver's doing (SQLAlchemy asks for a
  server-side cursor, ``stream_results``): psycopg 3 and psycopg2 (a named server-side
  cursor), pg8000 and asyncpg; sqlite3 (SQLite steps a row at a time, nothing is
  buffered); PyMySQL and mysqlclient (``SSCursor``, unbuffered; MySQL Connector/Python is
  not supported and buffers); python-oracledb and cx_Oracle (an Oracle cursor fetches
  ``arraysize`` rows a round trip whatever the option). 达梦 (dmSQLAlchemy) and Kingbase
  (its SQLAlchemy dialect): not known; if the driver buffers, the projects query's rows
  are held by the driver (the events are per batch either way).
- The projects are read in the order of the table's primary key when it has one (else of
  a column named 序号, ordinal or seq; else the order the database returns). Events on one
  day keep the order of the events table's primary key or such a column: an events table
  with neither is read in the order the database returns, which SQL does not promise, and
  a notice says so. An integer key or ordinal is the row's number (``row 17`` in a reject
  is the row whose key is 17) and not a field; without one a row's number is its place in
  the read.
- Project codes are matched by the database's own equality on the raw values: an event
  whose code differs from its project's only by spaces or full-width letters (which a
  file's reader would match) is an event with no project here.
- Events whose code is in no projects row (or empty) are read last, by one anti-join
  (``NOT EXISTS``), each a reject, as a file's orphan events are.
- Queries (``--sql-projects``/``--sql-events``) are wrapped as subqueries: the projects
  query streamed as it is, the events query filtered per batch and anti-joined.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lifecycle_rules.io.readers.codes import Seen
from lifecycle_rules.io.readers.columns import _Mapping
from lifecycle_rules.io.readers.sheets import _Sheet
from lifecycle_rules.io.readers.tables import deferred, named_notes, named_table, orphan_events, project_code
from lifecycle_rules.io.records import Note, Record, Rows

__all__ = ["BATCH", "Source", "db_records", "source"]

BATCH = 500  # projects a batch: one IN list (Oracle takes up to 1,000 items)
_ORDER_NAMES = ("序号", "ordinal", "seq")
# Drivers that run another query on a connection while a streamed result is open on it
# (MySQL's unbuffered cursors do not: the events are read on a second connection there).
_INTERLEAVES = ("postgresql", "sqlite", "oracle")


@dataclass(frozen=True)
class Source:
    """One table or query to read: the selectable, the names of its columns to map (in
    the order they are selected after the order column), and its order column."""

    label: str  # what rejects call it: the table's name, or --sql-projects / --sql-events
    selectable: sa.FromClause
    names: tuple[str, ...]
    order: str | None  # the column rows are ordered (and, if integer, numbered) by
    numbered: bool  # the order column is an integer: it numbers the rows

    def columns(self) -> list[sa.ColumnElement[Any]]:
        c = self.selectable.c
        return ([c[self.order]] if self.order is not None else []) + [c[n] for n in self.names]


def split_name(name: str) -> tuple[str | None, str]:
    """``schema.table`` as (schema, table); a name without a dot has no schema."""
    schema, dot, table = name.rpartition(".")
    return (schema or None, table) if dot else (None, name)


def source(conn: Connection, *, table: str | None = None, sql: str | None = None, label: str,
           keep_order: bool = False, option: str = "") -> Source:
    """The table ``table`` (``schema.table`` allowed) reflected, or the query ``sql`` as a
    subquery; a missing table is a ValueError naming it. ``keep_order``: the integer
    order column is mapped too (a projects table whose integer key is the project code)."""
    if table is not None:
        schema, name = split_name(table)
        try:
            reflected = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        except sa.exc.NoSuchTableError:
            raise ValueError(f"{option} {table}: no such table".lstrip()) from None
        pk = list(reflected.primary_key.columns)
        order_col: sa.ColumnElement[Any] | None
        by_name = {c.name: c for c in reflected.columns}
        order_col = pk[0] if len(pk) == 1 else next(
            (by_name[n] for n in by_name if n.casefold() in _ORDER_NAMES), None)
        numbered = order_col is not None and isinstance(order_col.type, sa.Integer)
        selectable: sa.FromClause = reflected
        names = [c.name for c in reflected.columns]
    else:
        assert sql is not None
        probe = sa.text(sql).columns().subquery("lr_probe")
        try:
            names = list(conn.execute(sa.select(sa.literal_column("*")).select_from(probe)
                                      .where(sa.false())).keys())
        except sa.exc.DBAPIError as exc:
            raise ValueError(f"{label}: the query fails: {first_line(exc)}") from None
        finally:
            conn.rollback()
        selectable = sa.text(sql).columns(*(sa.column(n) for n in names)).subquery(
            "lr_projects" if "projects" in label else "lr_events")
        order_name = next((n for n in names if n.casefold() in _ORDER_NAMES), None)
        order_col = selectable.c[order_name] if order_name is not None else None
        numbered = order_col is not None  # a query's 序号/ordinal/seq: integers, it is said
    order = order_col.name if order_col is not None else None
    mapped = [n for n in names if not (numbered and n == order and not keep_order)]
    return Source(label, selectable, tuple(mapped), order, numbered)


def first_line(exc: BaseException) -> str:
    """A database error in one line: the driver's own message's first line."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def db_records(
    engine: Engine, *, projects: str | None = None, events: str | None = None,
    sql_projects: str | None = None, sql_events: str | None = None, mapping: _Mapping,
    batch: int = BATCH, connection: Connection | None = None,
    stats: dict[str, int] | None = None,
) -> Iterator[Record | Note | Rows]:
    """Every project of the projects table or query (with its events), then every event
    with no project, as Records (a history, or a reject) and Notes, streaming. The tables
    and columns are checked before the first item is yielded: a missing table or required
    column, a query that fails, is a ValueError naming it. ``connection``: read through it
    (the writer's, when one SQLite database is both input and output). ``stats`` (if
    given) counts the queries: ``projects`` (1), ``event_batches``, ``orphans`` (0 or 1)."""
    if (projects is None) == (sql_projects is None):
        raise ValueError("give the projects table or the projects query, one of them")
    if events is not None and sql_events is not None:
        raise ValueError("give the events table or the events query, not both")
    counts = stats if stats is not None else {}
    counts.update(projects=0, event_batches=0, orphans=0)
    own = connection is None
    conn = engine.connect() if connection is None else connection
    second: Connection | None = None
    try:
        p_label = projects if projects is not None else "--sql-projects"
        p_src = source(conn, table=projects, sql=sql_projects, label=p_label, option="--projects")
        try:
            p_sheet = named_table(p_src.label, p_src.names, "projects", mapping)
        except ValueError:
            if not p_src.numbered or p_src.order is None:
                raise
            p_src = source(conn, table=projects, sql=sql_projects, label=p_label, keep_order=True)
            p_sheet = named_table(p_src.label, p_src.names, "projects", mapping)
        e_src: Source | None = None
        e_sheet: _Sheet | None = None
        if events is not None or sql_events is not None:
            e_src = source(conn, table=events, sql=sql_events, label=events or "--sql-events", option="--events")
            e_sheet = named_table(e_src.label, e_src.names, "events", mapping)
        conn.rollback()  # the reflection's transaction; reading begins its own
        # Checked: from here on, items.
        yield from named_notes(p_sheet)
        if e_sheet is not None and e_src is not None:
            yield from named_notes(e_sheet)
            if e_src.order is None:
                yield Note(e_src.label, "table", "header",
                           "事件表没有主键或序号列：同一天的事件按数据库返回的顺序读取")
            if conn.dialect.name not in _INTERLEAVES:
                second = engine.connect()
        yield from _read(conn, second or conn, p_src, p_sheet, e_src, e_sheet, batch, counts)
    finally:
        if second is not None:
            second.close()
        if own:
            conn.close()


def _code_column(sheet: _Sheet, section: str, name: str) -> int:
    return next(c.index for c in sheet.columns if (c.section, c.name) == (section, name))


def _read(conn: Connection, events_conn: Connection, p_src: Source, p_sheet: _Sheet,
          e_src: Source | None, e_sheet: _Sheet | None, batch: int,
          counts: dict[str, int]) -> Iterator[Record | Note | Rows]:
    query = sa.select(*p_src.columns())
    if p_src.order is not None:
        query = query.order_by(p_src.selectable.c[p_src.order])
    id_index = _code_column(p_sheet, "project", "id")
    counts["projects"] += 1
    result = conn.execute(query.execution_options(yield_per=batch))
    seen = Seen()  # the codes of the run: a second row with one is rejected
    read = itertools.count(1)  # rows without an integer order column: their place in the read
    numbers = itertools.count(1)  # the same for the events
    try:
        for part in result.partitions():
            rows = _numbered(p_src, part, read)
            if e_src is None or e_sheet is None:
                for number, cells in rows:
                    yield from deferred(p_sheet, number, cells, project_code(p_sheet, cells), None, (), seen)
                continue
            yield from _batch(events_conn, rows, id_index, p_sheet, e_src, e_sheet, seen, numbers, counts)
    finally:
        result.close()
    if e_src is not None and e_sheet is not None:
        yield from _orphans(events_conn, p_src, p_sheet, e_src, e_sheet, batch, numbers, counts)


def _numbered(src: Source, rows: Sequence[Any], numbers: Iterator[int]) -> list[tuple[int, Sequence[object]]]:
    """Rows as (number, cells): numbered by the integer order column, else by their place."""
    offset = 1 if src.order is not None else 0
    out: list[tuple[int, Sequence[object]]] = []
    for row in rows:
        i = next(numbers)
        number = int(row[0]) if src.numbered and row[0] is not None else i
        out.append((number, tuple(row[offset:])))
    return out


def _batch(conn: Connection, rows: list[tuple[int, Sequence[object]]], id_index: int, p_sheet: _Sheet,
           e_src: Source, e_sheet: _Sheet, seen: Seen, numbers: Iterator[int],
           counts: dict[str, int]) -> Iterator[Record | Note | Rows]:
    """One batch of projects with their events: one query for the events of the batch."""
    coded = [(number, cells, project_code(p_sheet, cells)) for number, cells in rows]
    # The raw codes to fetch events for: not those of a code an earlier batch took (its
    # events went to its first row there; fetched again, they would read as orphans).
    raw_codes = {cells[id_index] for _, cells, code in coded if id_index < len(cells)
                 and cells[id_index] is not None and (code is None or code not in seen)}
    e_id = e_sheet.columns[[c.name for c in e_sheet.columns].index("project_id")]
    code_col = e_src.selectable.c[e_src.names[e_id.index]]
    # The events by their raw code: the database matched them by it (equal raw codes are
    # equal codes; the project's code is worked out once, to see whether it was seen).
    by_code: dict[object, list[tuple[int, Sequence[object]]]] = {}
    if raw_codes:
        query = sa.select(*e_src.columns()).where(code_col.in_(sorted(raw_codes, key=str)))
        if e_src.order is not None:
            query = query.order_by(e_src.selectable.c[e_src.order])
        counts["event_batches"] += 1
        fetched = conn.execute(query).all()
        for number, cells in _numbered(e_src, fetched, numbers):
            by_code.setdefault(cells[e_id.index], []).append((number, cells))
    for number, cells, code in coded:
        raw = cells[id_index] if id_index < len(cells) else None
        given = [] if code is None or code in seen else by_code.pop(raw, [])
        yield from deferred(p_sheet, number, cells, code, e_sheet, given, seen)
    leftovers = sorted((r for rs in by_code.values() for r in rs), key=lambda r: r[0])
    if leftovers:  # events of codes this batch has only as rows that are not projects
        yield from orphan_events(p_sheet, e_sheet, leftovers)


def _orphans(conn: Connection, p_src: Source, p_sheet: _Sheet, e_src: Source, e_sheet: _Sheet,
             batch: int, numbers: Iterator[int], counts: dict[str, int]) -> Iterator[Record | Note | Rows]:
    """The events whose code is in no projects row (or empty): rejects, in table order."""
    p_code = p_src.selectable.c[p_src.names[_code_column(p_sheet, "project", "id")]]
    e_id = next(c for c in e_sheet.columns if c.name == "project_id")
    e_code = e_src.selectable.c[e_src.names[e_id.index]]
    query = sa.select(*e_src.columns()).where(~sa.exists().where(p_code == e_code))
    if e_src.order is not None:
        query = query.order_by(e_src.selectable.c[e_src.order])
    counts["orphans"] += 1
    result = conn.execute(query.execution_options(yield_per=batch))
    try:
        for part in result.partitions():
            # A blank projects row with the events given: each is rejected as having no project.
            yield from orphan_events(p_sheet, e_sheet, _numbered(e_src, part, numbers))
    finally:
        result.close()
