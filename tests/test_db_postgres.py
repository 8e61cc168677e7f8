"""Databases in and out against a real PostgreSQL server: every built-in pack's 2,000
histories give through ``evaluate --db ... -o URL#TABLE`` exactly the warnings the file
path gives, and a run killed (SIGKILL) between its batches leaves no duplicate once re-run.

Run with ``LR_INTEGRATION=1`` (``.ci/run`` does, as a step of its own); skipped by the
test command. The server: ``LR_PG_URL`` if set (``.ci/run`` starts one with scripts/postgres.sh), else
one started here in a temporary directory if ``initdb`` is on PATH, else the tests skip;
but where ``CI`` is set a missing server fails them (a real part is really tested)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_runs import SAME_SEED, SAME_SIZE
from test_db import AS_OF, ROOT, evaluate, jsonl_rows, load_histories, pack_histories, table_rows, write_jsonl

from lifecycle_rules.io.db_write import result_tables

PACKS = ("jiande", "luohe", "tongjiang", "wushan", "jiangyin")
N = SAME_SIZE

# Most of a minute against a real server, run as a step of its own: .ci/run
# (LR_INTEGRATION=1, LR_PG_URL), and here on asking (LR_INTEGRATION=1).
if not os.environ.get("LR_INTEGRATION"):
    pytest.skip("a real PostgreSQL run (most of a minute): .ci/run runs it, LR_INTEGRATION=1 runs it here",
                allow_module_level=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    given = os.environ.get("LR_PG_URL")
    if given:
        yield given
        return
    if shutil.which("initdb") is None:
        why = "no PostgreSQL server: set LR_PG_URL, or put initdb, pg_ctl and postgres on PATH"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    # Not under pytest's own temporary folder: as root the server runs as the user postgres,
    # which must reach its directory (pytest's is private to root).
    folder = Path(tempfile.mkdtemp(prefix="lr-postgres-"))
    started = subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "start", str(folder)],
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop", str(folder)], timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    """A schema of the test's own (two test processes may share one server)."""
    name = f"lr_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        engine.dispose()


def _load(url: str, schema: str, histories: list[dict[str, Any]]) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.connect() as conn:
        load_histories(conn, histories)
    return engine


def _file_path(pack: str, histories: list[dict[str, Any]], folder: Path) -> list[str]:
    write_jsonl(folder / "h.jsonl", histories)
    assert evaluate("--pack", pack, "--as-of", AS_OF, folder / "h.jsonl", "-o", folder / "out.jsonl",
                    "--quiet", "--allow-rejects") == 0
    return jsonl_rows(folder / "out.jsonl")


def _rejects(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8").splitlines()) if path.exists() else []


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_gives_the_file_paths_warnings(pack: str, pg_url: str, schema: str, tmp_path: Path) -> None:
    histories = pack_histories(pack, N, SAME_SEED)
    expected = _file_path(pack, histories, tmp_path)
    assert len(expected) > N // 10
    engine = _load(pg_url, schema, histories)
    code = evaluate("--pack", pack, "--as-of", AS_OF, "--db", pg_url, "--projects", f"{schema}.projects",
                    "--events", f"{schema}.events", "-o", f"{pg_url}#{schema}.warnings", "--quiet",
                    "--allow-rejects")
    assert code == 0
    assert table_rows(engine, "warnings") == expected
    with engine.connect() as conn:
        rejects = conn.execute(sa.text("SELECT count(*) FROM warnings_rejects")).scalar()
        status = conn.execute(sa.text("SELECT status FROM warnings_runs")).scalar()
    assert rejects == len(_rejects(tmp_path / "out.jsonl.rejects.jsonl")) and status == "complete"


def test_a_run_killed_midway_and_rerun_leaves_one_copy(pg_url: str, schema: str, tmp_path: Path) -> None:
    histories = pack_histories("jiande", N)
    expected = _file_path("jiande", histories, tmp_path)
    engine = _load(pg_url, schema, histories)
    warnings = result_tables("warnings", schema)[0]
    argv = ["evaluate", "--pack", "jiande", "--as-of", AS_OF, "--db", pg_url, "--projects", f"{schema}.projects",
            "--events", f"{schema}.events", "-o", f"{pg_url}#{schema}.warnings", "--quiet", "--db-batch", "50"]
    count_query = sa.select(sa.func.count()).select_from(warnings)
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle_rules", *argv], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        count = 0
        with engine.connect() as conn:
            while time.monotonic() < deadline and proc.poll() is None:
                made = conn.execute(sa.text(f"SELECT to_regclass('{schema}.warnings')")).scalar()
                count = (conn.execute(count_query).scalar() or 0) if made is not None else 0
                conn.rollback()
                if count > 0:  # a batch committed: kill the run before its last
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed midway ({count} rows)"
    with engine.connect() as conn:
        left = conn.execute(count_query).scalar() or 0
        status = conn.execute(sa.text("SELECT status FROM warnings_runs")).scalar()
    assert 0 < left < len(expected) and status == "running"  # some batches, not all; the run not complete
    assert evaluate(*argv[1:]) == 0  # the re-run, in this process
    assert table_rows(engine, "warnings") == expected
    with engine.connect() as conn:
        total, keys = conn.execute(sa.text("SELECT count(*), count(DISTINCT key) FROM warnings")).one()
        runs = [r.status for r in conn.execute(sa.text("SELECT status FROM warnings_runs ORDER BY started_at"))]
    assert total == keys == len(expected) and runs == ["running", "complete"]
    assert json.loads(expected[0])["as_of"] == AS_OF
