"""The folder a letters run writes (``-o DIR``): checked before anything is read, locked,
filled in a temporary folder beside it, and moved into place only when every file is
complete, so a run that fails or is interrupted leaves DIR as it was.

- DIR is created if it does not exist (its parent must): the temporary folder is renamed
  to DIR in one step.
- An existing empty DIR is filled: each file is moved in, the index last.
- An existing DIR that is not empty is refused, unless ``--force``: then this run's files
  are moved in, replacing files of the same name; the run's side files it has nothing for
  (``函件清单.rejects.jsonl``, ``函件清单.notices.jsonl``) are removed so none of an earlier
  run stays beside the new index; every other file is left as it is and named on stderr.
  Nothing else is ever deleted.

Every name written is a plain file name inside DIR (no separator, not ``.`` or ``..``):
project codes are user data and never make a path.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.io.outputs import signals_held


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class LetterFolder:
    """``-o DIR`` of a letters run (see the module's docstring)."""

    def __init__(self, target: Path, *, force: bool, sides: Sequence[str] = (),
                 inputs: Sequence[Path] = ()) -> None:
        self.given = target
        self.target = Path(os.path.abspath(target))
        self.force = force
        self.sides = tuple(sides)  # side files of the run, removed under --force when not written
        self.inputs = [p for p in inputs if p is not None]
        self.temp: Path | None = None
        self.written: list[str] = []
        self.left: list[str] = []  # files of DIR this run neither wrote nor removed (--force)
        self.removed: list[str] = []
        self.committed = False

    @property
    def name(self) -> str:
        return f"-o {self.given}"

    def check(self) -> None:
        """Before any input is read: DIR can be made or filled."""
        t = self.target
        if not t.name:
            raise LifecycleRulesError(f"{self.name}: not a folder letters can be written to")
        if t.suffix.lower() in (".docx", ".xlsx", ".doc"):
            raise LifecycleRulesError(f"{self.name}: -o takes a folder (one .docx per letter and "
                                      "函件清单.xlsx go in it), not a file name")
        if t.exists() and not t.is_dir():
            raise LifecycleRulesError(f"{self.name}: exists and is not a folder")
        if not t.parent.is_dir():
            raise LifecycleRulesError(f"{self.name}: no such directory {str(t.parent)!r} (the folder is "
                                      "created, its parent must exist)")
        if t.is_dir() and not self.force:
            there = sorted(os.listdir(t))
            if there:
                shown = ", ".join(there[:5]) + (" ..." if len(there) > 5 else "")
                raise LifecycleRulesError(
                    f"{self.name}: the folder is not empty ({len(there)} entries: {shown}); write into a new "
                    "folder (e.g. one a month), or --force to add this run's files to it (files of the "
                    "same name are replaced, others are left as they are)")

    def __enter__(self) -> Self:
        parent = self.target.parent
        # Temporary folders a killed run left (this run holds DIR's lock: none is in use).
        for left in parent.glob(glob.escape(f".{self.target.name}.letters-") + "*.partial"):
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left, ignore_errors=True)
        try:
            self.temp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.letters-", suffix=".partial",
                                              dir=parent))
        except OSError as exc:
            raise LifecycleRulesError(f"{self.name}: cannot write in {str(parent)!r}: {exc.strerror}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.temp is not None and self.temp.exists():
            shutil.rmtree(self.temp, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Where the file ``name`` is written now (in the temporary folder): a plain name only."""
        if self.temp is None:  # pragma: no cover - used inside ``with``
            raise RuntimeError("LetterFolder.path outside its with block")
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name \
                or name in self.written:
            raise LifecycleRulesError(f"{self.name}: refusing the file name {name!r}")
        p = self.temp / name
        if p.parent != self.temp:  # pragma: no cover - excluded above
            raise LifecycleRulesError(f"{self.name}: refusing the file name {name!r}")
        self.written.append(name)
        return p

    def commit(self) -> None:
        """Move every file written into DIR (the last written last)."""
        assert self.temp is not None
        t = self.target
        if not t.exists():
            os.chmod(self.temp, 0o777 & ~_umask())
            try:
                with signals_held():
                    os.rename(self.temp, t)
            except OSError as exc:
                raise LifecycleRulesError(f"{self.name}: cannot create the folder: {exc.strerror} "
                                          "(did another program make it meanwhile?)") from None
            self.committed = True
            return
        for name in self.written:
            dest = t / name
            if dest.is_dir() and not dest.is_symlink():
                raise LifecycleRulesError(f"{self.name}: {name} is a folder in it; nothing was written")
            if any(_same(dest, p) for p in self.inputs):
                raise LifecycleRulesError(f"{self.name}: {name} there is an input of this run; nothing was written")
        stale = [s for s in self.sides if s not in self.written and (t / s).is_file()]
        with signals_held():
            for name in self.written:
                os.replace(self.temp / name, t / name)
            for s in stale:
                with contextlib.suppress(FileNotFoundError):
                    (t / s).unlink()
        self.removed = stale
        self.committed = True
        self.left = sorted(set(os.listdir(t)) - set(self.written))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False
