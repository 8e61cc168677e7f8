"""Broken plugins are contained: a pack plugin or calendar package that raises, calls
``sys.exit`` or never returns is reported by name, and the others load.

The plugins are real distributions (a module, its ``.dist-info``, an entry point) in a site
directory on ``sys.path`` (in process) or on ``PYTHONPATH`` (``lifecycle-rules`` run as a
subprocess). ``LR_PLUGIN_TIMEOUT`` makes "never returns" short. A call that could hang
without containment runs under ``within``, so that it fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lifecycle_rules.errors import PackError
from lifecycle_rules.io import calendars as cal_mod
from lifecycle_rules.pack import plugins

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv/bin/lifecycle-rules"
BUILTINS = ("jiande", "jiangyin", "luohe", "tongjiang", "wushan")
TIMEOUT = 2  # LR_PLUGIN_TIMEOUT in these tests, in seconds
T = TypeVar("T")

# name -> (module, its source); each module's `path` is the entry point
PACKS = {
    "broken": ("lr_broken", "raise RuntimeError('boom at import')\n"),
    "exits": ("lr_exits", "import sys\n\n\ndef path():\n    sys.exit(3)\n"),
    "sleeps": ("lr_sleeps", "import time\n\nwhile True:  # never done importing\n    time.sleep(0.05)\n"),
    "wrongtype": ("lr_wrongtype", "def path():\n    return 42\n"),
    "demo": ("lr_demo", "from pathlib import Path\n\n\ndef path():\n    return Path(__file__).with_name('demo')\n"),
}
CALENDARS = {
    "cal-broken": ("lr_cal_broken", "raise ValueError('no calendar here')\n"),
    "cal-exits": ("lr_cal_exits", "import sys\n\nsys.exit(3)\n"),
    "cal-sleeps": ("lr_cal_sleeps", "import time\n\n\ndef path():\n    while True:\n        time.sleep(0.05)\n"),
    "cal-good": ("lr_cal_good", "from pathlib import Path\n\n\ndef path():\n"
                                "    return Path(__file__).with_name('2027.yaml')\n"),
}
PACK_ERRORS = {
    "broken": "RuntimeError: boom at import",
    "exits": "sys.exit(3)",
    "sleeps": f"did not return within {TIMEOUT} s",
    "wrongtype": "gave int, not a directory path",
}
CALENDAR_ERRORS = {
    "cal-broken": "ValueError: no calendar here",
    "cal-exits": "sys.exit(3)",
    "cal-sleeps": f"did not return within {TIMEOUT} s",
}


def within(seconds: float, fn: Callable[[], T]) -> T:
    """fn() or a test failure if it does not return within ``seconds`` (instead of a hang),
    or if it raises BaseException (SystemExit would otherwise end the run)."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(("ok", fn()))
        except BaseException as exc:
            box.append(("raised", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if not box:
        pytest.fail(f"did not return within {seconds} s")
    how, value = box[0]
    if how == "raised":
        if isinstance(value, Exception):
            raise value
        pytest.fail(f"raised {type(value).__name__}: {value}")
    return value  # type: ignore[no-any-return]


def make_dist(site: Path, dist: str, group: str, members: dict[str, tuple[str, str]]) -> None:
    """A distribution as pip would leave it: its modules, its .dist-info, its entry points."""
    for module, source in members.values():
        (site / module).mkdir(parents=True)
        (site / module / "__init__.py").write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    lines = "".join(f"{name} = {module}:path\n" for name, (module, _) in members.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}", encoding="utf-8")


@pytest.fixture
def pack_site(tmp_path: Path) -> Path:
    """Pack plugins: four broken, one good."""
    root = tmp_path / "packs"
    make_dist(root, "lr-packs", plugins.GROUP, PACKS)
    shutil.copytree(ROOT / "tests/data/packs/demo", root / "lr_demo/demo")
    return root


@pytest.fixture
def calendar_site(tmp_path: Path) -> Path:
    """Calendar packages: three broken, one good."""
    root = tmp_path / "calendars"
    make_dist(root, "lr-calendars", cal_mod.GROUP, CALENDARS)
    shutil.copy(ROOT / "tests/data/calendars/invented-2027.yaml", root / "lr_cal_good/2027.yaml")
    return root


@pytest.fixture
def on_path(pack_site: Path, calendar_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both sites on sys.path, in this process."""
    monkeypatch.syspath_prepend(str(pack_site))
    monkeypatch.syspath_prepend(str(calendar_site))
    monkeypatch.setenv("LR_PLUGIN_TIMEOUT", str(TIMEOUT))
    for module, _ in [*PACKS.values(), *CALENDARS.values()]:
        monkeypatch.delitem(sys.modules, module, raising=False)
    cal_mod.installed_packages.cache_clear()
    yield
    cal_mod.installed_packages.cache_clear()


def cli(site: Path, *argv: str, timeout: float = 60) -> tuple[int, str, str, float]:
    """``lifecycle-rules ARGV`` with the site's distributions installed: (code, out, err, seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["LR_PLUGIN_TIMEOUT"] = str(TIMEOUT)
    start = time.monotonic()
    done = subprocess.run([str(CLI), *argv], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


# -- packs, in process ---------------------------------------------------------------------------


def test_discover_reports_each_broken_plugin_and_loads_the_others(on_path: None) -> None:
    start = time.monotonic()
    found = {e.id: e for e in within(60, plugins.discover)}
    assert time.monotonic() - start < 30
    assert set(found) == {*BUILTINS, *PACKS}
    for name in BUILTINS:
        assert found[name].pack is not None and found[name].error is None, found[name].error
    assert found["demo"].pack is not None and found["demo"].pack.id == "demo"
    assert found["demo"].origin == "lr_demo:path (lr-packs 1.0)"
    for name, said in PACK_ERRORS.items():
        entry = found[name]
        assert entry.pack is None and entry.error is not None and said in entry.error, (name, entry.error)
        assert "\n" not in entry.error
    assert "lr_sleeps" not in sys.modules and "lr_broken" not in sys.modules  # probed elsewhere


@pytest.mark.parametrize("name", sorted(PACK_ERRORS))
def test_load_pack_of_a_broken_plugin_is_one_pack_error_naming_it(on_path: None, name: str) -> None:
    start = time.monotonic()
    with pytest.raises(PackError) as caught:
        within(30, lambda: plugins.load_pack(name))
    assert time.monotonic() - start < 20
    said = str(caught.value)
    assert f"pack plugin {name!r}" in said and PACK_ERRORS[name] in said and "\n" not in said, said
    # a broken sibling does not touch another pack loaded by id
    assert within(30, lambda: plugins.load_pack("demo")).id == "demo"
    assert within(30, lambda: plugins.load_pack("jiande")).id == "jiande"


def test_the_builtins_are_trusted_and_only_third_party_plugins_are_probed(
        on_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    probed: list[str] = []
    real = subprocess.Popen

    def spy(args: list[str], **kw: Any) -> Any:
        probed.extend(a for a in args if a.endswith(":path"))  # the entry point's value
        return real(args, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    found = {e.id: e for e in within(60, plugins.discover)}
    assert sorted(probed) == sorted(f"{module}:path" for module, _ in PACKS.values())
    assert all(found[name].pack is not None for name in BUILTINS)


# -- packs, through the command line -------------------------------------------------------------


def test_cli_packs_lists_every_plugin_with_its_error_and_exits_1(pack_site: Path) -> None:
    code, out, err, seconds = cli(pack_site, "packs")
    assert code == 1, err
    assert seconds < 30
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert sorted(rows) == sorted({*BUILTINS, *PACKS}) and len(out.splitlines()) == len(rows)
    for name in (*BUILTINS, "demo"):
        assert rows[name][1] != "FAILED TO LOAD", rows[name]
    for name, said in PACK_ERRORS.items():
        assert rows[name][1] == "FAILED TO LOAD" and said in rows[name][2], rows[name]
        assert rows[name][3] == f"{PACKS[name][0]}:path (lr-packs 1.0)"


def test_cli_evaluate_with_a_broken_plugin_is_one_line_and_exit_2_the_others_unaffected(pack_site: Path) -> None:
    for name, said in PACK_ERRORS.items():
        code, out, err, seconds = cli(pack_site, "evaluate", "--pack", name, "--as-of", "2024-11-30",
                                      str(ROOT / "examples/jiande.jsonl"))
        assert (code, out) == (2, ""), (name, err)
        assert seconds < 30
        [line] = err.splitlines()
        assert line.startswith(f"lifecycle-rules: pack plugin {name!r}") and said in line, line
    argv = ("evaluate", "--pack", "jiande", "--as-of", "2024-11-30", str(ROOT / "examples/jiande.jsonl"))
    code, out, err, _ = cli(pack_site, *argv)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    clean = subprocess.run([str(CLI), *argv], capture_output=True, text=True, timeout=60, check=True)
    assert rows and rows == [json.loads(line) for line in clean.stdout.splitlines()]


# -- calendar packages ---------------------------------------------------------------------------


def test_installed_calendar_packages_report_each_broken_one(on_path: None) -> None:
    start = time.monotonic()
    found = {p.name: p for p in within(60, cal_mod.installed_packages)}
    assert time.monotonic() - start < 20
    assert set(found) == set(CALENDARS)
    assert found["cal-good"].error is None and 2027 in found["cal-good"].years
    for name, said in CALENDAR_ERRORS.items():
        pkg = found[name]
        assert pkg.years == {} and pkg.error is not None and said in pkg.error, (name, pkg.error)
        assert "\n" not in pkg.error


def test_cli_calendar_and_evaluate_with_broken_calendar_packages(calendar_site: Path) -> None:
    code, out, err, seconds = cli(calendar_site, "calendar")
    assert code == 1, err
    assert seconds < 30
    assert "2027\tpackage lr-calendars 1.0" in out
    for name, said in CALENDAR_ERRORS.items():
        [line] = [line for line in err.splitlines() if f"calendar package {name} " in line]
        assert said in line, line
    code, out, err, _ = cli(calendar_site, "evaluate", "--pack", "jiande", "--as-of", "2024-11-30",
                            str(ROOT / "examples/jiande.jsonl"))
    assert code == 0, err
    assert out.count("\n") >= 3 and "Traceback" not in err
