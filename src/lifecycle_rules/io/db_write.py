"""Warnings, rejects and notices written to database tables: one transaction per batch of
rows, idempotent, through SQLAlchemy 2 Core (``lifecycle_rules.db`` is the public face).

The tables (created when missing; ``NAME`` is the table named in ``-o URL#NAME``):

- ``NAME``: one row per warning, the SPEC §4 columns in order (``project_id`` …
  ``message``, ``level_name`` … ``pushes``, ``as_of``, ``pack``, ``pack_digest``) and
  ``run_id``. Its key is (``as_of``, ``pack``, ``key``): the issue asked for (key, as_of);
  ``pack`` (id@version) is in it too, so the runs of two packs, or of two versions of one
  pack (a policy diff), on one day stand side by side instead of overwriting each other's
  rows. ``responsible`` is text, the units joined with 、 (as the office's CSV and XLSX
  have it: readable and searchable in any database; no unit name of a built-in pack holds
  a 、). Dates are DATE columns.
- ``NAME_rejects`` and ``NAME_notices``: the run's rejects (file: the table or query,
  locator ``row N``, project_id, field: the column, message) and notices, keyed by
  (``as_of``, ``pack``, ``seq``), ``seq`` being the row's place in the run's stream of
  rejects or notices (input order, whatever ``--jobs``).
- ``NAME_runs``: one row per run (``run_id``, ``as_of``, ``pack``, ``pack_digest``,
  ``parameters``, ``started_at``, ``finished_at``, ``status``: running, complete or failed,
  and the counts). A run killed outright stays ``running``.

Idempotence: every row is upserted on its key (PostgreSQL and SQLite ``INSERT … ON
CONFLICT DO UPDATE``, MySQL/MariaDB ``ON DUPLICATE KEY UPDATE``; any other dialect, or a
table made by someone else without that key as primary key or unique, deletes the batch's
keys and inserts them in the same transaction) and stamped with the run's ``run_id``. The
last transaction also deletes the rows of the same (``as_of``, ``pack``) that another run
wrote (stale: a warning that no longer stands, a reject since fixed) and marks the run
complete. So a re-run leaves exactly the new run's rows, a run killed midway leaves whole
batches (each committed or not at all) and no duplicate, and the re-run after it replaces
them. A run that ended with exit 0 has committed everything. Two runs of one (as_of,
pack) into one table at the same time are not guarded against: run one at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lifecycle_rules.core.vocabulary import ROW_KEYS
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.io.records import Reject

__all__ = ["BATCH_ROWS", "DbOutputs", "TableError", "result_tables"]

BATCH_ROWS = 2000  # rows (warnings, rejects and notices) a transaction
_DATES = ("since", "due", "closed_on", "as_of")
_INTS = ("tier", "pushes")
_LIST_JOIN = "、"
_KEY = ("as_of", "pack", "key")
_SEQ_KEY = ("as_of", "pack", "seq")
_REJECT_KEYS = ("file", "locator", "project_id", "field", "message")
_NOTICE_KEYS = ("file", "locator", "project_id", "notice")


class TableError(LifecycleRulesError, ValueError):
    """An output table that exists but cannot take the rows (a column missing)."""


def _column(name: str) -> sa.Column[Any]:
    if name in _DATES:
        return sa.Column(name, sa.Date, nullable=name != "as_of" and name != "since")
    if name in _INTS:
        return sa.Column(name, sa.Integer)
    if name == "key":
        return sa.Column(name, sa.String(500), nullable=False)
    if name == "pack":
        return sa.Column(name, sa.String(100), nullable=False)
    if name in ("project_id", "rule", "level", "status", "pack_digest"):
        return sa.Column(name, sa.String(200))
    return sa.Column(name, sa.Text)


def result_tables(name: str, schema: str | None = None,
                  metadata: sa.MetaData | None = None) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    """The four tables of an output named ``name``: warnings, rejects, notices, runs."""
    md = metadata or sa.MetaData()
    warnings = sa.Table(name, md, *(_column(k) for k in ROW_KEYS), sa.Column("run_id", sa.String(36)),
                        sa.PrimaryKeyConstraint(*_KEY, name=f"{name}_pkey"), schema=schema)

    def seq() -> list[sa.Column[Any]]:
        return [sa.Column("as_of", sa.Date, nullable=False), sa.Column("pack", sa.String(100), nullable=False),
                sa.Column("seq", sa.Integer, nullable=False, autoincrement=False)]

    rejects = sa.Table(f"{name}_rejects", md, *seq(),
                       *(sa.Column(k, sa.Text) for k in _REJECT_KEYS), sa.Column("run_id", sa.String(36)),
                       sa.PrimaryKeyConstraint(*_SEQ_KEY, name=f"{name}_rejects_pkey"), schema=schema)
    notices = sa.Table(f"{name}_notices", md, *seq(),
                       *(sa.Column(k, sa.Text) for k in _NOTICE_KEYS), sa.Column("run_id", sa.String(36)),
                       sa.PrimaryKeyConstraint(*_SEQ_KEY, name=f"{name}_notices_pkey"), schema=schema)
    runs = sa.Table(f"{name}_runs", md,
                    sa.Column("run_id", sa.String(36), primary_key=True),
                    sa.Column("as_of", sa.Date, nullable=False), sa.Column("pack", sa.String(100), nullable=False),
                    sa.Column("pack_digest", sa.String(200)), sa.Column("parameters", sa.Text),
                    sa.Column("started_at", sa.DateTime), sa.Column("finished_at", sa.DateTime),
                    sa.Column("status", sa.String(20)), sa.Column("read", sa.Integer),
                    sa.Column("warnings", sa.Integer), sa.Column("rejects", sa.Integer),
                    sa.Column("notices", sa.Integer), schema=schema)
    return warnings, rejects, notices, runs


def _day(value: object) -> object:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _warning_row(row: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    out = {k: row.get(k) for k in ROW_KEYS}
    for k in _DATES:
        out[k] = _day(out[k])
    responsible = out["responsible"]
    if isinstance(responsible, (list, tuple)):
        out["responsible"] = _LIST_JOIN.join(str(r) for r in responsible)
    out["run_id"] = run_id
    return out


class DbOutputs:
    """The tables one run writes, through ``connection`` (its own, or the reader's when
    input and output are one SQLite database: SQLite lets one writer commit only while no
    other connection reads). ``with``: :meth:`commit` when the block ends without error,
    :meth:`abort` otherwise. The same face as ``io/outputs.RunOutputs`` (``write``,
    ``reject``, ``notice``, ``rejected``, ``noticed``, ``committed``, ``where``), so the
    batch runner writes to either."""

    write_block = None  # rows come as dicts (no JSON Lines fast path)

    def __init__(self, connection: Connection, name: str, schema: str | None, *, as_of: dt.date,
                 pack: str, digest: str, parameters: Mapping[str, Any] | None = None,
                 batch_rows: int = BATCH_ROWS, upsert: bool | None = None,
                 owns_connection: bool = False) -> None:
        self.connection = connection
        self._owns = owns_connection
        self.name = name if schema is None else f"{schema}.{name}"
        self.tables = result_tables(name, schema)
        self.as_of, self.pack, self.digest = as_of, pack, digest
        self.parameters = dict(parameters or {})
        self.batch_rows = max(1, batch_rows)
        self.run_id = str(uuid.uuid4())
        self._upsert = upsert  # None: the dialect's own upsert where the table's key allows
        self._native: dict[str, bool] = {}
        self._warnings: dict[str, dict[str, Any]] = {}
        self._rejects: list[dict[str, Any]] = []
        self._notices: list[dict[str, Any]] = []
        self.written = 0
        self.rejected = 0
        self.noticed = 0
        self.read = 0
        self.committed = False
        self.transactions = 0  # committed batches, for tests and the summary
        self.held_rejects: list[Reject] = []  # always empty: rejects go to a table
        self.held_notices: list[dict[str, Any]] = []

    # -- the run's start and end

    def __enter__(self) -> Self:
        self.prepare()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.abort()
        finally:
            if self._owns:
                self.connection.close()

    def prepare(self) -> None:
        """Create the tables that are missing, check those that exist have the columns
        (and see whether their key allows the dialect's upsert), and record the run."""
        conn = self.connection
        inspector = sa.inspect(conn)
        for table in self.tables:
            if not inspector.has_table(table.name, schema=table.schema):
                table.create(conn)
                self._native[table.name] = True
                continue
            have = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
            missing = [c.name for c in table.columns if c.name not in have]
            where = f"{table.schema}.{table.name}" if table.schema else table.name
            if missing:
                raise TableError(f"table {where} exists without column(s) {', '.join(missing)} "
                                 "(drop it, or name another table: -o URL#TABLE)")
            keys = [table.primary_key.columns.keys()]
            keys.append(inspector.get_pk_constraint(table.name, schema=table.schema).get("constrained_columns") or [])
            uniques = [u["column_names"] for u in inspector.get_unique_constraints(table.name, schema=table.schema)]
            self._native[table.name] = set(keys[0]) in [set(k) for k in [keys[1], *uniques]]
        runs = self.tables[3]
        conn.execute(runs.insert().values(
            run_id=self.run_id, as_of=self.as_of, pack=self.pack, pack_digest=self.digest,
            parameters=json.dumps(self.parameters, ensure_ascii=False, sort_keys=True, default=str),
            started_at=_now(), status="running"))
        conn.commit()

    def commit(self) -> None:
        """The last batch, the sweep of other runs' rows of this (as_of, pack) and the run
        marked complete, in one transaction."""
        if self.committed:
            return
        try:
            self._flush(final=True)
        except BaseException:
            self.abort()
            raise
        self.committed = True

    def abort(self) -> None:
        """Roll back the batch in progress; mark the run failed if the database still
        answers (the batches committed before stay: a re-run replaces them)."""
        try:
            self.connection.rollback()
            runs = self.tables[3]
            self.connection.execute(runs.update().where(runs.c.run_id == self.run_id).values(
                status="failed", finished_at=_now()))
            self.connection.commit()
        except Exception:  # the error that brought us here is the one to report
            pass

    # -- rows in

    def write(self, row: dict[str, Any]) -> None:
        self._warnings[row["key"]] = _warning_row(row, self.run_id)
        self.written += 1
        self._maybe_flush()

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        self._rejects.append({"as_of": self.as_of, "pack": self.pack, "seq": self.rejected,
                              **reject.to_dict(), "run_id": self.run_id})
        self._maybe_flush()

    def notice(self, notice: dict[str, Any]) -> None:
        self.noticed += 1
        self._notices.append({"as_of": self.as_of, "pack": self.pack, "seq": self.noticed,
                              **{k: notice.get(k) for k in _NOTICE_KEYS}, "run_id": self.run_id})
        self._maybe_flush()

    def where(self, kind: str) -> str:
        return f"{self.name}_{kind}"

    # -- batches

    def _maybe_flush(self) -> None:
        if len(self._warnings) + len(self._rejects) + len(self._notices) >= self.batch_rows:
            self._flush()

    def _flush(self, final: bool = False) -> None:
        conn = self.connection
        warnings, rejects, notices, runs = self.tables
        try:
            for table, rows, key in ((warnings, list(self._warnings.values()), _KEY),
                                     (rejects, self._rejects, _SEQ_KEY), (notices, self._notices, _SEQ_KEY)):
                if rows:
                    self._upsert_rows(table, rows, key)
            if final:
                for table in (warnings, rejects, notices):
                    conn.execute(table.delete().where(table.c.as_of == self.as_of, table.c.pack == self.pack,
                                                      table.c.run_id != self.run_id))
                conn.execute(runs.update().where(runs.c.run_id == self.run_id).values(
                    status="complete", finished_at=_now(),
                    read=self.read, warnings=self.written, rejects=self.rejected, notices=self.noticed))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self.transactions += 1
        self._warnings.clear()
        self._rejects.clear()
        self._notices.clear()

    def _upsert_rows(self, table: sa.Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> None:
        conn = self.connection
        dialect = conn.dialect.name
        native = self._native.get(table.name, False) if self._upsert is None else self._upsert
        others = [c.name for c in table.columns if c.name not in key]
        if native and dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                stmt: Any = pg_insert(table)
            else:
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                stmt = sqlite_insert(table)
            stmt = stmt.on_conflict_do_update(index_elements=list(key),
                                              set_={c: stmt.excluded[c] for c in others})
            conn.execute(stmt, list(rows))
            return
        if native and dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            stmt = mysql_insert(table)
            conn.execute(stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in others}), list(rows))
            return
        # Any other dialect: the batch's keys deleted, then inserted, in one transaction.
        last = key[-1]
        for start in range(0, len(rows), 500):
            part = rows[start:start + 500]
            conn.execute(table.delete().where(table.c.as_of == self.as_of, table.c.pack == self.pack,
                                              table.c[last].in_([r[last] for r in part])))
        conn.execute(table.insert(), list(rows))


def _now() -> dt.datetime:
    """The time a run starts or ends, as the runs table keeps it: UTC, without a zone (a
    column type every dialect has)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
