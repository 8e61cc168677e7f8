"""Spark DataFrames of histories in; DataFrames of warnings, rejects and notices out.

    from lifecycle_rules import spark as lr_spark
    result = lr_spark.evaluate(histories_df, "jiande", "2024-11-30")
    result.warnings.write.parquet("warnings/")     # WARNING_DDL's columns
    result.rejects.write.json("rejects/")          # every row that was not evaluated, and why
    result.notices.write.json("notices/")          # what was evaluated but left out, and why

The Spark half of the Arrow seam (``lifecycle_rules.arrow``): Spark hands each task's
rows to Python as Arrow record batches, the seam evaluates them with the same code as
the CLI and hands back batches of ``OUTPUT_SCHEMA``. docs/spark.md is the recipe for a
real cluster (shipping the environment and a third-party pack, MaxCompute / DataWorks).

Why ``mapInArrow`` and not ``groupBy(...).applyInArrow``: ``applyInArrow`` shuffles every
row by its key and calls Python once per group; here a history is already one row per
project, so ``mapInArrow`` streams each partition through one Python worker with no
shuffle and no per-project call. (``applyInArrow`` also exists only from Spark 4.0, and
``applyInPandas`` would add a pandas round trip per group.) The two-table layout does
need one shuffle, to bring a project's events to it; it is done by Spark SQL
(``collect_list``), not by Python.

pyspark is an optional extra (``lifecycle-rules[spark]``): this module imports it, and
``import lifecycle_rules`` never imports this module.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from lifecycle_rules import arrow as arrow_seam
from lifecycle_rules.arrow import OUTPUT_SCHEMA, WARNING_SCHEMA, evaluate_batches
from lifecycle_rules.core.results import as_of_day
from lifecycle_rules.io.readers.codes import duplicate_at
from lifecycle_rules.io.readers.columns import _Mapping, load_mapping
from lifecycle_rules.io.readers.values import _norm  # column names compared as the mapping compares them
from lifecycle_rules.pack.compile import Pack

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _ddl_type(data_type: T.DataType) -> str:
    if isinstance(data_type, T.ArrayType):
        return f"ARRAY<{_ddl_type(data_type.elementType)}>"
    if isinstance(data_type, T.MapType):
        return f"MAP<{_ddl_type(data_type.keyType)}, {_ddl_type(data_type.valueType)}>"
    if isinstance(data_type, T.StructType):
        return f"STRUCT<{', '.join(f'{_quoted(f.name)}: {_ddl_type(f.dataType)}' for f in data_type.fields)}>"
    return data_type.simpleString().upper()


def _quoted(name: str) -> str:
    return name if _NAME.fullmatch(name) else "`" + name.replace("`", "``") + "`"


def ddl(schema: pa.Schema) -> str:
    """An Arrow schema as a Spark DDL string (``project_id STRING, since DATE, ...``), by
    way of Spark's own Arrow-to-Spark type mapping, so the two schemas cannot drift apart
    (the Arrow schema is the one written down; this is derived from it)."""
    return ", ".join(f"{_quoted(f.name)} {_ddl_type(f.dataType)}" for f in from_arrow_schema(schema).fields)


WARNING_DDL = ddl(WARNING_SCHEMA)
"""The warnings DataFrame's schema (SPEC §4 and the office's fields, with provenance)."""
OUTPUT_DDL = ddl(OUTPUT_SCHEMA)
"""What ``mapInArrow`` returns: every kind of row (``kind``: warning, reject, notice)."""

_OUTPUT = from_arrow_schema(OUTPUT_SCHEMA)
_WARNING_COLUMNS = list(WARNING_SCHEMA.names)
REJECT_COLUMNS = list(arrow_seam.REJECT_COLUMNS)
"""The rejects DataFrame's columns (``lifecycle_rules.arrow.split``'s): which project when
known, where (``file``, ``locator``), the field or column, the message, the provenance."""
NOTICE_COLUMNS = list(arrow_seam.NOTICE_COLUMNS)
"""The notices DataFrame's columns: what was evaluated but left out, or skipped, and why."""


@dataclass(frozen=True)
class Evaluation:
    """One evaluation's three DataFrames, all views of ``output`` (every row of
    ``OUTPUT_DDL``, ``kind`` telling them apart).

    Spark is lazy: nothing runs until an action (a write, ``count``, ``collect``). When
    ``evaluate`` was called with ``persist=True`` (the default), ``output`` is persisted
    (memory, spilling to disk), so writing the warnings, then the rejects, then the
    notices evaluates the histories once, not three times; call ``unpersist()`` when done.
    With ``persist=False`` each action on each DataFrame evaluates the histories again."""

    output: DataFrame
    warnings: DataFrame
    rejects: DataFrame
    notices: DataFrame

    def unpersist(self) -> None:
        """Free the persisted rows (a no-op when ``evaluate`` did not persist them)."""
        self.output.unpersist()


_CODE, _FIRST = "_lr_code", "_lr_first"  # columns evaluate adds for the code check; the seam never sees them


def duplicate_message(code: str, first: str) -> str:
    """The reject message of a project code seen before, naming the first row (the CLI's
    words, ``io.readers.codes.duplicate_at``, with the row named by its locator)."""
    return duplicate_at(code, first)


class _Evaluator:
    """What each Spark task runs: the compiled pack (pickled with this object, once per
    task; a Pack pickles without its caches) and the run's options, applied to the
    task's stream of Arrow batches. A class at module level, so the executors import it
    from the installed package rather than receiving its code."""

    def __init__(self, pack: Pack, as_of: dt.date, include_closed: bool, history_column: str, file: str) -> None:
        self.pack = pack
        self.as_of = as_of
        self.include_closed = include_closed
        self.history_column = history_column
        self.file = file

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        held: list[pa.RecordBatch] = []  # the rejects of codes seen before, out after their batch
        # Codes are checked across the whole DataFrame by ``_unique``, not per partition.
        for out in evaluate_batches(self._firsts(batches, held), self.pack, self.as_of,
                                    include_closed=self.include_closed, history_column=self.history_column,
                                    locator_column="locator", file=self.file, check_codes=False):
            yield out
            yield from held
            held.clear()

    def _firsts(self, batches: Iterable[pa.RecordBatch], held: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Each batch without the rows whose code was seen before (``_unique`` marked them
        with the first row's locator), which become rejects in ``held``."""
        for batch in batches:
            if _FIRST not in batch.schema.names:
                yield batch
                continue
            first = batch.column(_FIRST)
            if first.null_count < batch.num_rows:
                again = batch.filter(pc.is_valid(first))
                provenance = {"as_of": self.as_of, "pack": self.pack.label, "pack_digest": self.pack.digest}
                held.append(pa.RecordBatch.from_pylist([
                    {**provenance, "kind": "reject", "file": self.file, "locator": locator, "project_id": code,
                     "field": "project.id", "error": duplicate_message(code, seen)}
                    for code, locator, seen in zip(again.column(_CODE).to_pylist(), again.column("locator").to_pylist(),
                                                   first.filter(pc.is_valid(first)).to_pylist(), strict=True)],
                    schema=OUTPUT_SCHEMA))
                batch = batch.filter(pc.is_null(first))
            yield batch.drop_columns([_CODE, _FIRST])


def evaluate(
    df: DataFrame,
    pack: Pack | str,
    as_of: dt.date | str,
    *,
    events: DataFrame | None = None,
    include_closed: bool = False,
    parameters: Mapping[str, Any] | None = None,
    history_column: str = "history",
    file: str = "spark",
    check_codes: bool = True,
    persist: bool = True,
) -> Evaluation:
    """Evaluate a DataFrame of histories on ``as_of``; see ``Evaluation`` for what comes back.

    ``df`` is either a row per history, with its JSON (SPEC §3; string or binary) in
    ``history_column``, or, with ``events``, the two-table layout: ``df`` a row per
    project (project_id, name, sector, investment_wan, region, plan_start,
    plan_completion, or the Chinese headers of the default column mapping) and
    ``events`` a row per event (project_id, date, type, step, period, planned_wan,
    actual_wan, compliant, warning, action, until, severity). Events are grouped by
    project in Spark and joined to their project; an event whose project is not in
    ``df`` becomes a reject.

    A ``locator`` column, if ``df`` (or ``events``) has one, names the row in rejects
    and notices (a file and line, a table's key); otherwise the row is named by its
    project code (``project JD-2024-017``), or by Spark's row id when it has none.

    A project code seen twice is rejected (the second and later rows, naming the
    first), as the CLI does, so two projects never share warning keys. This costs a
    second read of the input and a shuffle of the codes alone; ``check_codes=False``
    skips it for an input whose codes are known unique (a table's primary key).

    ``pack`` is a compiled Pack or an id (loaded here, on the driver, in the version in
    force on ``as_of``, with ``parameters``); it is pickled to the executors with each
    task's function. ``file`` names the input in the rejects' and notices' ``file``."""
    compiled = _driver_pack(pack, parameters, as_of)
    day = as_of_day(as_of)
    provenance = {"file": F.lit(file), "as_of": F.lit(day), "pack": F.lit(compiled.label),
                  "pack_digest": F.lit(compiled.digest)}
    extra: list[DataFrame] = []
    if events is not None:
        df, orphans, project_id = _nested(df, events, compiled, provenance)
        extra.append(orphans)
        code = F.col(project_id).cast("string")
    else:
        if history_column not in df.columns:
            raise ValueError(f"no column {history_column!r} of history JSON (columns: {df.columns}); "
                             "pass history_column=, or events= for the two-table layout")
        code = F.get_json_object(F.col(history_column).cast("string"), "$.project.id")
    df = _with_locator(df.withColumn(_CODE, F.trim(code)))
    df = _unique(df) if check_codes else df.drop(_CODE)
    output = df.mapInArrow(_Evaluator(compiled, day, include_closed, history_column, file), _OUTPUT)
    for more in extra:
        output = output.unionByName(more)
    if persist:
        output = output.persist(StorageLevel.MEMORY_AND_DISK)
    return Evaluation(output,
                      output.where(F.col("kind") == "warning").select(*_WARNING_COLUMNS),
                      output.where(F.col("kind") == "reject").select(*REJECT_COLUMNS),
                      output.where(F.col("kind") == "notice").select(*NOTICE_COLUMNS))


def _driver_pack(pack: Pack | str, parameters: Mapping[str, Any] | None, as_of: dt.date | str) -> Pack:
    if isinstance(pack, Pack):
        return pack.with_parameters(parameters or {})
    from lifecycle_rules import load_pack

    return load_pack(pack, dict(parameters or {}), as_of=as_of)


def _output_row(columns: dict[str, Column]) -> list[Column]:
    """Spark-made rows (rejects the JVM side finds) in the seam's OUTPUT_SCHEMA."""
    return [columns.get(f.name, F.lit(None)).cast(f.dataType).alias(f.name) for f in _OUTPUT.fields]


def _with_locator(df: DataFrame) -> DataFrame:
    """A ``locator`` for every row: the caller's, else ``project CODE``, else Spark's row id
    (unique, not consecutive: Spark does not number rows across partitions). The code is
    the column ``_CODE``, worked out once (from the JSON, a parse per row)."""
    if "locator" in df.columns:
        return df
    named = F.when(F.length(_CODE) > 0, F.concat(F.lit("project "), F.col(_CODE)))
    return df.withColumn("locator", F.coalesce(named, F.concat(F.lit("row "), F.monotonically_increasing_id())))


def _unique(df: DataFrame) -> DataFrame:
    """The rows with a project code seen before (the CLI's rule, ``io.readers.codes``)
    marked with the first row's locator in ``_FIRST``; the task rejects them
    (``_Evaluator``) instead of evaluating them. Only the codes are aggregated (a small
    shuffle; the input is read a second time for it), and the codes seen more than once,
    usually few, are broadcast back, so the histories themselves are never shuffled. Codes
    are compared after trimming spaces (the CLI also folds full-width characters, NFKC,
    which Spark SQL has no function for)."""
    keyed = df.withColumn("_lr_order", F.monotonically_increasing_id())
    firsts = (keyed.where(F.length(_CODE) > 0).groupBy(_CODE)
              .agg(F.count(F.lit(1)).alias("_lr_n"), F.min(F.struct("_lr_order", "locator")).alias("_lr_min"))
              .where(F.col("_lr_n") > 1).select(_CODE, "_lr_min"))
    again = F.col("_lr_min").isNotNull() & (F.col("_lr_order") != F.col("_lr_min._lr_order"))
    return (keyed.join(F.broadcast(firsts), _CODE, "left")
            .withColumn(_FIRST, F.when(again, F.col("_lr_min.locator")))
            .drop("_lr_order", "_lr_min"))


def _id_column(df: DataFrame, mapping: _Mapping, section: str, field: str, table: str) -> str:
    """The column holding the project code, as the seam will read it (``mapping``: the
    default column mapping with the pack's own ``columns:`` over it)."""
    aliases = {_norm(alias) for alias in mapping.columns[section][field]}
    found = [c for c in df.columns if _norm(c) in aliases]
    if len(found) != 1:
        raise ValueError(f"the {table} table needs one project code column (project_id, 项目代码 ...); "
                         f"found {found or 'none'} among {df.columns}")
    return found[0]


def _nested(projects: DataFrame, events: DataFrame, pack: Pack,
            provenance: dict[str, Column]) -> tuple[DataFrame, DataFrame, str]:
    """The two-table layout as the seam's nested one: a row per project with an ``events``
    column, list<struct<date, type, ...>> (the events table's columns as they are named;
    the seam maps them) in the events table's row order; rejects for the events whose
    project is not in the projects table; and the projects' code column."""
    mapping = load_mapping(None, (pack.id, pack.spec.columns))
    project_id = _id_column(projects, mapping, "project", "id", "projects")
    event_id = _id_column(events, mapping, "events", "project_id", "events")
    kept = [c for c in events.columns if c not in (event_id, "locator")]
    events = events.withColumn("_order", F.monotonically_increasing_id())
    grouped = (events.groupBy(F.trim(F.col(event_id).cast("string")).alias("_code"))
               .agg(F.array_sort(F.collect_list(F.struct("_order", *kept))).alias("_events"))
               .select("_code", F.transform("_events", lambda e: e.dropFields("_order")).alias("events")))
    events_type = grouped.schema["events"].dataType
    nested = (projects.withColumn("_code", F.trim(F.col(project_id).cast("string")))
              .join(grouped, "_code", "left")
              .withColumn("events", F.coalesce(F.col("events"), F.array().cast(events_type)))
              .drop("_code"))
    known = projects.select(F.trim(F.col(project_id).cast("string")).alias("_code")).distinct()
    orphans = events.withColumn("_code", F.trim(F.col(event_id).cast("string"))).join(known, "_code", "left_anti")
    where = F.col("locator") if "locator" in events.columns else F.concat(
        F.lit("events of "), F.coalesce(F.col("_code"), F.lit("(no code)")), F.lit(" row "), F.col("_order"))
    rejects = orphans.select(*_output_row({
        "kind": F.lit("reject"), "locator": where, "project_id": F.col("_code"), "field": F.lit(event_id),
        "error": F.concat(F.lit("项目代码 '"), F.coalesce(F.col("_code"), F.lit("")), F.lit("' 不在项目表中")),
        **provenance}))
    return nested, rejects, project_id
