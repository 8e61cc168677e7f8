"""The Dask recipe of docs/spark.md on a real LocalCluster (two worker processes on the
loopback): a JSON Lines file cut into line ranges, each range read and evaluated by a
worker through the Arrow seam, gives what the CLI gives on the same file.

Skipped when dask.distributed or pyarrow is missing, but for CI (env ``CI`` set), where
that is a failure: CI installs the ``dask`` extra.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Worker processes of a real cluster, run as a step of its own with the Spark and PostgreSQL
# runs: .ci/run (LR_INTEGRATION=1), and here on asking.
if not os.environ.get("LR_INTEGRATION"):
    pytest.skip("a real Dask LocalCluster: .ci/run runs it, LR_INTEGRATION=1 runs it here", allow_module_level=True)
try:
    import pyarrow as pa
    from dask import delayed
    from distributed import Client, LocalCluster
except ImportError as exc:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test Dask, but the dask extra is not installed ({exc})", pytrace=False)
    pytest.skip(f"the dask extra is not installed ({exc})", allow_module_level=True)

from cli_runs import cli_outputs, normal

from benchmarks.synth import pack_histories
from lifecycle_rules import load_pack
from lifecycle_rules.arrow import OUTPUT_SCHEMA, evaluate_batches, split
from lifecycle_rules.pack.compile import Pack

AS_OF = "2024-11-30"


# The recipe (docs/spark.md, "One big machine: Dask"), as a user would copy it.

def line_ranges(path: Path, lines_per_task: int) -> list[tuple[int, int, int]]:
    """(byte offset, byte end, first line number) of each task's run of lines: the driver
    only finds line ends, the workers read and decode their own range."""
    ranges, start, first, count, offset = [], 0, 1, 0, 0
    with path.open("rb") as f:
        for line in f:
            offset += len(line)
            count += 1
            if count == lines_per_task:
                ranges.append((start, offset, first))
                start, first, count = offset, first + lines_per_task, 0
    if count:
        ranges.append((start, offset, first))
    return ranges


def evaluate_range(path: str, start: int, end: int, first: int, pack: Pack, as_of: str) -> pa.Table:
    """One task: its lines as a batch (``line N`` locators, as the CLI names them), through
    the seam; an OUTPUT_SCHEMA table of warnings, rejects and notices."""
    with open(path, "rb") as f:
        f.seek(start)
        lines = f.read(end - start).split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    batch = pa.RecordBatch.from_pydict({
        "locator": [f"line {first + i}" for i in range(len(lines))],
        "history": pa.array(lines, pa.binary()),
    })
    return pa.Table.from_batches(evaluate_batches([batch], pack, as_of, file=path), schema=OUTPUT_SCHEMA)


def evaluate_file(client: Client, path: Path, pack: Pack, as_of: str, lines_per_task: int = 5000) -> pa.Table:
    """The whole file, a task per range, results in input order."""
    pack_future = client.scatter(pack, broadcast=True)  # the compiled pack, sent once per worker
    tasks = [delayed(evaluate_range)(str(path), s, e, first, pack_future, as_of)
             for s, e, first in line_ranges(path, lines_per_task)]
    return pa.concat_tables(client.compute(tasks, sync=True))


# The test.

@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


@pytest.mark.parametrize("pack", ["luohe", "tongjiang"])
def test_dask_equals_the_cli(client: Client, tmp_path: Path, pack: str) -> None:
    lines = [json.dumps(h, ensure_ascii=False) for h in pack_histories(pack, 400, seed=23)]
    lines.insert(150, "not json")
    lines.insert(300, '{"project": {"id": "BAD-1"}, "events": [{"date": "2024-02-30", "type": "progress"}]}')
    source = tmp_path / f"{pack}.jsonl"
    source.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    warnings, rejects, notices = cli_outputs(source, pack, AS_OF)
    assert warnings and len(rejects) == 2

    output = evaluate_file(client, source, load_pack(pack, as_of=AS_OF), AS_OF, lines_per_task=120)
    got = split(output)
    keys = list(warnings[0])
    assert got.warnings.column_names == keys
    assert normal(got.warnings.to_pylist(), keys) == normal(warnings, keys)
    reject_keys = ["file", "locator", "project_id", "field"]
    assert normal(got.rejects.to_pylist(), reject_keys) == normal(rejects, reject_keys)
    assert {r["locator"] for r in got.rejects.to_pylist()} == {"line 151", "line 301"}
    notice_keys = ["project_id", "file", "locator", "notice", "pack"]
    assert normal(got.notices.to_pylist(), notice_keys) == normal(notices, notice_keys)
    # in input order, whatever worker ran which range: the warnings' projects as the CLI's
    assert [r["project_id"] for r in got.warnings.to_pylist()] == [r["project_id"] for r in warnings]
