"""The Arrow seam (lifecycle_rules.arrow): batches of histories in, batches of warnings,
rejects and notices out, equal to the CLI's on the same histories for every pack."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")

from cli_runs import SAME_SEED, SAME_SIZE  # noqa: E402

from benchmarks.synth import pack_histories  # noqa: E402
from lifecycle_rules import load_pack  # noqa: E402
from lifecycle_rules.arrow import OUTPUT_SCHEMA, WARNING_SCHEMA, evaluate_batches, split  # noqa: E402
from lifecycle_rules.io.cli import main  # noqa: E402

PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")
# With LR_INTEGRATION (CI's step of its own): the histories Spark and PostgreSQL are held to.
SIZE = SAME_SIZE if os.environ.get("LR_INTEGRATION") else 400
AS_OF = "2024-11-30"
BAD = [
    '{"project": {"id": "BAD-1"}, "events": [{"date": "2024-02-30", "type": "step_completed", "step": "签约"}]}',
    "not json",
    '{"project": {"id": "BAD-3", "investment_wan": -5}, "events": []}',
]


def _rows(table: Any) -> list[str]:
    """Rows as sorted JSON, dates as ISO text, as the CLI writes them."""
    out = []
    for row in table.to_pylist():
        row = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}
        out.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    return sorted(out)


def _cli(tmp_path: Path, pack_id: str, lines: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    source, out = tmp_path / f"{pack_id}.jsonl", tmp_path / f"{pack_id}.out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # exit 1: the run wrote everything, and some records were rejected
    assert main(["evaluate", "--pack", pack_id, "--as-of", AS_OF, str(source), "-o", str(out)]) == 1
    warnings = sorted(json.dumps(json.loads(x), sort_keys=True, ensure_ascii=False)
                      for x in out.read_text(encoding="utf-8").splitlines())
    rejects = [json.loads(x) for x in (tmp_path / f"{out.name}.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    return warnings, rejects


@pytest.mark.parametrize("pack_id", PACKS)
def test_the_seam_gives_the_clis_warnings_and_rejects(tmp_path: Path, pack_id: str) -> None:
    lines = [json.dumps(h, ensure_ascii=False) for h in pack_histories(pack_id, SIZE, SAME_SEED)] + BAD
    batches = [pa.RecordBatch.from_pydict({"history": lines[i:i + 128]}) for i in range(0, len(lines), 128)]
    outputs = list(evaluate_batches(batches, pack_id, AS_OF))
    assert len(outputs) == len(batches) and all(b.schema == OUTPUT_SCHEMA for b in outputs)
    parts = split(pa.Table.from_batches(outputs))
    assert parts.warnings.schema == WARNING_SCHEMA
    expected, rejects = _cli(tmp_path, pack_id, lines)
    assert len(expected) > 50
    assert _rows(parts.warnings) == expected
    # The same rejects, each at its row (the CLI's "line N" is row N here).
    got = [(r["locator"], r["project_id"], r["field"], r["error"]) for r in parts.rejects.to_pylist()]
    assert got == [(r["locator"].replace("line", "row"), r["project_id"], r["field"], r["message"]) for r in rejects]
    assert [g[0] for g in got] == [f"row {SIZE + 1}", f"row {SIZE + 2}", f"row {SIZE + 3}"]


def _grouped(histories: list[dict[str, Any]]) -> Any:
    """The two tables grouped by project, as Spark gives them after collect_list: typed
    columns (dates as dates), the events as a list of structs (their notes left out)."""
    fields = ("date", "type", "step", "period", "planned_wan", "actual_wan", "compliant", "warning", "action",
              "until", "severity")
    day = dt.date.fromisoformat
    rows = []
    for h in histories:
        p, plan = h["project"], h.get("plan", {})
        rows.append({
            "project_id": p["id"], "name": p.get("name"), "sector": p.get("sector"),
            "in_development_zone": p.get("in_development_zone"), "investment_wan": p.get("investment_wan"),
            "region": p.get("region"), **{f"plan_{k}": day(v) for k, v in plan.items()},
            "events": [{f: (day(e[f]) if f in ("date", "until") and f in e else e.get(f)) for f in fields}
                       for e in h["events"]],
        })
    return pa.RecordBatch.from_pylist(rows)


@pytest.mark.parametrize("pack_id", ["jiande", "wushan"])
def test_the_two_tables_grouped_by_project_give_what_the_history_column_gives(pack_id: str) -> None:
    histories = list(pack_histories(pack_id, 300, 29))
    for h in histories:  # a progress note is not a column of the events table
        for e in h["events"]:
            e.pop("note", None)
    pack = load_pack(pack_id)
    by_json = split(pa.Table.from_batches(list(evaluate_batches(
        [pa.RecordBatch.from_pydict({"history": [json.dumps(h, ensure_ascii=False) for h in histories]})],
        pack, AS_OF))))
    by_tables = split(pa.Table.from_batches(list(evaluate_batches([_grouped(histories)], pack, AS_OF))))
    assert by_json.warnings.num_rows > 50 and by_tables.rejects.num_rows == 0
    assert _rows(by_tables.warnings) == _rows(by_json.warnings)


def test_grouped_rows_are_read_like_a_sheet_and_named_by_the_locator_column() -> None:
    batch = pa.RecordBatch.from_pylist([
        {"项目代码": "G-1", "行业": "工业", "总投资": "3.5亿", "xmfzr": "张三", "src": "a.parquet#1",
         "events": [{"date": dt.date(2024, 1, 10), "type": "完成", "step": "签约"}]},
        {"项目代码": "G-2", "行业": "火星", "总投资": "-1", "xmfzr": None, "src": "a.parquet#2",
         "events": [{"date": None, "type": "完成", "step": "签约"}]},
        {"项目代码": "G-1", "行业": "工业", "总投资": "1", "xmfzr": None, "src": "b.parquet#9", "events": []},
    ])
    out = split(pa.Table.from_batches(list(evaluate_batches([batch], "jiande", AS_OF, locator_column="src"))))
    rejects = out.rejects.to_pylist()
    assert [(r["locator"], r["project_id"], r["field"]) for r in rejects] == \
        [("a.parquet#2", "G-2", "行业"), ("b.parquet#9", "G-1", "项目代码")]
    assert "火星" in rejects[0]["error"] and "缺少日期" in rejects[0]["error"] and "金额" in rejects[0]["error"]
    assert "row 1" in rejects[1]["error"]  # the first row that had the code
    notices = out.notices.to_pylist()
    assert [n["locator"] for n in notices if "xmfzr" in n["notice"]] == ["column xmfzr"]


def test_nothing_raises_out_of_a_batch_and_codes_repeat_only_when_asked() -> None:
    h = json.dumps(next(iter(pack_histories("jiande", 1, 3))), ensure_ascii=False)
    batch = pa.RecordBatch.from_pydict({"history": [h, None, h.encode(), b"\xff\xfe"]})
    out = split(pa.Table.from_batches(list(evaluate_batches([batch], "jiande", AS_OF))))
    assert [(r["locator"], r["field"]) for r in out.rejects.to_pylist()] == \
        [("row 2", None), ("row 3", "project.id"), ("row 4", None)]
    assert "UTF-8" in out.rejects.to_pylist()[2]["error"] or "utf-8" in out.rejects.to_pylist()[2]["error"]
    again = split(pa.Table.from_batches(list(evaluate_batches([batch], "jiande", AS_OF, check_codes=False))))
    assert again.rejects.num_rows == 2 and again.warnings.num_rows == 2 * out.warnings.num_rows
    with pytest.raises(ValueError, match="list of structs"):
        list(evaluate_batches([pa.RecordBatch.from_pydict({"project_id": ["X"], "events": ["nope"]})],
                              "jiande", AS_OF))


def test_the_compiled_pack_travels_by_pickle_and_every_row_carries_the_run() -> None:
    pack = pickle.loads(pickle.dumps(load_pack("tongjiang")))
    lines = [json.dumps(h, ensure_ascii=False) for h in pack_histories("tongjiang", 50, 5)]
    table = pa.Table.from_batches(list(evaluate_batches([pa.RecordBatch.from_pydict({"history": lines})],
                                                        pack, "2024-11-30")))
    assert set(table.column("kind").to_pylist()) <= {"warning", "notice"}
    assert set(table.column("as_of").to_pylist()) == {dt.date(2024, 11, 30)}
    assert set(table.column("pack_digest").to_pylist()) == {pack.digest}
