"""The files a command-line run writes: checked before reading, locked, committed together.

Before any input is read (``check_files``): every input, ``--events``, ``--mapping`` and
``--calendar`` file can be read; every output (``-o``, ``--rejects``, ``--notices`` and the
default side files) is not a directory nor an existing file other than a regular one, has
an existing directory, and is none of the inputs nor another output (paths compared
resolved, and as the same file when both exist). The default side files of ``-o OUT``
(``side_paths``): ``OUT.rejects.jsonl`` and ``OUT.notices.jsonl``; for the office's CSV
(``--columns office``) ``OUT.rejects.csv`` and ``OUT.notices.csv``; for the office's XLSX
none: its rejects and notices are sheets of the workbook (and also go to ``--rejects`` /
``--notices`` when given).

Then each output is locked (``locked``): an exclusive, non-blocking ``flock`` on
``.NAME.lock`` beside it. A second run for the same file is refused at once with one
line naming the run that holds it (exit 2); the lock file is removed when the run ends.
Making the lock file is also the first write in the output's directory: a read-only or
full directory is refused here, before reading. Holding the lock, the run removes the
``.NAME.*.partial`` files a killed run (SIGKILL, power loss) may have left.

During the run (``RunOutputs``) the result rows, rejects and notices each go to a
temporary file of their own (``io/writers.py``; the sheets of the office's workbook to
the workbook's). At the end all of them are sealed
(written, synced, closed); only then is anything moved: the rejects file, then the
notices file, then the main output last. A side file the run has nothing for is removed
in the same step, so no stale ``OUT.rejects.jsonl`` from an earlier run stays beside a
new output (nor one a run in the other ``--columns`` form left); a side file exists only
when it has something (a sheet always exists, with its header). Should a move fail, the
side files already moved are taken back and the old ones put back; SIGTERM, SIGHUP and
SIGINT wait until the moves are done. On any error or signal before that, every
temporary file is deleted and nothing at the targets changes.

Cells a worksheet cannot hold (control characters in an ``.xlsx`` output) are written
escaped by the writer; each such row becomes a notice (``output: ...``, in the office's
workbook ``输出：...``) naming the row and columns (and, as every notice, the run's
``as_of`` and ``pack``), added before the notices are sealed.

SIGTERM and SIGHUP (``signals_unwind``) raise :class:`Terminated` in the main thread,
which unwinds like Ctrl-C: temporary files and lock files go, the command exits
128 + the signal's number (143 for SIGTERM), one line on stderr. A signal set to be
ignored (``nohup``) stays ignored; a second signal while cleaning up is ignored.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import glob
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.io.records import Reject
from lifecycle_rules.io.writers import Format, ResultWriter, open_rejects_writer, open_writer

__all__ = ["RunOutputs", "Terminated", "check_files", "locked", "side_paths", "signals_unwind"]

Named = tuple[str, Path]  # (how the user named it: "-o", "--rejects" ...; the path)
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like KeyboardInterrupt (every ``with`` cleans up)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.code = 128 + signum


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for s in _SIGNALS:  # cleanup runs once; a second signal does not cut it short
            signal.signal(s, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for s, was in previous.items():
        if was is not signal.SIG_IGN:
            signal.signal(s, handler)
    try:
        yield
    finally:
        for s, was in previous.items():
            signal.signal(s, was if was is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait (and then act) until the block is done: the moves of
    a run's files (here, and a letters run's, ``office/letters_out``) are not cut in two."""
    held = {signal.SIGINT, *_SIGNALS}
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# ------------------------------------------------------------------ checks


def side_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None, list[Path]]:
    """Where rejects and notices go (``--rejects``/``--notices``, else beside ``-o``:
    OUT.rejects.jsonl, OUT.notices.jsonl, or .csv for the office's CSV; None: stderr, or
    only the sheets of the office's XLSX), and the default side files of ``-o`` this run
    does not use that exist: stale, removed at commit (never an input)."""
    from lifecycle_rules.io.writers import output_format

    output, rejects, notices = args.output, args.rejects, args.notices
    if output is None or str(output) == "-":
        return rejects, notices, []
    fmt = output_format(output, getattr(args, "format", None))
    office = getattr(args, "columns", None) == "office"
    jsonl = [output.with_name(output.name + f".{kind}.jsonl") for kind in ("rejects", "notices")]
    csv = [output.with_name(output.name + f".{kind}.csv") for kind in ("rejects", "notices")]
    defaults: list[Path | None] = [None, None] if office and fmt == "xlsx" else csv if office else jsonl
    chosen = [given or default for given, default in zip((rejects, notices), defaults, strict=True)]
    stale = [d for d in jsonl + (csv if fmt == "csv" else [])
             if os.path.lexists(d) and not d.is_dir() and not any(_same(d, p) for p in chosen if p is not None)
             and not any(_same(d, p) for _, p in _inputs(args))]
    return chosen[0], chosen[1], stale


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _inputs(args: argparse.Namespace) -> list[Named]:
    named: list[Named] = [("", p) for p in args.inputs]
    named += [(o, p) for o, p in (("--events", getattr(args, "events", None)),
                                  ("--mapping", getattr(args, "mapping", None))) if p is not None]
    named += [("--calendar", p) for p in getattr(args, "calendar", None) or []]
    return named


def check_files(args: argparse.Namespace, outputs: Sequence[tuple[str, Path | None]]) -> None:
    """Every file named can be read, every output can be made and is no other file of the
    run: before any input is read."""
    from lifecycle_rules.io.readers import is_jsonl
    from lifecycle_rules.io.readers.columns import _load_mapping

    inputs = _inputs(args)
    for option, path in inputs:
        if option != "--calendar":  # the calendar loader names its own files
            readable(path, f"{option} {path}" if option else str(path))
    if args.mapping is not None:
        try:
            _load_mapping(args.mapping)
        except ValueError as exc:
            raise LifecycleRulesError(str(exc)) from None
    for path in args.inputs:
        try:
            is_jsonl(path, args.layout, args.events)
        except ValueError:
            raise LifecycleRulesError(f"{path}: cannot tell the layout from its suffix {path.suffix!r} "
                                      "(use .jsonl, .csv or .xlsx, or --layout jsonl|wide)") from None
    named = [(o, p) for o, p in outputs if p is not None and str(p) != "-"]
    for i, (option, path) in enumerate(named):
        name = f"{option} {path}"
        if path.is_dir():
            raise LifecycleRulesError(f"{name}: is a directory")
        if not path.parent.is_dir():
            raise LifecycleRulesError(f"{name}: no such directory {str(path.parent)!r}")
        if path.exists() and not path.is_file():
            raise LifecycleRulesError(f"{name}: not a regular file (standard output is -o -)")
        if any(_same(path, p) for _, p in inputs):
            raise LifecycleRulesError(f"{name}: is an input; it would be overwritten")
        for other, other_path in named[:i]:
            if _same(path, other_path):
                raise LifecycleRulesError(f"{name}: is also {other} {other_path}; each output needs a "
                                          "file of its own")


def readable(path: Path, name: str) -> None:
    if path.is_dir():
        raise LifecycleRulesError(f"{name}: is a directory, not a file")
    if not path.exists():
        raise LifecycleRulesError(f"{name}: no such file")
    if not path.is_file():
        raise LifecycleRulesError(f"{name}: not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise LifecycleRulesError(f"{name}: cannot read: {exc.strerror}") from None


# ------------------------------------------------------------------ locks


def _lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _lock(option: str, target: Path) -> int:
    path = _lock_path(target)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:  # another user's, left by a killed run: a read lock is a lock
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC) if path.is_file() else -1
        except OSError as exc:
            raise LifecycleRulesError(f"{option} {target}: cannot write in {str(target.parent)!r}: "
                                      f"{exc.strerror}") from None
        if fd < 0:
            raise LifecycleRulesError(f"{option} {target}: cannot write in {str(target.parent)!r}: "
                                      "Permission denied")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise LifecycleRulesError(f"{option} {target}: another run{who} is writing it (it holds {path}); "
                                      "try again when it has ended") from None
        try:  # the holder may have removed the file after we opened it: lock the new one
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _unlock(target: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        _lock_path(target).unlink()  # still held: no other run can be between the two
    os.close(fd)


@contextlib.contextmanager
def locked(outputs: Sequence[tuple[str, Path | None]]) -> Iterator[None]:
    """Hold the lock of every output file while inside. Once all are held, remove the
    temporary files a killed run left for them (``.NAME.`` + mkstemp's 8 characters)."""
    held: list[tuple[Path, int]] = []
    try:
        for option, path in outputs:
            if path is not None and str(path) != "-" and not any(_same(path, p) for p, _ in held):
                held.append((path, _lock(option, path)))
        for path, _ in held:
            pattern = glob.escape(str(path.parent / f".{path.name}.")) + "[a-z0-9_]" * 8 + ".partial"
            for left in glob.glob(pattern):
                with contextlib.suppress(OSError):
                    os.unlink(left)
        yield
    finally:
        for path, fd in reversed(held):
            _unlock(path, fd)


# ------------------------------------------------------------------ one commit


class RunOutputs:
    """The result file, rejects file and notices file of one run, committed together
    (``with``: committed when the block ends without error, all discarded otherwise).
    Rejects or notices with no file (standard output runs) are kept in ``held_rejects`` /
    ``held_notices`` for stderr. ``form="office"``: a CSV or XLSX output in the office's
    words (``office/table.py``), an XLSX with its rejects and notices sheets."""

    def __init__(self, output: Path | None, fmt: Format | None, rejects: Path | None,
                 notices: Path | None, stale: Sequence[Path] = (),
                 labels: Sequence[tuple[str, Path | None]] = (), form: str = "contract") -> None:
        self.output = None if output is None or str(output) == "-" else output
        self._fmt = fmt
        self._office = form == "office" and self.output is not None
        self._paths = {"--rejects": rejects, "--notices": notices}
        self._labels = list(labels) or [("-o", self.output), *self._paths.items()]
        self._stale = list(stale)
        self.main: ResultWriter | None = None
        self._rejects: list[ResultWriter] = []
        self._notices: list[ResultWriter] = []
        self.rejected = 0
        self.noticed = 0
        self.held_rejects: list[Reject] = []
        self.held_notices: list[dict[str, Any]] = []
        self.committed = False
        # The run's day and pack (as_of, pack), from the first row or notice that has
        # them: the output's own notices (cells escaped) carry them too, as every notice.
        self._stamp: dict[str, Any] | None = None

    def __enter__(self) -> Self:
        try:  # every temporary file now: a directory that takes none fails before reading
            if self._office:
                from lifecycle_rules.office.table import open_office

                assert self.output is not None
                self.main, sheets = open_office(self.output, self._fmt)
                self._rejects, self._notices = list(sheets[:1]), list(sheets[1:])
            else:
                self.main = open_writer(self.output, self._fmt)
            for kind, into in (("rejects", self._rejects), ("notices", self._notices)):
                path = self._paths[f"--{kind}"]
                if path is not None:
                    into.append(self._side(path, kind))
        except BaseException:
            self.abort()
            raise
        return self

    def _side(self, path: Path, kind: str) -> ResultWriter:
        from lifecycle_rules.office.table import open_side

        if self._office:
            return open_side(path, kind, True)
        return open_rejects_writer(path) if kind == "rejects" else open_writer(path, "jsonl")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    @property
    def write_block(self) -> Any:
        return getattr(self.main, "write_block", None)

    def write(self, row: dict[str, Any]) -> None:
        assert self.main is not None
        if self._stamp is None:
            self._stamp_from(row)
        self.main.write(row)

    def _stamp_from(self, row: dict[str, Any]) -> None:
        if "as_of" in row and "pack" in row:
            day = row["as_of"]
            self._stamp = {"as_of": day.isoformat() if isinstance(day, dt.date) else day, "pack": row["pack"]}

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        if not self._rejects:
            self.held_rejects.append(reject)
        for writer in self._rejects:
            writer.write(reject.to_dict())

    def notice(self, notice: dict[str, Any]) -> None:
        if self._stamp is None:
            self._stamp_from(notice)
        self.noticed += 1
        if not self._notices:
            self.held_notices.append(notice)
        for writer in self._notices:
            writer.write(notice)

    def where(self, kind: str) -> str:
        """Where the rejects or notices went, in words (the summary names it)."""
        places = [str(w.target) for w in (self._rejects if kind == "rejects" else self._notices)
                  if w.target is not None]
        if self._office and self.output is not None and self.main is not None and \
                getattr(self.main, "sheet", None) is not None:
            from lifecycle_rules.office.table import NOTICES, REJECTS

            places.insert(0, f"{self.output} (sheet {(REJECTS if kind == 'rejects' else NOTICES).title})")
        return " and ".join(places) or "stderr"

    def abort(self) -> None:
        for writer in (*self._rejects, *self._notices, self.main):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.abort()

    def commit(self) -> None:
        """Seal every file, then move the side files and the main output last."""
        from lifecycle_rules.office.table import escape_notice

        assert self.main is not None
        try:
            for row, columns, project in list(self.main.escaped):  # as it is now: notices escape too
                self.notice({"file": str(self.output), "locator": f"row {row}", "project_id": project,
                             "notice": escape_notice(columns, self._office), **(self._stamp or {})})
            for writer in (*self._rejects, *self._notices, self.main):
                writer.seal()
            sides: list[tuple[Path, ResultWriter | None]] = [(p, None) for p in self._stale]
            for writers, count in ((self._rejects, self.rejected), (self._notices, self.noticed)):
                for writer in writers:
                    if writer.target is not None:  # a file of its own, not a sheet of the output
                        if not count:
                            writer.abort()
                        sides.append((writer.target, writer if count else None))
            with signals_held():
                _swap(sides, self.main)
                self.committed = True
        except BaseException:
            if not self.committed:
                self.abort()
            raise

    def failure(self, exc: OSError) -> str:
        """An OSError of the output side as one line, naming the option and file."""
        where = ""
        if exc.filename is not None:
            for option, path in self._labels:
                if path is not None and str(path) == str(exc.filename):
                    where = f"{option} {path}: "
                    break
            else:
                where = f"{exc.filename}: "
        return f"{where}{exc.strerror or exc}; nothing was written"


def _swap(sides: Sequence[tuple[Path, ResultWriter | None]], main: ResultWriter) -> None:
    """Side files into place (or away), then the main output; all taken back on failure."""
    from lifecycle_rules.io.writers import _temp_beside

    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for target, writer in sides:
            if os.path.lexists(target):
                fd, backup = _temp_beside(target, ".previous")
                os.close(fd)
                os.replace(target, backup)
                aside.append((target, backup))
            if writer is not None:
                placed.append(target)
                writer.publish()
        main.publish()
    except BaseException:
        for target in placed:
            with contextlib.suppress(OSError):
                target.unlink()
        for target, backup in reversed(aside):
            with contextlib.suppress(OSError):
                os.replace(backup, target)
        raise
    for _, backup in aside:
        with contextlib.suppress(OSError):
            backup.unlink()
    for folder in {t.parent for t, _ in sides} | ({main.target.parent} if main.target else set()):
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def file_outputs(args: argparse.Namespace) -> tuple[RunOutputs, contextlib.AbstractContextManager[None]]:
    """An evaluate run's output files (-o, and its rejects and notices beside it or where
    --rejects/--notices say) checked against the inputs and one another, and their lock."""
    rejects_path, notices_path, stale = side_paths(args)
    outputs = [("-o", args.output), ("--rejects" if args.rejects else "rejects file", rejects_path),
               ("--notices" if args.notices else "notices file", notices_path)]
    check_files(args, outputs)
    out = RunOutputs(args.output, args.format, rejects_path, notices_path, stale, outputs, args.columns)
    return out, locked([*outputs, *(("stale side file", p) for p in stale)])
