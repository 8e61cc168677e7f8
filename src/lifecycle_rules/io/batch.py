"""Batch runs over exported files: read, evaluate (on all cores), write, and account.

Not part of the pure core: this module does I/O. Every input project yields its
results or one reject; output order follows input order whatever the number of jobs;
memory stays flat (a bounded window of chunks is in flight). Each warning is made into
the row its output takes in the process that evaluated it: a JSON line (SPEC §4), the
contract's dict, or the office's row (``office.words.office_row``: the worker has the pack).

Worker processes (``jobs > 1``) die with the process that started them: on Linux each
asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), elsewhere a
watchdog thread checks its parent every second. Workers ignore SIGINT (the run's own
process stops them) and take SIGTERM as the default, ending at once. A worker that dies
(killed, out of memory) stops the run with :class:`WorkerError` naming how it died;
any error or signal in the run's process terminates the other workers before it
propagates, so nothing keeps running.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Any, cast

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.core.engine import evaluate_on
from lifecycle_rules.core.gaps import CALENDAR_NOTICE
from lifecycle_rules.core.results import Result, as_of_day
from lifecycle_rules.errors import HistoryError, LifecycleRulesError
from lifecycle_rules.io.progress import Progress
from lifecycle_rules.io.records import LineBlock, Note, Record, Reject, Rows, undecodable
from lifecycle_rules.io.writers import warning_lines
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.plugins import load_pack

CHUNK = 256


class WorkerError(LifecycleRulesError):
    """A worker process ended while the run needed it (killed, out of memory): the run
    cannot be complete, and its other workers are stopped."""


@dataclass
class Summary:
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    notices: int = 0
    warnings: Counter[str] = field(default_factory=Counter)
    calendar_notices: int = 0
    unknown_years: Counter[int] = field(default_factory=Counter)  # year -> projects that needed it
    skipped: int = 0  # rows that are not projects
    unused_columns: int = 0
    # rule id -> the parameters with no default it needs, not set: the rule found nothing
    inactive: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The run's provenance (SPEC §4: what every row carries): the pack as id@version, its
    # digest (``Pack.digest``), the day, and the parameters set for the run (--param).
    pack: str = ""
    digest: str = ""
    as_of: dt.date | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def provenance(self) -> str:
        """One line: which policy produced the rows (the values every row carries)."""
        given = ", ".join(f"{name}={value}" for name, value in sorted(self.parameters.items()))
        day = self.as_of.isoformat() if self.as_of else "?"
        return (f"pack {self.pack} ({self.digest}), as_of {day}, parameters set: "
                + (given or "none (the pack's defaults)"))

    def lines(self) -> list[str]:
        levels = ", ".join(f"{lv} {self.warnings[lv]}" for lv in ("yellow", "orange", "red"))
        skipped = f", skipped {self.skipped} (not projects: see notices)" if self.skipped else ""
        out = [self.provenance()] if self.pack else []
        out.append(f"read {self.read}, evaluated {self.evaluated}, rejected {self.rejected}{skipped}; "
                   f"warnings: {levels}; notices: {self.notices}")
        if self.unused_columns:
            out.append(f"columns not used: {self.unused_columns} (no field takes them: see notices, "
                       "or map them with --mapping)")
        if self.unknown_years:
            years = ", ".join(f"{y} ({n} project{'s' if n > 1 else ''})"
                              for y, n in sorted(self.unknown_years.items()))
            out.append(f"calendar notices: {self.calendar_notices}: working-day clocks reach {years}, "
                       "whose schedule is not known; those clocks are notices, not warnings, until the "
                       "year is supplied (--calendar FILE; see `lifecycle-rules calendar`)")
        if self.inactive:  # said once for the run, not on every project
            each = "; ".join(f"{rule} ({' '.join(f'--param {n}=VALUE' for n in names)})"
                             for rule, names in self.inactive.items())
            out.append(f"inactive rules: {len(self.inactive)} need a limit the pack does not give (a "
                       f"parameter with no default) and found nothing; set it to activate them: {each}")
        return out


# (file, locator, history: a dict, or a JSON line's text or bytes; the reader's reject;
# the column each field came from, for a sheet's row) or a reader's note
Item = tuple[str, str, Any, Reject | None, Mapping[str, str] | None] | Note
Chunk = list[Item | Rows] | LineBlock
Notice = dict[str, Any]  # {"file", "locator", "project_id", "notice", "as_of", "pack"}


@dataclass
class Out:
    """What a chunk gave, each stream in input order: the main process only adds counts
    and passes the rest on (with JSON Lines output, one encoded block of lines)."""

    read: int = 0
    evaluated: int = 0
    skipped: int = 0  # rows that are not projects (合计, notes under the table)
    unused_columns: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    calendar_notices: int = 0
    unknown_years: Counter[int] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # without JSON Lines output (office rows)
    data: bytes = b""  # with it: the results' lines, each ending in a newline


def history_reject(file: str, locator: str, exc: HistoryError,
                   columns: Mapping[str, str] | None = None) -> Reject:
    """The reject of a record whose history is invalid: its field as ``events[3].date``,
    or, for a sheet's row, the column as the file spells it and the problem in Chinese."""
    field_name = exc.field
    if exc.event_index is not None:
        field_name = f"events[{exc.event_index}]" + (f".{exc.field}" if exc.field else "")
    if columns is not None:
        column = columns.get(exc.field or "") if exc.event_index is None else \
            columns.get(f"events[{exc.event_index}]")
        return Reject(file, locator, exc.project_id, column or field_name, in_chinese(exc.detail))
    return Reject(file, locator, exc.project_id, field_name, exc.detail)


# What the history's validation says, in the words of a sheet's reader (pydantic's and
# the engine's messages, by their opening words); anything else is shown as it is.
def evaluated(run_one: Callable[[Pack, Any, dt.date, bool], Result], pack: Pack, history: Any, as_of: dt.date,
              include_closed: bool, file: str, locator: str, columns: Mapping[str, str] | None = None,
              encoding: str = "utf-8-sig") -> Result | Reject:
    """A history's result (``run_one``: ``evaluate_on`` or another engine), or the reject of
    one that does not validate: a history of bytes that are not UTF-8 is said to be that
    (read as ``encoding``), not a JSON error at some byte."""
    try:
        return run_one(pack, history, as_of, include_closed)
    except HistoryError as exc:
        if isinstance(history, bytes):
            try:
                history.decode("utf-8")
            except UnicodeDecodeError:
                return Reject(file, locator, None, None, undecodable(encoding))
        return history_reject(file, locator, exc, columns)


_CHINESE = (
    (re.compile(r"String should have at most (\d+) characters?"), "超过 {0} 个字符"),
    (re.compile(r"String should have at least 1 character"), "不能为空"),
    (re.compile(r"Input should be greater than or equal to 0"), "不能为负数"),
    (re.compile(r"unknown step '([^']*)' for pack (\S+)"), "环节“{0}”不是规则包 {1} 的环节、别名或里程碑词"),
    (re.compile(r"unknown event type '([^']*)' for pack (\S+)"), "事件类型“{0}”不是规则包 {1} 的事件类型"),
    (re.compile(r"a date between (\S+) and (\S+) is expected"), "日期须在 {0} 至 {1} 之间"),
)


def in_chinese(message: str) -> str:
    for pattern, words in _CHINESE:
        found = pattern.search(message)
        if found:
            return words.format(*found.groups())
    return message


def _items(chunk: Chunk) -> Iterable[Item]:
    if isinstance(chunk, LineBlock):
        rejected = chunk.rejected
        return ((chunk.file, locator, None if locator in rejected else line, rejected.get(locator), None)
                for locator, line in chunk.lines())
    if any(isinstance(item, Rows) for item in chunk):
        return _read(chunk)
    return cast(list[Item], chunk)


def _read(chunk: list[Item | Rows]) -> Iterator[Item]:
    """A chunk's deferred rows read here, in the process that evaluates them."""
    from lifecycle_rules.io.readers.tables import read_rows

    for item in chunk:
        if not isinstance(item, Rows):
            yield item
            continue
        for rec in read_rows(item):
            yield rec if isinstance(rec, Note) else (rec.file, rec.locator, rec.history, rec.reject, rec.columns)


def _evaluate_chunk(pack: Pack, as_of: dt.date, include_closed: bool, as_lines: bool,
                    chunk: Chunk, engine: str = "native", office: bool = False) -> Out:
    out = Out()
    lines: list[dict[str, Any]] = []  # the warnings' fields, in SPEC §4 order (``warning_lines``)
    day, label = as_of.isoformat(), pack.label  # each notice says which run it is of
    if office:
        from lifecycle_rules.office.words import office_row
    run_one: Callable[[Pack, Any, dt.date, bool], Result]
    if engine == "native":
        as_of = as_of_day(as_of)  # once for the chunk, not for each history
        run_one = evaluate_on
    else:
        from lifecycle_rules.engines import get_engine  # only when another engine is named

        run_one = get_engine(engine)
    for item in _items(chunk):
        if isinstance(item, Note):
            out.notices.append({"file": item.file, "locator": item.locator, "project_id": None,
                                "notice": item.text, "as_of": day, "pack": label})
            if item.kind == "skipped":
                out.read += 1
                out.skipped += 1
            elif item.kind == "column":
                out.unused_columns += 1
            continue
        file, locator, history, rejected, columns = item
        out.read += 1
        if rejected is not None:
            out.rejects.append(rejected)
            continue
        result = evaluated(run_one, pack, history, as_of, include_closed, file, locator, columns)
        if isinstance(result, Reject):
            out.rejects.append(result)
        else:
            out.evaluated += 1
            out.notices += [{"file": file, "locator": locator, "project_id": result.project_id,
                             "notice": n, "as_of": day, "pack": label} for n in result.notices]
            if result.unknown_years:
                out.unknown_years.update(result.unknown_years)
                out.calendar_notices += sum(n.startswith(CALENDAR_NOTICE) for n in result.notices)
            for w in result.warnings:
                out.levels[w.level] += 1
                if as_lines:
                    lines.append(w.__dict__)
                else:
                    out.rows.append(office_row(pack, result, w) if office else w.to_dict())
    if lines:
        out.data = warning_lines(lines)
    return out


_WORKER: dict[str, Any] = {}
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int | None) -> None:
    """This process ends when the one that started it does: the kernel's parent-death
    signal on Linux, a watchdog thread elsewhere (or if prctl is not there). ``parent``:
    the pool's process when workers are forked from it (else a fork server starts them)."""
    ppid = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == ppid:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="lifecycle-rules-parent-watch", daemon=True).start()
    if os.getppid() != ppid or ppid == 1 or parent not in (None, ppid):  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def _init_worker(pack_ref: str, parameters: dict[str, Any], calendar: WorkCalendar | None,
                 parent: int | None = None) -> None:
    # A forked worker inherits the handlers of the run's process: it must not clean up
    # the run's files, only end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _die_with_parent(parent)
    _WORKER["pack"] = load_pack(pack_ref, parameters, calendar)


def _worker_chunk(as_of: dt.date, include_closed: bool, as_lines: bool, engine: str, office: bool,
                  chunk: Chunk) -> Out:
    return _evaluate_chunk(_WORKER["pack"], as_of, include_closed, as_lines, chunk, engine, office)


def _chunks(records: Iterable[Record | Note | LineBlock | Rows]) -> Iterator[Chunk]:
    """Records (and deferred rows) in chunks of CHUNK, and each block of JSON lines as a
    chunk of its own."""
    chunk: list[Item | Rows] = []
    for rec in records:
        if isinstance(rec, LineBlock):
            if chunk:
                yield chunk
                chunk = []
            yield rec
            continue
        chunk.append(rec if isinstance(rec, Note | Rows) else
                     (rec.file, rec.locator, rec.history, rec.reject, rec.columns))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _how_workers_died(pool: ProcessPoolExecutor) -> str:
    """Which worker ended and how (its status comes a moment after its pipes close)."""
    procs = list(pool._processes.values())
    deadline = time.monotonic() + 1.0
    ended = [(p.pid, p.exitcode) for p in procs if p.exitcode is not None]
    # The pool ends the other workers with SIGTERM, and their status may come before the
    # one that died first: wait a moment for one that did not end by SIGTERM.
    while all(code == -signal.SIGTERM for _, code in ended) and time.monotonic() < deadline:
        time.sleep(0.01)
        ended = [(p.pid, p.exitcode) for p in procs if p.exitcode is not None]
    ended.sort(key=lambda e: e[1] == -signal.SIGTERM)
    for pid, code in ended:
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f"(pid {pid}) was killed by {signal.Signals(-code).name}"
        return f"(pid {pid}) ended with status {code}"
    return "ended unexpectedly (killed, or out of memory)"


def _result(fut: Future[Out], pool: ProcessPoolExecutor) -> Out:
    """The chunk's result; a worker that has died stops the wait (the pool itself may not
    notice: one killed while sending its result leaves half a message it waits on)."""
    while True:
        try:
            return fut.result(timeout=0.5)
        except TimeoutError:
            if mp_wait([p.sentinel for p in list(pool._processes.values())], 0):
                raise BrokenProcessPool("a worker process ended") from None


def _stop(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """End the workers now (not after the chunks in flight) and the pool's threads with them."""
    procs = list(pool._processes.values())
    # Taken before shutdown(), which forgets them.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    thread = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    with contextlib.suppress(Exception):
        mp_wait([p.sentinel for p in procs], grace)
    # A worker killed while sending a result leaves the pool's thread waiting for the rest
    # of the message: closing our end of the pipe (the workers' ends went with them) ends that.
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()
    if isinstance(thread, threading.Thread):
        thread.join(grace)


# Worker processes pay for themselves from about this much input. Starting a pool costs
# about 0.1 s of wall time (each worker forks and loads the pack); the cheapest built-in
# pack (jiande) spends about 40 ns of one core per input byte, so on two cores the workers
# save about 20 ns a byte, and from 8 MiB (about 3,600 histories of the benchmark's
# generator) they save more than they cost: measured, 5,000 jiande histories (11 MB) ran
# 0.88x the wall time of one process, 20,000 (45 MB) 0.70x (README, Performance).
WORKERS_PAY_FROM = 8 << 20


def cores() -> int:
    """The processors this process may run on (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_jobs(inputs: Sequence[Path], events: Path | None = None) -> int:
    """``--jobs`` when not given: all cores for inputs of WORKERS_PAY_FROM bytes or more, 1
    for less (or for standard input, whose size is not known)."""
    total = 0
    for path in [*inputs, *([events] if events is not None else [])]:
        try:
            total += path.stat().st_size if str(path) != "-" and path.is_file() else 0
        except OSError:
            return 1  # the readers will say what is wrong with it
    return cores() if total >= WORKERS_PAY_FROM else 1


def run(
    pack_ref: str,
    parameters: dict[str, Any],
    records: Iterable[Record | Note | LineBlock | Rows],
    as_of: dt.date,
    write: Callable[[dict[str, Any]], None],
    reject: Callable[[Reject], None],
    notice: Callable[[Notice], None],
    *,
    jobs: int = 1,
    include_closed: bool = False,
    progress: Progress | None = None,
    write_block: Callable[[bytes], None] | None = None,
    engine: str = "native",
    calendar: WorkCalendar | None = None,
    pack: Pack | None = None,
    office: bool = False,
) -> Summary:
    """Evaluate every record (a block of JSON lines counts a record per line that is not
    blank); results go to ``write`` (a dict each), or, if ``write_block`` is given, to it
    as blocks of JSON lines encoded in the workers (the JSON Lines fast path); with
    ``office``, ``write`` takes the office's rows (``office_row``) instead of the contract's.
    Rejects, results and notices each come out in input order.

    ``pack``, if given, is the pack already loaded from ``pack_ref``, ``parameters`` and
    ``calendar``: in process (``jobs <= 1``) it is used as is, not loaded again (if not
    given, it is loaded here). Worker processes load their own from ``pack_ref`` (a
    compiled pack does not pickle). The summary names the rules that are inactive for
    want of a parameter with no default (``Pack.inactive``), once for the run."""
    if pack is None:  # in this process too: which rules are inactive (the summary says so)
        pack = load_pack(pack_ref, parameters, calendar)
    summary = Summary(inactive=dict(pack.inactive), pack=pack.label, digest=pack.digest, as_of=as_of,
                      parameters=dict(parameters))
    as_lines = write_block is not None

    def consume(out: Out) -> None:
        summary.read += out.read
        summary.evaluated += out.evaluated
        summary.rejected += len(out.rejects)
        summary.notices += len(out.notices)
        summary.warnings.update(out.levels)
        summary.calendar_notices += out.calendar_notices
        summary.unknown_years.update(out.unknown_years)
        summary.skipped += out.skipped
        summary.unused_columns += out.unused_columns
        for r in out.rejects:
            reject(r)
        for n in out.notices:
            notice(n)
        if out.data and write_block is not None:
            write_block(out.data)
        for row in out.rows:
            write(row)
        if progress:
            progress.update(summary.read)

    chunks = _chunks(records)
    if jobs <= 1:
        for chunk in chunks:
            consume(_evaluate_chunk(pack, as_of, include_closed, as_lines, chunk, engine, office))
    else:
        context = multiprocessing.get_context()
        forked = os.getpid() if context.get_start_method() == "fork" else None
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                   initargs=(pack_ref, parameters, calendar, forked))
        try:
            window: list[Future[Out]] = []
            for chunk in chunks:
                window.append(pool.submit(_worker_chunk, as_of, include_closed, as_lines, engine,
                                          office, chunk))
                if len(window) >= jobs * 3:
                    consume(_result(window.pop(0), pool))
            for fut in window:
                consume(_result(fut, pool))
        except BrokenProcessPool as exc:
            died = _how_workers_died(pool)
            _stop(pool)
            raise WorkerError(f"a worker process {died}; the run was stopped") from exc
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()
    if progress:
        progress.update(summary.read)
        progress.close()
    return summary
