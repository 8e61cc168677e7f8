"""Databases in and out (lifecycle_rules.db, evaluate --db, -o URL#TABLE) on SQLite: the
tables layout's mapping and rejects through SQL, streaming in bounded batches, and writing
that a re-run or a stale row cannot double. (PostgreSQL: tests/test_db_postgres.py.)"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lifecycle_rules import db
from lifecycle_rules.io.cli import main
from lifecycle_rules.io.db_read import db_records
from lifecycle_rules.io.db_write import result_tables
from lifecycle_rules.io.readers.columns import load_mapping
from lifecycle_rules.io.readers.tables import read_rows
from lifecycle_rules.io.records import Record, Rows

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-06-30"

# The English canonical names of columns.yaml (aliases of every field): the loader's tables.
PROJECT_FIELDS = (("project_id", ("project", "id")), ("name", ("project", "name")),
                  ("sector", ("project", "sector")), ("in_development_zone", ("project", "in_development_zone")),
                  ("investment_wan", ("project", "investment_wan")), ("region", ("project", "region")),
                  ("plan_start", ("plan", "start")), ("plan_completion", ("plan", "completion")),
                  ("plan_production", ("plan", "production")))
EVENT_FIELDS = ("project_id", "date", "type", "step", "period", "planned_wan", "actual_wan", "compliant",
                "warning", "action", "until", "severity", "note")
_DATES = {"plan_start", "plan_completion", "plan_production", "date", "until"}
_AMOUNTS = {"investment_wan", "planned_wan", "actual_wan"}
_BOOLS = {"in_development_zone", "compliant"}


def _type(name: str) -> Any:
    if name in _DATES:
        return sa.Date
    if name in _AMOUNTS:
        return sa.Numeric(18, 2)
    if name in _BOOLS:
        return sa.Boolean
    return sa.Text


def history_tables(md: sa.MetaData, projects: str = "projects", events: str = "events",
                   names: Mapping[str, str] | None = None) -> tuple[sa.Table, sa.Table]:
    """A projects table (its code the primary key) and an events table (an integer key
    giving the order of the history's events), columns under ``names`` (field -> column)."""
    rename = dict(names or {})
    p = sa.Table(projects, md, *(sa.Column(rename.get(n, n), sa.String(100) if n == "project_id" else _type(n),
                                           primary_key=n == "project_id") for n, _ in PROJECT_FIELDS))
    e = sa.Table(events, md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 *(sa.Column(rename.get(n, n), sa.String(100) if n == "project_id" else _type(n),
                             index=n == "project_id") for n in EVENT_FIELDS))
    return p, e


def _cell(name: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if name in _DATES:
        return dt.date.fromisoformat(value)
    if name in _AMOUNTS:
        return Decimal(str(value))
    return value


def load_histories(conn: sa.Connection, histories: Iterable[dict[str, Any]], projects: str = "projects",
                   events: str = "events", names: Mapping[str, str] | None = None, chunk: int = 2000) -> int:
    """Histories (SPEC §3) into a projects and an events table (created), events numbered in
    their history's order; returns the number of projects."""
    md = sa.MetaData()
    p, e = history_tables(md, projects, events, names)
    md.create_all(conn)
    rename = dict(names or {})
    prows: list[dict[str, Any]] = []
    erows: list[dict[str, Any]] = []
    count = number = 0
    for h in histories:
        count += 1
        prows.append({rename.get(n, n): _cell(n, h.get(section, {}).get(key)) for n, (section, key) in PROJECT_FIELDS})
        for event in h["events"]:
            number += 1
            extra = set(event) - set(EVENT_FIELDS)
            assert not extra, extra  # every field of the history has its column
            erows.append({"id": number, rename.get("project_id", "project_id"): h["project"]["id"],
                          **{rename.get(n, n): _cell(n, event.get(n)) for n in EVENT_FIELDS if n != "project_id"}})
        if len(erows) >= chunk:
            conn.execute(p.insert(), prows)
            conn.execute(e.insert(), erows)
            prows, erows = [], []
    if prows:
        conn.execute(p.insert(), prows)
    if erows:
        conn.execute(e.insert(), erows)
    conn.commit()
    return count


def write_jsonl(path: Path, histories: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for h in histories:
            fh.write(json.dumps(h, ensure_ascii=False) + "\n")


def jsonl_rows(path: Path) -> list[str]:
    """A JSON Lines output as sorted canonical JSON rows."""
    return sorted(json.dumps(json.loads(line), ensure_ascii=False, sort_keys=True)
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def table_rows(engine: sa.Engine, table: str) -> list[str]:
    """A warnings table's rows as the JSON Lines contract has them, sorted canonical JSON."""
    warnings = result_tables(table)[0]
    out = []
    with engine.connect() as conn:
        for row in conn.execute(sa.select(warnings)).mappings():
            d = {k: v for k, v in row.items() if k != "run_id"}
            for k in ("since", "due", "closed_on", "as_of"):
                d[k] = d[k].isoformat() if d[k] is not None else None
            d["responsible"] = d["responsible"].split("、") if d["responsible"] else []
            out.append(json.dumps(d, ensure_ascii=False, sort_keys=True))
    return sorted(out)


def cli(*args: object) -> tuple[int, str]:
    """The CLI in a subprocess (exit code, stderr)."""
    done = subprocess.run([sys.executable, "-m", "lifecycle_rules", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    return done.returncode, done.stderr


def pack_histories(pack: str, n: int, seed: int = 7) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from benchmarks.synth import pack_histories as made

    return list(made(pack, n, seed))


def evaluate(*args: object) -> int:
    """The CLI in this process."""
    return main(["evaluate", *map(str, args)])


@pytest.fixture(scope="module")
def jiande() -> list[dict[str, Any]]:
    return pack_histories("jiande", 120)


@pytest.fixture(scope="module")
def expected(jiande: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The file path's warnings on the same histories: what every database run must equal."""
    folder = tmp_path_factory.mktemp("jsonl")
    write_jsonl(folder / "h.jsonl", jiande)
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, folder / "h.jsonl", "-o", folder / "out.jsonl",
                    "--jobs", "1", "--quiet") == 0
    rows = jsonl_rows(folder / "out.jsonl")
    assert len(rows) > 50  # enough warnings to tell runs apart
    return rows


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def test_tables_in_and_out_equal_the_file_path(jiande: list[dict[str, Any]], expected: list[str],
                                               tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "h.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        load_histories(conn, jiande)
    # One SQLite database in and out (one connection: SQLite commits only with no other reader).
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "projects", "--events",
                    "events", "-o", f"{url}#warnings", "--quiet", "--db-batch", "40") == 0
    assert table_rows(engine, "warnings") == expected
    # The database in, a file out; a file in, another database out.
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "projects", "--events",
                    "events", "-o", tmp_path / "out.jsonl", "--quiet", "--jobs", "2") == 0
    assert jsonl_rows(tmp_path / "out.jsonl") == expected
    write_jsonl(tmp_path / "h.jsonl", jiande)
    other = _sqlite(tmp_path / "out.db")
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, tmp_path / "h.jsonl", "-o", f"{other}#预警",
                    "--quiet") == 0
    assert table_rows(sa.create_engine(other), "预警") == expected


def test_queries_instead_of_tables(jiande: list[dict[str, Any]], expected: list[str], tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "h.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        load_histories(conn, jiande, projects="p_all", events="e_all")
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url,
                    "--sql-projects", "SELECT * FROM p_all WHERE sector IS NOT NULL",
                    "--sql-events", "SELECT id AS seq, project_id, date, type, step, period, planned_wan, "
                    "actual_wan, compliant, warning, action, until, severity FROM e_all",
                    "-o", f"{url}#w", "--quiet") == 0
    assert table_rows(engine, "w") == expected


CHINESE = {"project_id": "项目代码", "name": "项目名称", "sector": "行业类别", "investment_wan": "总投资(万元)",
           "region": "所在乡镇", "plan_start": "计划开工日期", "plan_completion": "计划竣工日期",
           "plan_production": "计划投产日期", "in_development_zone": "是否开发区", "date": "日期", "type": "事件类型",
           "step": "环节", "period": "报告期", "planned_wan": "计划投资(万元)", "actual_wan": "完成投资(万元)",
           "compliant": "是否合规", "warning": "预警编号", "action": "办理结果", "until": "延期至",
           "severity": "问题性质", "note": "备注"}
PINYIN = {"project_id": "xmdm", "name": "xmmc", "sector": "hylb", "investment_wan": "ztz", "region": "szxz",
          "plan_start": "jhkgrq", "plan_completion": "jhjgrq", "plan_production": "jhtcrq",
          "in_development_zone": "sfkfq", "date": "rq", "type": "sjlx", "step": "hj", "period": "bgq",
          "planned_wan": "jhtz", "actual_wan": "wctz", "compliant": "sfhg", "warning": "yjbh", "action": "bljg",
          "until": "yqz", "severity": "wtxz", "note": "bz"}


def test_chinese_column_names_and_pinyin_through_a_mapping(jiande: list[dict[str, Any]], expected: list[str],
                                                         tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "h.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        load_histories(conn, jiande, "项目表", "事件表", names=CHINESE)
        load_histories(conn, jiande, "xm", "sj", names=PINYIN)
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "项目表", "--events", "事件表",
                    "-o", f"{url}#cn", "--quiet") == 0
    assert table_rows(engine, "cn") == expected
    # Pinyin names mean nothing to the default mapping: a clear error naming the column ...
    code = evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "xm", "--events", "sj",
                    "-o", f"{url}#py", "--quiet")
    assert code == 2
    # ... and a mapping file names them.
    sections: dict[str, Any] = {
        "project": {field: PINYIN[name] for name, (section, field) in PROJECT_FIELDS if section == "project"},
        "plan": {field: PINYIN[name] for name, (section, field) in PROJECT_FIELDS if section == "plan"},
        "events": {name: PINYIN[name] for name in EVENT_FIELDS if name != "note"},
        "ignored": ["bz"],
    }
    import yaml

    (tmp_path / "map.yaml").write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "xm", "--events", "sj",
                    "--mapping", tmp_path / "map.yaml", "-o", f"{url}#py", "--quiet") == 0
    assert table_rows(engine, "py") == expected


def _bad_tables(conn: sa.Connection) -> None:
    """Projects with an ordinal (序号) and no key, one code twice; bad cells; events with no
    project, with no code, with a bad date."""
    conn.execute(sa.text("CREATE TABLE p (序号 INTEGER, 项目代码 TEXT, 行业 TEXT, 总投资 NUMERIC, 计划开工日期 DATE)"))
    conn.execute(sa.text("CREATE TABLE e (序号 INTEGER PRIMARY KEY, 项目代码 TEXT, 日期 TEXT, 类型 TEXT, 环节 TEXT)"))
    conn.execute(sa.text("INSERT INTO p VALUES (10, 'JD-1', '工业', 30000, '2024-09-01'), "
                         "(11, 'JD-2', '火星', 30000, NULL), (12, 'JD-1', '工业', 1, NULL), "
                         "(13, 'JD-3', '工业', 30000, NULL), (14, '合计', NULL, 90001, NULL)"))
    conn.execute(sa.text("INSERT INTO e VALUES (100, 'JD-1', '2024-03-02', 'step_completed', '拿地'), "
                         "(101, 'JD-9', '2024-03-02', 'step_completed', '签约'), "
                         "(102, NULL, '2024-03-02', 'step_completed', '签约'), "
                         "(103, 'JD-3', '2024-13-45', 'step_completed', '签约')"))
    conn.commit()


def test_rejects_name_the_table_row_and_column(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "bad.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _bad_tables(conn)
    code = evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", url, "--projects", "p", "--events", "e",
                    "-o", f"{url}#w", "--quiet")
    assert code == 1  # rejects, without --allow-rejects
    with engine.connect() as conn:
        rejects = {(r.file, r.locator): r for r in conn.execute(sa.text("SELECT * FROM w_rejects ORDER BY seq"))}
        notices = [r.notice for r in conn.execute(sa.text("SELECT * FROM w_notices"))]
        warned = {r.project_id for r in conn.execute(sa.text("SELECT project_id FROM w"))}
    assert set(rejects) == {("p", "row 11"), ("p", "row 12"), ("e", "row 103"), ("e", "row 101"), ("e", "row 102")}
    assert rejects["p", "row 11"].field == "行业" and "火星" in rejects["p", "row 11"].message
    assert rejects["p", "row 12"].field == "项目代码" and "row 10" in rejects["p", "row 12"].message  # duplicate
    # JD-3 (p row 13) is rejected at its event's bad cell, as a file's project is
    assert rejects["e", "row 103"].project_id == "JD-3" and rejects["e", "row 103"].field == "日期"
    assert rejects["e", "row 101"].project_id == "JD-9" and "不在项目表 p 中" in rejects["e", "row 101"].message
    assert rejects["e", "row 102"].field == "项目代码" and "缺少项目代码" in rejects["e", "row 102"].message
    assert any("合计" in n for n in notices)  # the total row: a notice, not a project
    assert warned == {"JD-1"}  # JD-1's event (拿地) went to its first row only


def test_a_code_repeated_in_a_later_batch_reads_as_in_one_batch(tmp_path: Path) -> None:
    """Batches are how the reading is cut, never what it finds: JD-1 again in a later batch
    is the same duplicate, and its events went to the first JD-1, not to an orphan reject."""
    url = _sqlite(tmp_path / "bad.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _bad_tables(conn)

    def read(batch: int) -> list[tuple[str, str, str | None, str]]:
        return [(r.reject.file, r.reject.locator, r.reject.field, r.reject.message)
                for r in db.read_histories(engine, projects="p", events="e", batch=batch)
                if isinstance(r, Record) and r.reject is not None]

    whole = read(500)
    assert [(f, loc) for f, loc, _, _ in whole] == [("p", "row 11"), ("p", "row 12"), ("e", "row 103"),
                                                     ("e", "row 101"), ("e", "row 102")]
    assert read(1) == read(2) == whole


def test_a_missing_table_column_or_driver_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _sqlite(tmp_path / "bad.db")
    with sa.create_engine(url).connect() as conn:
        _bad_tables(conn)
        conn.execute(sa.text("CREATE TABLE e2 (项目代码 TEXT, 类型 TEXT)"))
        conn.commit()
    base = ["--pack", "jiande", "--as-of", AS_OF]
    cases = [
        ([*base, "--db", url, "--projects", "nope", "--events", "e"], "--projects nope: no such table"),
        ([*base, "--db", url, "--projects", "p", "--events", "e2"], "missing required column 日期"),
        ([*base, "--db", "postgresql+nosuchdriver://u:secret@h/d", "--projects", "p"], "no SQLAlchemy dialect"),
        ([*base, "--db", "not a url", "--projects", "p"], "not a database URL"),
        ([*base, "--db", "sqlite:///" + str(tmp_path / "no" / "x.db"), "--projects", "p"], "cannot connect"),
        ([*base, "--db", url, "--sql-projects", "SELECT * FROM nowhere"], "--sql-projects: the query fails"),
        ([*base, "--db", url, "--projects", "p", "-o", "sqlite:///x.db"], "-o URL#TABLE"),
        ([*base, "--db", url, "--projects", "p", "-o", f"{url}#w", "--format", "csv"], "--format is for files"),
        ([*base, "--projects", "p", "x.jsonl"], "--projects goes with --db"),
        ([*base], "required: FILE (or --db URL)"),
        ([*base, "--db", url], "--projects TABLE or --sql-projects SQL"),
    ]
    try:
        import pymysql  # noqa: F401
    except ImportError:
        cases.append(([*base, "--db", "mysql+pymysql://u:secret@127.0.0.1/d", "--projects", "p"],
                      "driver for mysql+pymysql is not installed"))
    for argv, words in cases:
        assert main(["evaluate", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("lifecycle-rules: ") and words in err, (argv, err)
        assert "secret" not in err and "Traceback" not in err


def test_reading_streams_in_bounded_batches(jiande: list[dict[str, Any]], tmp_path: Path) -> None:
    engine = sa.create_engine(_sqlite(tmp_path / "h.db"))
    with engine.connect() as conn:
        load_histories(conn, jiande[:50])
    statements: list[tuple[str, Any]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    stats: dict[str, int] = {}
    items = db_records(engine, projects="projects", events="events", mapping=load_mapping(), batch=7, stats=stats)
    first = [next(items) for _ in range(3)]  # a note (the unused column), then projects
    assert stats == {"projects": 1, "event_batches": 1, "orphans": 0}  # lazily: one batch so far
    rest = list(items)
    # Projects come unread (Rows): their cells are read where they are evaluated.
    assert sum(isinstance(r, Rows) for r in [*first, *rest]) == 50
    records = [x for r in [*first, *rest] for x in (read_rows(r) if isinstance(r, Rows) else [r])
               if isinstance(x, Record)]
    assert len(records) == 50 and all(r.reject is None for r in records)
    assert stats == {"projects": 1, "event_batches": 8, "orphans": 1}  # ceil(50 / 7) event queries
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT") and "IN (" in s]
    assert len(selects) == 8 and max(len(p) for _, p in selects) <= 7  # each IN list one batch's codes
    # Same-day events keep the events table's order (its key), as in the history given.
    by_id = {h["project"]["id"]: h for h in jiande[:50]}
    for r in records:
        assert isinstance(r.history, dict)
        given = sorted(by_id[r.history["project"]["id"]]["events"], key=lambda e: e["date"])
        assert [(e["date"], e["type"]) for e in r.history["events"]] == [(e["date"], e["type"]) for e in given]


def _run_into(url: str, table: str, histories: Sequence[dict[str, Any]], tmp_path: Path, *more: object) -> int:
    db_url = _sqlite(tmp_path / "in.db")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        for t in ("projects", "events"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))
        conn.commit()
        load_histories(conn, histories)
    return evaluate("--pack", "jiande", "--as-of", AS_OF, "--db", db_url, "--projects", "projects", "--events",
                    "events", "-o", f"{url}#{table}", "--quiet", "--db-batch", "25", *more)


def test_a_rerun_and_changed_data_leave_exactly_the_new_rows(jiande: list[dict[str, Any]], expected: list[str],
                                                              tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "out.db")
    engine = sa.create_engine(url)
    assert _run_into(url, "w", jiande, tmp_path) == 0
    assert _run_into(url, "w", jiande, tmp_path) == 0
    assert table_rows(engine, "w") == expected  # no second copy
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT run_id, status, warnings FROM w_runs ORDER BY started_at")).all()
        stamped = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT run_id FROM w"))}
    assert [r.status for r in runs] == ["complete", "complete"] and stamped == {runs[-1].run_id}
    assert runs[-1].warnings == len(expected)
    # Changed data: half the projects gone, one made bad: their warnings go, the reject comes.
    changed = [dict(h) for h in jiande[::2]]
    changed[0] = {**changed[0], "project": {**changed[0]["project"], "sector": "火星"}}
    assert _run_into(url, "w", changed, tmp_path) == 1
    write_jsonl(tmp_path / "c.jsonl", changed)
    assert evaluate("--pack", "jiande", "--as-of", AS_OF, tmp_path / "c.jsonl", "-o", tmp_path / "c.jsonl.out.jsonl",
                    "--quiet") == 1
    assert table_rows(engine, "w") == jsonl_rows(tmp_path / "c.jsonl.out.jsonl") != expected
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM w_rejects")).scalar() == 1
        # Fixed again: the reject is gone too.
    assert _run_into(url, "w", jiande, tmp_path) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM w_rejects")).scalar() == 0
    assert table_rows(engine, "w") == expected


def test_another_day_and_another_pack_stand_beside(jiande: list[dict[str, Any]], expected: list[str],
                                                   tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "out.db")
    engine = sa.create_engine(url)
    assert _run_into(url, "w", jiande, tmp_path) == 0
    assert _run_into(url, "w", jiande, tmp_path, "--as-of", "2025-03-31") == 0  # the later --as-of wins
    with engine.connect() as conn:
        days = dict(conn.execute(sa.text("SELECT as_of, count(*) FROM w GROUP BY as_of")).all())
    assert set(days) == {"2025-03-31", AS_OF} and days[AS_OF] == len(expected)


def test_a_failure_midway_leaves_whole_batches_and_a_rerun_one_copy(jiande: list[dict[str, Any]],
                                                                    expected: list[str], tmp_path: Path) -> None:
    from lifecycle_rules.io.batch import run
    from lifecycle_rules.pack.plugins import load_pack

    url = _sqlite(tmp_path / "h.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        load_histories(conn, jiande)
    pack = load_pack("jiande")
    day = dt.date.fromisoformat(AS_OF)

    def attempt(fail_after: int | None, upsert: bool | None = None) -> db.DbOutputs:
        out = db.DbOutputs(engine.connect(), "w", None, as_of=day, pack=pack.label, digest=pack.digest,
                           batch_rows=10, upsert=upsert, owns_connection=True)
        written = 0

        def write(row: dict[str, Any]) -> None:
            nonlocal written
            written += 1
            if fail_after is not None and written > fail_after:
                raise RuntimeError("the disk is full")
            out.write(row)

        records = db.read_histories(engine, projects="projects", events="events")
        with out:
            run(pack.source, {}, records, day, write, out.reject, out.notice, pack=pack)
        return out

    with pytest.raises(RuntimeError):
        attempt(35)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM w")).scalar()
        status = conn.execute(sa.text("SELECT status FROM w_runs")).scalar()
    assert count is not None and 0 < count < len(expected) and status == "failed"
    assert count % 10 != 0 or count <= 35  # whole batches only: never the rows of the failed one
    attempt(None)
    assert table_rows(engine, "w") == expected
    attempt(None, upsert=False)  # the generic path (delete the batch's keys, insert) is idempotent too
    assert table_rows(engine, "w") == expected


def test_a_table_without_the_key_takes_the_generic_path(jiande: list[dict[str, Any]], expected: list[str],
                                                       tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "out.db")
    engine = sa.create_engine(url)
    md = sa.MetaData()
    keyless = result_tables("w", metadata=md)[0]
    keyless.primary_key = sa.PrimaryKeyConstraint()  # someone's own table: no key on (as_of, pack, key)
    for c in keyless.columns:
        c.primary_key = False
    with engine.begin() as conn:
        md.create_all(conn, tables=[keyless])
    for _ in range(2):
        assert _run_into(url, "w", jiande, tmp_path) == 0
    assert table_rows(engine, "w") == expected


def test_missing_columns_of_an_existing_output_table(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     jiande: list[dict[str, Any]]) -> None:
    url = _sqlite(tmp_path / "out.db")
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE w (key TEXT, as_of DATE)"))
    assert _run_into(url, "w", jiande[:5], tmp_path) == 2
    err = capsys.readouterr().err
    assert "table w exists without column(s) project_id" in err and err.count("\n") == 1

