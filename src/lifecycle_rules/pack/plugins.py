"""Finding packs: entry-point group ``lifecycle_rules.packs``, or a directory path.

An entry point names a pack id and loads to a directory path, or to a callable that
returns one. A pack that fails to load is reported by name and does not stop the others.

A plugin's entry point is code this package does not control, and it is contained:
whatever it does on import or when called (raise, call ``sys.exit``, never return), it
is reported by name and the others load. ``KeyboardInterrupt`` is let through (Ctrl-C
still stops the run).

- ``discover()`` (``lifecycle-rules packs``) probes each third-party entry point in a
  subprocess: ``python -I -c`` with this process's ``sys.path`` imports the entry point,
  calls it and prints the directory it gives as JSON. A probe that has not answered within
  ``timeout()`` seconds is killed, and its plugin reported as not returning; at most
  ``PROBES`` probes run at once. Each probe is a session of its own, killed as a group
  when done: what the plugin started goes with it. Only the directories of the plugins
  that answered are loaded (their ``pack.yaml`` read here): during discovery no
  third-party plugin code runs in this process. (So a plugin whose directory lives only as
  long as its process, e.g. extracted from a zip for the call, is not listed.)
- ``load_pack(id)`` loads the entry point of that id only (a broken sibling is never
  touched) and calls it in a daemon thread, waited on for ``timeout()`` seconds: past
  that, ``PackError`` "pack plugin X (...) failed to load: TimeoutError: the plugin did
  not return within N s". A thread cannot be killed: it is left running. Being a daemon it
  does not keep the process alive, but until the process ends it may use CPU and hold its
  module's import lock.
- The built-in packs (entry points ``lifecycle_rules._builtin:...``) are trusted: called
  directly, with no subprocess nor thread, so listing and loading them stays fast.

``timeout()`` is ``TIMEOUT`` seconds unless the environment variable ``LR_PLUGIN_TIMEOUT``
gives another positive number. ``io/calendars.py`` contains calendar packages with
``contained_all`` and the same timeout.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from lifecycle_rules.core.dates import WorkCalendar
from lifecycle_rules.core.results import as_of_day
from lifecycle_rules.errors import PackError
from lifecycle_rules.pack import versions
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.load import load_pack_dir
from lifecycle_rules.pack.versions import parse_ref

GROUP = "lifecycle_rules.packs"
TRUSTED = "lifecycle_rules._builtin:"  # entry points of the built-in packs, called directly
TIMEOUT = 10.0  # seconds a plugin has to return, unless LR_PLUGIN_TIMEOUT says otherwise
TIMEOUT_ENV = "LR_PLUGIN_TIMEOUT"
PROBES = max(2, os.cpu_count() or 2)  # probe processes running at once
_MARK = "lifecycle-rules-probe:"
_POLL = 0.01  # seconds between looks at the running probes

T = TypeVar("T")

# Run as `python -I -c _PROBE NAME VALUE GROUP SYS_PATH_JSON`: the answer is the last line of
# stdout that starts with _MARK; what the plugin prints goes to stderr.
_PROBE = """\
import json, os, sys
name, value, group, path = sys.argv[1:5]
sys.path[:] = json.loads(path)
out, sys.stdout = sys.stdout, sys.stderr
try:
    from importlib.metadata import EntryPoint
    from pathlib import Path
    obj = EntryPoint(name, value, group).load()
    if callable(obj):
        obj = obj()
    if isinstance(obj, (str, Path)):
        answer = {"path": os.path.abspath(obj)}
    else:
        answer = {"type": type(obj).__name__}
except SystemExit as exc:
    answer = {"exit": repr(exc.code)}
except Exception as exc:
    answer = {"error": f"{type(exc).__name__}: {exc}"}
out.write("\\n" + MARK + json.dumps(answer) + "\\n")
out.flush()
sys.stderr.flush()
os._exit(0)  # not waiting for the plugin's threads nor running its atexit handlers
""".replace("MARK", repr(_MARK))


@dataclass(frozen=True)
class PackEntry:
    """One installed pack: its id, where it comes from, and its pack or its load error."""

    id: str
    origin: str
    pack: Pack | None
    error: str | None


class PluginFailure(Exception):
    """A plugin's entry point raised, called ``sys.exit`` or did not return; ``str()`` says
    which in one line."""


def timeout() -> float:
    """Seconds a plugin has to return: ``LR_PLUGIN_TIMEOUT`` if a positive number, else ``TIMEOUT``."""
    try:
        seconds = float(os.environ.get(TIMEOUT_ENV) or TIMEOUT)
    except ValueError:
        return TIMEOUT
    return seconds if seconds > 0 and math.isfinite(seconds) else TIMEOUT


def one_line(text: str) -> str:
    return " ".join(text.split())


def _said(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r})"
    return one_line(f"{type(exc).__name__}: {exc}")


def _late(seconds: float) -> str:
    return f"TimeoutError: the plugin did not return within {seconds:g} s"


def contained_all(calls: Sequence[Callable[[], T]], seconds: float) -> list[T | PluginFailure]:
    """Each call run at once in its own daemon thread; what each returned, or a PluginFailure
    if it raised (an exception or SystemExit) or had not returned ``seconds`` after the start
    (its thread left running). A KeyboardInterrupt one raises is raised again here."""
    boxes: list[list[tuple[bool, Any]]] = [[] for _ in calls]

    def run(call: Callable[[], T], box: list[tuple[bool, Any]]) -> None:
        try:
            box.append((True, call()))
        except BaseException as exc:  # contained: reported to the waiting thread
            box.append((False, exc))

    threads = [threading.Thread(target=run, args=(call, box), daemon=True, name="lifecycle-rules plugin")
               for call, box in zip(calls, boxes, strict=True)]
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.start()
    out: list[T | PluginFailure] = []
    for thread, box in zip(threads, boxes, strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        if not box:
            out.append(PluginFailure(_late(seconds)))
            continue
        ok, value = box[0]
        if ok:
            out.append(value)
        elif isinstance(value, Exception | SystemExit):
            out.append(PluginFailure(_said(value)))
        else:
            raise value  # KeyboardInterrupt, or another BaseException that is not ours to hide
    return out


def contained(call: Callable[[], T], seconds: float) -> T:
    """``call()`` as ``contained_all`` runs it: its result, or PluginFailure raised."""
    [result] = contained_all([call], seconds)
    if isinstance(result, PluginFailure):
        raise result
    return result


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def _trusted(ep: EntryPoint) -> bool:
    return ep.value.startswith(TRUSTED)


def _call(ep: EntryPoint) -> object:
    obj = ep.load()
    if callable(obj):
        obj = obj()
    return obj


def _as_directory(ep: EntryPoint, obj: object) -> Path:
    if not isinstance(obj, str | Path):
        raise _as_failure(ep, type(obj).__name__)
    return Path(obj)


def _directory(ep: EntryPoint) -> Path:
    """The directory ``ep`` gives: a built-in's called here, another's in a thread (contained)."""
    if _trusted(ep):
        return _as_directory(ep, _call(ep))
    return _as_directory(ep, contained(lambda: _call(ep), timeout()))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the probe and whatever it started
        else:  # pragma: no cover - Windows
            proc.kill()
    except OSError:
        pass  # already gone
    proc.wait()


def _answer(ep: EntryPoint, status: int, out: IO[bytes], err: IO[bytes]) -> Path | PluginFailure:
    out.seek(0)
    for line in reversed(out.read().decode("utf-8", "replace").splitlines()):
        if line.startswith(_MARK):
            try:
                answer = json.loads(line[len(_MARK):])
            except ValueError:
                break
            if not isinstance(answer, dict):
                break
            if "path" in answer:
                return Path(answer["path"])
            if "type" in answer:
                return _as_failure(ep, answer["type"])
            if "exit" in answer:
                return PluginFailure(f"SystemExit: the plugin called sys.exit({answer['exit']})")
            return PluginFailure(one_line(str(answer.get("error"))))
    err.seek(0)
    last = [one_line(s) for s in err.read().decode("utf-8", "replace").splitlines() if s.strip()]
    said = f": {last[-1][:300]}" if last else ""
    return PluginFailure(f"the plugin's process ended (exit status {status}) before answering{said}")


def _as_failure(ep: EntryPoint, type_name: str) -> PluginFailure:
    return PluginFailure(f"PackError: entry point {ep.value} gave {type_name}, not a directory path")


class _Running(NamedTuple):
    at: int
    proc: subprocess.Popen[bytes]
    out: IO[bytes]
    err: IO[bytes]
    deadline: float


def _probe(eps: Sequence[EntryPoint], seconds: float) -> list[Path | PluginFailure]:
    """Each entry point's directory, asked of a subprocess (``_PROBE``), at most PROBES at
    once, each killed ``seconds`` after its start if it has not answered."""
    if not sys.executable:  # pragma: no cover - an embedded interpreter: no process to start
        return [_probed_here(ep, seconds) for ep in eps]
    results: dict[int, Path | PluginFailure] = {}
    waiting = list(enumerate(eps))[::-1]
    running: list[_Running] = []
    with ExitStack() as files:
        try:
            while waiting or running:
                while waiting and len(running) < PROBES:
                    i, ep = waiting.pop()
                    # files, not pipes: a probe that writes much never blocks on a full pipe
                    out = files.enter_context(tempfile.TemporaryFile())
                    err = files.enter_context(tempfile.TemporaryFile())
                    proc = subprocess.Popen(
                        [sys.executable, "-I", "-c", _PROBE, ep.name, ep.value, ep.group, json.dumps(sys.path)],
                        stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
                    running.append(_Running(i, proc, out, err, time.monotonic() + seconds))
                still = []
                for probe in running:
                    if probe.proc.poll() is not None:
                        _kill(probe.proc)  # what the plugin started goes with its probe
                        results[probe.at] = _answer(eps[probe.at], probe.proc.returncode, probe.out, probe.err)
                    elif time.monotonic() >= probe.deadline:
                        _kill(probe.proc)
                        results[probe.at] = PluginFailure(_late(seconds))
                    else:
                        still.append(probe)
                running = still
                if running:
                    time.sleep(_POLL)
        finally:  # Ctrl-C, or an error of ours: no probe outlives this call
            for probe in running:
                _kill(probe.proc)
    return [results[i] for i in range(len(eps))]


def _probed_here(ep: EntryPoint, seconds: float) -> Path | PluginFailure:  # pragma: no cover
    try:
        return _as_directory(ep, contained(lambda: _call(ep), seconds))
    except PluginFailure as exc:
        return exc


def discover(calendar: WorkCalendar | None = None) -> list[PackEntry]:
    """Every installed pack, loaded (on ``calendar``, by default the years chinesecalendar
    knows); failures are entries with their error (one line), not exceptions. Third-party
    entry points are probed in subprocesses, each given ``timeout()`` seconds (see the
    module's docstring); the built-ins are called here."""
    eps = _entry_points()
    others = [i for i, ep in enumerate(eps) if not _trusted(ep)]
    probed = dict(zip(others, _probe([eps[i] for i in others], timeout()), strict=True))
    out: list[PackEntry] = []
    for i, ep in enumerate(eps):
        origin = f"{ep.value} ({ep.dist.name} {ep.dist.version})" if ep.dist else ep.value
        try:
            if i in probed:
                answer = probed[i]
                if isinstance(answer, PluginFailure):
                    raise answer
                directory = answer
            else:
                directory = _directory(ep)
            pack = load_pack_dir(directory, calendar=calendar)
        except PluginFailure as exc:
            out.append(PackEntry(ep.name, origin, None, str(exc)))
        except Exception as exc:  # a broken pack must not stop the others
            out.append(PackEntry(ep.name, origin, None, _said(exc)))
        else:
            mismatch = _mismatch(ep, pack)
            out.append(PackEntry(ep.name, origin, None if mismatch else pack,
                                 f"PackError: {mismatch}" if mismatch else None))
    return _once(out)


def _mismatch(ep: EntryPoint, pack: Pack) -> str | None:
    """What is wrong with ``pack`` as the pack of ``ep``: an entry point named ``ID`` must
    give the pack ``ID``, one named ``ID@VERSION`` that version of it."""
    pack_id, version = parse_ref(ep.name)
    if pack.id != pack_id:
        return f"the pack's id is {pack.id!r}, not {pack_id!r}"
    if version is not None and pack.spec.version != version:
        return f"the pack's version is {pack.spec.version!r}, not {version!r} (entry point {ep.name})"
    return None


def _once(entries: list[PackEntry]) -> list[PackEntry]:
    """Every entry whose pack id and version another entry also gives becomes a failure
    naming both: which of the two a run would use is not for this package to guess."""
    origins: dict[str, list[str]] = {}
    for e in entries:
        if e.pack is not None:
            origins.setdefault(e.pack.label, []).append(e.origin)
    return [PackEntry(e.id, e.origin, None, f"PackError: {e.pack.label} is installed more than once "
                      f"({'; '.join(origins[e.pack.label])}); uninstall all but one")
            if e.pack is not None and len(origins[e.pack.label]) > 1 else e for e in entries]


def load_pack(ref: str | Path, parameters: Mapping[str, Any] | None = None,
              calendar: WorkCalendar | None = None, as_of: dt.date | str | None = None,
              allow_outside_effective: bool = False) -> Pack:
    """A pack by id (built-in or plugin), by ``id@version``, or by path to its directory, on
    ``calendar`` (default: the years chinesecalendar knows; the public
    ``lifecycle_rules.load_pack`` adds installed calendar packages: ``io.calendars.load_calendar``).

    Several versions of one id may be installed (entry points named ``ID`` or
    ``ID@VERSION``, the pack's own ``id`` and ``version`` deciding): ``id@version`` takes
    that version exactly; a bare id the newest by version, or with ``as_of`` the version
    in force on that day (``pack.versions.choose``). With ``as_of`` the pack taken is
    checked against its effective dates (``versions.check_effective``): outside them is a
    PackError unless ``allow_outside_effective``. With one version installed, a bare id
    loads that one entry point only; a plugin's is called in a thread given ``timeout()``
    seconds, and what goes wrong in it is one ``PackError`` naming the plugin (see the
    module's docstring). A version that must be looked at to choose and fails to load is
    such an error too: no other version is taken in its place."""
    day = None if as_of is None else as_of_day(as_of)
    path = Path(ref)
    if isinstance(ref, Path) or "/" in str(ref) or "\\" in str(ref) or path.is_dir():
        pack = load_pack_dir(path, parameters, calendar)
    else:
        pack = _by_id(str(ref), calendar, day, allow_outside_effective).with_parameters(parameters or {})
    if day is not None:
        versions.check_effective(pack, day, allow_outside_effective)
    return pack


def _by_id(ref: str, calendar: WorkCalendar | None, day: dt.date | None, allow: bool) -> Pack:
    """The installed pack ``ref`` (``ID`` or ``ID@VERSION``) names, as ``load_pack`` says."""
    pack_id, version = parse_ref(ref)
    eps = [ep for ep in _entry_points() if parse_ref(ep.name)[0] == pack_id]
    if not eps:
        known = ", ".join(ep.name for ep in _entry_points()) or "none"
        raise PackError(f"no pack named {pack_id!r} is installed (installed: {known}); "
                        "give a pack id, id@version, or a path to a pack directory")
    if version is not None:
        named = [ep for ep in eps if ep.name == ref]
        # an entry point named ID@VERSION answers alone; else each one named ID is looked at
        eps = named or [ep for ep in eps if ep.name == pack_id]
    elif len(eps) == 1:
        return _load_entry(eps[0], calendar)
    packs = [_load_entry(ep, calendar) for ep in eps]
    if version is not None:
        packs = [p for p in packs if p.spec.version == version]
        if not packs:
            have = ", ".join(sorted({e.name for e in _entry_points() if parse_ref(e.name)[0] == pack_id}))
            raise PackError(f"no installed pack is {ref} (entry points of {pack_id}: {have}; "
                            f"'lifecycle-rules packs' lists each version)")
    labels = [p.label for p in packs]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise PackError(f"{', '.join(twice)} is installed more than once ({'; '.join(p.source for p in packs)}); "
                        "uninstall all but one")
    if version is not None:  # that version exactly: load_pack checks its dates
        return packs[0]
    return packs[versions.choose([p.spec for p in packs], day, allow)]


def _load_entry(ep: EntryPoint, calendar: WorkCalendar | None) -> Pack:
    """The pack of one entry point (no parameters set), checked against the entry point's name."""
    try:
        directory = _directory(ep)
    except PluginFailure as exc:
        raise PackError(f"pack plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
    pack = load_pack_dir(directory, None, calendar)
    mismatch = _mismatch(ep, pack)
    if mismatch:
        raise PackError(f"pack plugin {ep.name!r} ({ep.value}): {mismatch}")
    return pack
