"""Nothing lost on the way out, for real: concurrent runs, full and read-only disks, stale
side files, control characters in a worksheet, SIGTERM, a killed worker, a killed parent.

The faults are real: subprocesses and signals, tmpfs mounts (as root; skipped where
mounting is not allowed), /proc for the workers. About 20 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from lifecycle_rules.io.cli import main

ROOT = Path(__file__).resolve().parent.parent
EVALUATE = ["evaluate", "--pack", "jiande", "--as-of", "2025-06-30"]
GOOD = ('{"project": {"id": "%s", "name": "%s", "sector": "industrial", "investment_wan": 30000}, '
        '"events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"}, '
        '{"date": "2024-03-02", "type": "step_completed", "step": "拿地"}]}')
NOTED = ('{"project": {"id": "%s", "sector": "industrial", "investment_wan": 30000, "colour": "red"}, '
         '"events": [{"date": "2024-01-10", "type": "step_completed", "step": "签约"}]}')


# ------------------------------------------------------------------ helpers


def cli(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:
        pytest.fail(f"traceback leaked from the CLI: {type(exc).__name__}: {str(exc)[:300]}")
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, err: str, expected: int, *needles: str) -> str:
    lines = err.splitlines()
    assert code == expected, err
    assert len(lines) == 1 and lines[0].startswith("lifecycle-rules: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def spawn(argv: list[Any], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "lifecycle_rules", *(str(a) for a in argv)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def until(what: Callable[[], Any], timeout: float = 20.0, step: float = 0.02) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(x) for x in (task / "children").read_text().split()]
    return found


def workers(pid: int) -> list[int]:
    """The run's worker processes: its children (forked), or a fork server's."""
    found = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" in command:
            found += children(child)
        elif b"resource_tracker" not in command:
            found.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a dead process nobody reaped is gone for our purpose)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any read of an input fails the test: output errors come first."""
    import lifecycle_rules.io.progress as progress
    import lifecycle_rules.io.readers as readers

    def read(*args: Any, **kwargs: Any) -> Any:
        pytest.fail(f"an input was read: {args}")

    for module, name in ((progress, "count_lines"), (readers, "jsonl_blocks"), (readers, "read_histories")):
        monkeypatch.setattr(module, name, read)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """mount(name, size, ro): a tiny tmpfs under tmp_path; the test is skipped if mounting fails."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "64k", ro: bool = False) -> Path:
        where = tmp_path / name
        where.mkdir()
        options = f"size={size}" + (",ro" if ro else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 realistic histories (benchmarks/synth.py, 400 drawn, each copied 50 times)."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.synth import histories
    finally:
        sys.path.remove(str(ROOT))
    lines = []
    for h in histories(400, seed=11):
        pid = h["project"]["id"]
        text = json.dumps(h, ensure_ascii=False)
        lines += [text.replace(f'"{pid}"', f'"{pid}-{k:02d}"', 1) for k in range(50)]
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def kill_leftovers() -> Iterator[list[int]]:
    """Pids a test started: any still running at the end is killed (never leak processes)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        for child in children(pid):
            pids.append(child)
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ two runs, one target


def test_a_second_run_for_the_same_output_is_refused_and_the_first_completes(tmp_path: Path, big: Path,
                                                                            kill_leftovers: list[int]) -> None:
    out = tmp_path / "out.jsonl"
    first = spawn([*EVALUATE, big, "-o", out], tmp_path)
    kill_leftovers.append(first.pid)
    until(lambda: (tmp_path / ".out.jsonl.lock").exists() or _partial(tmp_path))
    second = spawn([*EVALUATE, big, "-o", out], tmp_path)
    _, err2 = second.communicate(timeout=60)
    one_line(second.returncode, err2, 2, f"-o {out}: another run (pid {first.pid}) is writing it")
    _, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["project_id"] for line in lines)
    levels = err1.split("warnings: ")[1].split(";")[0]  # "yellow 0, orange 123, red 456"
    assert len(lines) == sum(int(part.split()[1]) for part in levels.split(", "))
    assert names(tmp_path) == ["out.jsonl"]  # no lock file, no temporary file


# ------------------------------------------------------------------ outputs against inputs and each other


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        pytest.param(["-o", "{tmp}/out.jsonl", "--notices", "{tmp}/out.jsonl"],
                     "--notices {tmp}/out.jsonl: is also -o {tmp}/out.jsonl", id="notices-is-output"),
        pytest.param(["-o", "{tmp}/out.jsonl", "--rejects", "{tmp}/sub/../out.jsonl"],
                     "--rejects {tmp}/sub/../out.jsonl: is also -o", id="rejects-is-output-resolved"),
        pytest.param(["-o", "{tmp}/out.jsonl", "--rejects", "{tmp}/r.jsonl", "--notices", "{tmp}/sub/../r.jsonl"],
                     "--notices {tmp}/sub/../r.jsonl: is also --rejects", id="notices-is-rejects"),
        pytest.param(["-o", "{tmp}/out.jsonl", "--notices", "{tmp}/out.jsonl.rejects.jsonl"],
                     "is also rejects file {tmp}/out.jsonl.rejects.jsonl", id="notices-is-default-rejects"),
        pytest.param(["-o", "{tmp}/cal.jsonl", "--calendar", "{tmp}/cal.jsonl"],
                     "-o {tmp}/cal.jsonl: is an input", id="output-is-calendar"),
    ],
)
def test_every_output_is_checked_against_inputs_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, extra: list[str],
                                                            needle: str) -> None:
    (tmp_path / "sub").mkdir()
    src = tmp_path / "in.jsonl"
    src.write_text(GOOD % ("A-1", "甲") + "\n", encoding="utf-8")
    (tmp_path / "cal.jsonl").write_text("2027:\n  holidays: []\n  workdays: []\n", encoding="utf-8")
    import lifecycle_rules.io.cli as cli_module

    monkeypatch.setattr(cli_module, "_run_calendar", lambda files: None)
    no_reading(monkeypatch)
    before = names(tmp_path)
    code, out, err = cli([*EVALUATE, src, *(x.format(tmp=tmp_path) for x in extra)], capsys)
    one_line(code, err, 2, needle.format(tmp=tmp_path))
    assert out == "" and names(tmp_path) == before


# ------------------------------------------------------------------ the disk says no


def test_a_read_only_directory_is_refused_before_reading(tmp_path: Path, tmpfs: Callable[..., Path],
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmpfs("ro", ro=True)
    src = tmp_path / "in.jsonl"
    src.write_text(GOOD % ("A-1", "甲") + "\n", encoding="utf-8")
    no_reading(monkeypatch)
    for extra in (["-o", ro / "out.xlsx"], ["-o", tmp_path / "out.csv", "--rejects", ro / "r.jsonl"]):
        code, _, err = cli([*EVALUATE, src, *extra], capsys)
        one_line(code, err, 2, f"{extra[-2]} {extra[-1]}: cannot write in", "Read-only file system")
    assert names(ro) == [] and names(tmp_path) == ["in.jsonl", "ro"]


@pytest.mark.parametrize("overflows", ["rejects", "output"])
def test_a_full_disk_leaves_nothing(tmp_path: Path, tmpfs: Callable[..., Path], capsys: pytest.CaptureFixture[str],
                                    overflows: str) -> None:
    full = tmpfs("full", size="64k")
    src = tmp_path / "in.jsonl"
    if overflows == "rejects":  # a small output that fits, 2,000 rejects that do not
        lines = [GOOD % ("A-1", "甲")] + [f"not json {'x' * 80} {i}" for i in range(2000)]
    else:
        lines = [GOOD % (f"A-{i}", "甲" * 40) for i in range(2000)] + ["not json"]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = full / "out.jsonl"
    old.write_text("the previous output\n", encoding="utf-8")
    code, _, err = cli([*EVALUATE, src, "-o", old], capsys)
    where = f"{old}.rejects.jsonl" if overflows == "rejects" else f"-o {old}"
    one_line(code, err, 2, f"{where}: No space left on device; nothing was written")
    assert names(full) == ["out.jsonl"] and old.read_text(encoding="utf-8") == "the previous output\n"


# ------------------------------------------------------------------ side files of the same output


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


@pytest.mark.parametrize("explicit", [False, True])
def test_stale_side_files_go_with_the_next_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  explicit: bool) -> None:
    noisy, clean = tmp_path / "noisy.jsonl", tmp_path / "clean.jsonl"
    noisy.write_text("\n".join([GOOD % ("A-1", "甲"), "not json", NOTED % "A-2"]) + "\n", encoding="utf-8")
    clean.write_text(GOOD % ("A-1", "甲") + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, err = cli([*EVALUATE, noisy, "-o", out, "--jobs", "2"], capsys)
    assert code == 1, err
    # The office's CSV has its rejects and notices in CSV files beside it.
    assert [r["行"] for r in _csv_rows(tmp_path / "out.csv.rejects.csv")] == ["2"]
    assert [n["项目代码"] for n in _csv_rows(tmp_path / "out.csv.notices.csv")] == ["A-2"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # not mkstemp's 0600
    # The contract's form of the same output: JSON Lines beside it, the CSV side files of the
    # other form gone with the commit.
    code, _, err = cli([*EVALUATE, noisy, "-o", out, "--columns", "contract"], capsys)
    assert code == 1, err
    rejects = (tmp_path / "out.csv.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    notices = (tmp_path / "out.csv.notices.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["locator"] for x in rejects] == ["line 2"]
    assert [json.loads(x)["project_id"] for x in notices] == ["A-2"]
    assert names(tmp_path) == ["clean.jsonl", "noisy.jsonl", "out.csv", "out.csv.notices.jsonl",
                               "out.csv.rejects.jsonl"]
    side = ["--rejects", tmp_path / "r.jsonl", "--notices", tmp_path / "n.jsonl"] if explicit else []
    code, _, err = cli([*EVALUATE, clean, "-o", out, *side], capsys)
    assert code == 0, err
    assert names(tmp_path) == ["clean.jsonl", "noisy.jsonl", "out.csv"]


# ------------------------------------------------------------------ a worksheet cannot hold everything


def test_a_control_character_in_a_name_is_escaped_in_xlsx_with_a_notice(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([GOOD % ("A-1", "甲"), GOOD % ("A-2", "bad\\u0007name"),
                              GOOD % ("A-3", "=1+1")]) + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    code, _, err = cli([*EVALUATE, src, "-o", out], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    warnings, notes = book["预警"], book["说明"]
    rows = list(warnings.iter_rows(values_only=True))
    header = list(rows[0])
    name, message = header.index("项目名称"), header.index("预警内容")
    by_project = {row[0]: row for row in rows[1:]}
    assert "bad\\u0007name" in by_project["A-2"][message] and "\x07" not in by_project["A-2"][message]
    assert by_project["A-2"][name] == "bad\\u0007name"
    assert by_project["A-3"][name] == "=1+1" and by_project["A-3"][message].startswith("=1+1（A-3）")
    assert {warnings.cell(4, c + 1).data_type for c in (name, message)} == {"s"}  # text, not a formula
    notices = list(notes.iter_rows(values_only=True))
    book.close()
    # The notice is a row of the workbook's 说明 sheet: the file, the row in 预警, the project.
    assert [n[:3] for n in notices[1:]] == [(str(out), 3, "A-2")]
    assert notices[1][3].startswith("输出：项目名称、预警内容 ")
    assert names(tmp_path) == ["in.jsonl", "out.xlsx"]
    # The contract's XLSX keeps its notices file beside it.
    code, _, err = cli([*EVALUATE, src, "-o", out, "--columns", "contract"], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    messages = {row[0]: row[11] for row in rows[1:]}
    assert "bad\\u0007name" in messages["A-2"] and "\x07" not in messages["A-2"]
    assert messages["A-3"].startswith("=1+1（A-3）")  # text, not a formula
    notices = [json.loads(x) for x in (tmp_path / "out.xlsx.notices.jsonl").read_text("utf-8").splitlines()]
    assert [(n["file"], n["locator"], n["project_id"]) for n in notices] == [(str(out), "row 3", "A-2")]
    assert notices[0]["notice"].startswith("output: 提示内容: ")


# ------------------------------------------------------------------ signals and processes


def _partial(folder: Path) -> list[Path]:
    """The main output's temporary file (not those of the side files, .out.jsonl.rejects.jsonl.*)."""
    return [p for p in folder.glob(".out.jsonl*.partial") if not p.name.startswith((".out.jsonl.rejects",
                                                                                  ".out.jsonl.notices"))]


def test_sigterm_removes_every_temporary_file(tmp_path: Path, big: Path, kill_leftovers: list[int]) -> None:
    run = spawn([*EVALUATE, big, "-o", tmp_path / "out.jsonl"], tmp_path)
    kill_leftovers.append(run.pid)
    until(lambda: _partial(tmp_path) and _partial(tmp_path)[0].stat().st_size > 0)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=30)
    one_line(run.returncode, err, 143, "terminated by SIGTERM; no output was completed")
    assert names(tmp_path) == []


def test_a_killed_worker_stops_the_run_with_one_line(tmp_path: Path, big: Path, kill_leftovers: list[int]) -> None:
    run = spawn([*EVALUATE, big, "-o", tmp_path / "out.jsonl", "--jobs", "2"], tmp_path)
    kill_leftovers.append(run.pid)
    pool = until(lambda: len(workers(run.pid)) >= 2 and workers(run.pid))
    # At once: the two workers have 20,000 histories before them (waiting for output too
    # could let a fast run finish first).
    os.kill(pool[0], signal.SIGKILL)
    _, err = run.communicate(timeout=30)
    one_line(run.returncode, err, 2, f"a worker process (pid {pool[0]}) was killed by SIGKILL",
             "nothing was written")
    assert names(tmp_path) == []
    until(lambda: not any(running(pid) for pid in pool), timeout=5)


def test_workers_die_with_their_parent(tmp_path: Path, big: Path, capsys: pytest.CaptureFixture[str],
                                       kill_leftovers: list[int]) -> None:
    out = tmp_path / "out.jsonl"
    run = spawn([*EVALUATE, big, "-o", out, "--jobs", "2"], tmp_path)
    kill_leftovers.append(run.pid)
    pool = until(lambda: len(workers(run.pid)) >= 2 and workers(run.pid))
    kill_leftovers += pool
    until(lambda: _partial(tmp_path))
    run.kill()
    run.communicate(timeout=10)
    until(lambda: not any(running(pid) for pid in pool), timeout=5)
    # The killed run left its temporary files and lock file, but holds no lock: the next run
    # goes ahead and removes what it left.
    assert _partial(tmp_path) and (tmp_path / ".out.jsonl.lock").exists()
    small = tmp_path / "small.jsonl"
    small.write_text(GOOD % ("A-1", "甲") + "\n", encoding="utf-8")
    code, _, err = cli([*EVALUATE, small, "-o", out], capsys)
    assert code == 0, err
    assert names(tmp_path) == ["out.jsonl", "small.jsonl"]
