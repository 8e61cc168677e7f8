"""lifecycle_rules.spark on a real Spark (local[2], a JVM and Python workers), against
the CLI on the same histories: the same warnings, rejects and notices for every
built-in pack, and the two-table layout giving what the history column gives.

Skipped when pyspark or Java is missing, but for CI (env ``CI`` set), where that is a
failure: CI installs the ``spark`` extra, and a green run must mean Spark was tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _missing() -> str | None:
    try:
        import pandas  # noqa: F401  (mapInArrow needs it in Spark 3.5)
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"the spark extra is not installed ({exc})"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs a JVM; Java 17)"
    return None


# A minute of real Spark, run as a step of its own: .ci/run (LR_INTEGRATION=1), and here on
# asking; not in the test command, where its JVM would skew the timing tests beside it.
if not os.environ.get("LR_INTEGRATION"):
    pytest.skip("a real Spark local[2] run (about a minute): .ci/run runs it, LR_INTEGRATION=1 runs it here",
                allow_module_level=True)
_MISSING = _missing()
if _MISSING is not None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test Spark, but {_MISSING}", pytrace=False)
    pytest.skip(_MISSING, allow_module_level=True)

from cli_runs import SAME_SEED, SAME_SIZE, cli_outputs, normal  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from benchmarks.synth import pack_histories  # noqa: E402
from lifecycle_rules import load_pack  # noqa: E402
from lifecycle_rules import spark as lr_spark  # noqa: E402
from lifecycle_rules.arrow import WARNING_SCHEMA  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACKS = ["jiande", "luohe", "tongjiang", "wushan", "jiangyin"]
AS_OF = "2024-11-30"
SIZE = SAME_SIZE

# Lines that must come back as rejects naming them, with the CLI's words: a bad date, a
# line that is not JSON, an event type the pack does not know, and a code seen before.
BAD = [
    '{"project": {"id": "BAD-1"}, "events": [{"date": "2024-13-01", "type": "step_completed", "step": "签约"}]}',
    "not json",
    '{"project": {"id": "BAD-2", "name": "x", "sector": "industrial", "investment_wan": 5},'
    ' "events": [{"date": "2024-01-01", "type": "nonsense"}]}',
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """One local[2] session for the module: two task threads, Python workers run by this
    interpreter (so they import this checkout), no UI, on the loopback only."""
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_LOCAL_IP")}
    os.environ.update(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
                      SPARK_LOCAL_IP="127.0.0.1")
    session = (SparkSession.builder.master("local[2]").appName("lifecycle-rules tests")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _lines(pack: str, n: int, seed: int) -> list[str]:
    return [json.dumps(h, ensure_ascii=False) for h in pack_histories(pack, n, seed)]


def _cli(tmp: Path, pack: str, lines: list[str]) -> tuple[list[dict[str, Any]], ...]:
    """The CLI's warnings, rejects and notices on these lines (one process, as a user runs it)."""
    source = tmp / f"{pack}.jsonl"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return cli_outputs(source, pack, AS_OF)


def _frame(spark: SparkSession, lines: list[str]) -> DataFrame:
    """The lines as Spark rows named as the CLI names them (``line N``), in order over 4
    partitions (as a file read would give them)."""
    rows = spark.sparkContext.parallelize([(f"line {i}", line) for i, line in enumerate(lines, 1)], 4)
    return spark.createDataFrame(rows, "locator STRING, history STRING")


def _collect(df: DataFrame) -> list[dict[str, Any]]:
    return [r.asDict(recursive=True) for r in df.collect()]


@pytest.mark.parametrize("pack", PACKS)
def test_spark_equals_the_cli(spark: SparkSession, tmp_path: Path, pack: str) -> None:
    """2,000 histories and the bad lines: every warning, reject and notice the CLI writes,
    and nothing else."""
    lines = _lines(pack, SIZE, seed=SAME_SEED)
    lines += [*BAD, lines[5]]  # the last: a code seen before, on line 6
    warnings, rejects, notices = _cli(tmp_path, pack, lines)
    assert warnings, "the histories give warnings (else the comparison proves little)"
    result = lr_spark.evaluate(_frame(spark, lines), pack, AS_OF, file=str(tmp_path / f"{pack}.jsonl"))
    try:
        got = _collect(result.warnings)
        assert list(result.warnings.columns) == list(warnings[0])  # SPEC §4's fields, in the CLI's order
        assert normal(got, list(warnings[0])) == normal(warnings, list(warnings[0]))
        reject_keys = ["file", "locator", "project_id", "field"]
        got_rejects = _collect(result.rejects)
        assert normal(got_rejects, reject_keys) == normal(rejects, reject_keys)
        assert sorted(r["error"] for r in got_rejects) == sorted(r["message"] for r in rejects)
        # the bad date, the line that is not JSON, the code seen before (an unknown event
        # type is a reject or not as the pack says: the comparison above covers it)
        assert {r["locator"] for r in got_rejects} >= {f"line {SIZE + 1}", f"line {SIZE + 2}", f"line {SIZE + 4}"}
        notice_keys = ["project_id", "file", "locator", "notice", "pack"]
        assert normal(_collect(result.notices), notice_keys) == normal(notices, notice_keys)
        assert result.output.count() == len(warnings) + len(rejects) + len(notices)
    finally:
        result.unpersist()


def _tables(histories: list[dict[str, Any]]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Histories as the two tables an office exports: projects and events, a row each."""
    projects, events = [], []
    for h in histories:
        p, plan = h["project"], h.get("plan", {})
        projects.append((p["id"], p.get("name"), p.get("sector"), p.get("in_development_zone"),
                         p.get("investment_wan"), p.get("region"), plan.get("start"), plan.get("completion"),
                         plan.get("production")))
        events.extend((p["id"], *(e.get(k) for k in EVENT_FIELDS)) for e in h["events"])
    return projects, events


EVENT_FIELDS = ["date", "type", "step", "period", "planned_wan", "actual_wan", "compliant", "warning", "action",
                "until", "severity"]
# The projects table in the contract's names, the events table partly in an office's
# (项目代码, 日期, 类型, 环节, 期间): the seam maps both through the column mapping.
PROJECTS_DDL = ("project_id STRING, name STRING, sector STRING, in_development_zone BOOLEAN, investment_wan DOUBLE, "
                "region STRING, plan_start STRING, plan_completion STRING, plan_production STRING")
EVENTS_DDL = ("`项目代码` STRING, `日期` STRING, `类型` STRING, `环节` STRING, `期间` STRING, planned_wan DOUBLE, "
              "actual_wan DOUBLE, compliant BOOLEAN, warning STRING, action STRING, until STRING, severity STRING")


def _without_notes(h: dict[str, Any]) -> dict[str, Any]:
    """A history with only what the two tables carry (an event's free-text note is not a
    column of the events table), for the history-column side."""
    return {**h, "events": [{k: v for k, v in e.items() if k in EVENT_FIELDS} for e in h["events"]]}


def test_two_tables_give_what_the_history_column_gives(spark: SparkSession) -> None:
    """A few hundred projects as projects and events DataFrames: the same warnings as their
    histories as JSON; an event of a project not in the projects table is a reject."""
    histories = [_without_notes(h) for h in pack_histories("wushan", 300, seed=5)]
    histories.append({"project": {"id": "NO-EVENTS-1", "name": "没有事件的项目", "sector": "industrial",
                                  "investment_wan": 5000.0}, "plan": {"start": "2024-01-01"}, "events": []})
    projects, events = _tables(histories)
    events.append(("NOWHERE-1", "2024-01-02", "progress", *[None] * (len(EVENT_FIELDS) - 2)))

    projects_df = spark.createDataFrame(projects, PROJECTS_DDL).repartition(3)
    events_df = spark.createDataFrame(events, EVENTS_DDL).repartition(3)
    tables = lr_spark.evaluate(projects_df, "wushan", AS_OF, events=events_df)
    column = lr_spark.evaluate(_frame(spark, [json.dumps(h, ensure_ascii=False) for h in histories]), "wushan", AS_OF)
    try:
        keys = list(WARNING_SCHEMA.names)
        from_tables, from_json = _collect(tables.warnings), _collect(column.warnings)
        assert len(from_json) > 100
        assert normal(from_tables, keys) == normal(from_json, keys)
        orphans = _collect(tables.rejects)
        assert [(r["project_id"], r["field"]) for r in orphans] == [("NOWHERE-1", "项目代码")]
        assert "NOWHERE-1" in orphans[0]["error"]
        notice_keys = ["project_id", "notice"]
        assert normal(_collect(tables.notices), notice_keys) == normal(_collect(column.notices), notice_keys)
    finally:
        tables.unpersist()
        column.unpersist()


def test_the_ddl_is_what_spark_reads_and_matches_the_arrow_schema(spark: SparkSession) -> None:
    from pyspark.sql.pandas.types import from_arrow_schema

    from lifecycle_rules.arrow import OUTPUT_SCHEMA

    parsed = spark.createDataFrame([], lr_spark.WARNING_DDL).schema
    assert [(f.name, f.dataType) for f in parsed] == [(f.name, f.dataType) for f in from_arrow_schema(WARNING_SCHEMA)]
    assert "since DATE" in lr_spark.WARNING_DDL and "responsible ARRAY<STRING>" in lr_spark.WARNING_DDL
    assert spark.createDataFrame([], lr_spark.OUTPUT_DDL).columns == OUTPUT_SCHEMA.names


def test_a_pack_from_a_directory_and_parameters(spark: SparkSession, tmp_path: Path) -> None:
    """A pack loaded on the driver from a directory (as a third-party pack not installed on
    the executors would be) travels to them pickled: its directory is gone before Spark
    runs, and it gives what the installed pack gives. A shorter limit as a parameter gives
    more warnings, under another digest."""
    lines = _lines("jiande", 200, seed=3)
    frame = _frame(spark, lines)
    copy = tmp_path / "jiande"
    shutil.copytree(ROOT / "rulepacks" / "jiande", copy)
    from_directory = load_pack(copy, as_of=AS_OF)
    shutil.rmtree(copy)
    by_id = lr_spark.evaluate(frame, "jiande", AS_OF, persist=False)
    by_object = lr_spark.evaluate(frame, from_directory, AS_OF, persist=False)
    shorter = lr_spark.evaluate(frame, "jiande", AS_OF, parameters={"sign_to_land_days": 60}, persist=False)
    keys = list(WARNING_SCHEMA.names)
    default = _collect(by_id.warnings)
    assert normal(default, keys) == normal(_collect(by_object.warnings), keys)
    sixty = _collect(shorter.warnings)

    def signed(rows: list[dict[str, Any]]) -> int:
        return sum(r["rule"] == "jd.sign-to-land" for r in rows)

    assert signed(sixty) > signed(default) > 0
    assert {r["pack_digest"] for r in sixty}.isdisjoint({r["pack_digest"] for r in default})


def test_importing_lifecycle_rules_does_not_import_pyspark() -> None:
    code = "import sys, lifecycle_rules, lifecycle_rules.arrow; print('pyspark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
