"""The durable-rules engine (``lifecycle_rules.engines.durable``): every fixture of every
pack on both engines, and the hazards of durable-rules the adapter hides (session cap,
swallowed action errors, ruleset names, threads, wall-clock timers)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("durable")

from lifecycle_rules import testing
from lifecycle_rules.core.engine import evaluate as native
from lifecycle_rules.engines import ENGINES, get_engine
from lifecycle_rules.engines import durable as adapter
from lifecycle_rules.errors import HistoryError, LifecycleRulesError
from lifecycle_rules.pack.compile import Pack
from lifecycle_rules.pack.load import load_pack_dir
from lifecycle_rules.testing import fixture_paths, load_fixture, run_fixture

ROOT = Path(__file__).resolve().parent.parent
PACK_DIRS = sorted(p.parent for p in [*ROOT.glob("rulepacks/*/pack.yaml"),
                                      *ROOT.glob("tests/data/packs/*/pack.yaml")])
FIXTURES = [(d, f) for d in PACK_DIRS for f in fixture_paths(d)]


@cache
def pack_at(directory: Path) -> Pack:
    return load_pack_dir(directory)


def _native(pack: Pack, history: Any, as_of: Any, include_closed: bool = False) -> Any:
    return native(pack, history, as_of, include_closed=include_closed)


def durable(pack: Pack, history: Any, as_of: Any, include_closed: bool = False) -> Any:
    return adapter.evaluate(pack, history, as_of, include_closed)


def outcome(fn: Any, *args: Any) -> Any:
    """A result, or the error (type and message) it raised."""
    try:
        return fn(*args)
    except LifecycleRulesError as exc:
        return (type(exc).__name__, str(exc))


def test_every_pack_has_fixtures() -> None:
    names = {d.name for d in PACK_DIRS}
    assert {"jiande", "luohe", "demo"} <= names
    assert all(fixture_paths(d) for d in PACK_DIRS)


@pytest.mark.parametrize(("pack_dir", "path"), FIXTURES,
                         ids=[f"{d.name}/{f.stem}" for d, f in FIXTURES])
def test_fixture_same_on_both_engines(pack_dir: Path, path: Path) -> None:
    fx = load_fixture(path)
    pack = pack_at(pack_dir).with_parameters(fx.parameters)
    for check in fx.checks:
        for include_closed in (False, True):
            want = outcome(_native, pack, fx.history, check.as_of, include_closed)
            got = outcome(durable, pack, fx.history, check.as_of, include_closed)
            assert got == want, f"{path.name} as_of {check.as_of} include_closed={include_closed}"


@pytest.mark.parametrize(("pack_dir", "path"), FIXTURES,
                         ids=[f"{d.name}/{f.stem}" for d, f in FIXTURES])
def test_fixture_passes_on_durable(pack_dir: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run_fixture's own checks, with the durable engine in place of the native one.
    calls: list[dt.date] = []

    def engine(pack: Pack, history: Any, as_of: Any, *, include_closed: bool = False) -> Any:
        calls.append(as_of)
        return durable(pack, history, as_of, include_closed)

    monkeypatch.setattr(testing, "evaluate", engine)
    fx = load_fixture(path)
    outcomes = run_fixture(pack_at(pack_dir), fx)
    assert len(calls) == len(fx.checks)
    problems = [f"as_of {o.as_of}: {p}" for o in outcomes for p in o.problems]
    assert not problems, "\n".join(problems)


# -- hazards of durable-rules ----------------------------------------------------------------


def _history(i: int) -> dict[str, Any]:
    """A small 建德 history whose warnings depend on i (signed, landed or started)."""
    base = dt.date(2023, 1, 1) + dt.timedelta(days=i % 400)
    events: list[dict[str, Any]] = [{"date": base.isoformat(), "type": "step_completed", "step": "签约"}]
    if i % 3:
        events.append({"date": (base + dt.timedelta(days=30 + i % 200)).isoformat(),
                       "type": "step_completed", "step": "拿地"})
    if i % 5 == 0:
        events.append({"date": (base + dt.timedelta(days=250)).isoformat(),
                       "type": "step_completed", "step": "开工监管"})
    if i % 7 == 0:
        events.append({"date": (base + dt.timedelta(days=260)).isoformat(), "type": "disposition",
                       "warning": f"JD-{i}/jd.land-to-start/开工监管", "action": "in_progress"})
    return {"project": {"id": f"JD-{i}", "sector": "industrial", "investment_wan": 1000 + 97 * i},
            "events": events}


def test_thousands_of_projects_in_one_process() -> None:
    # durable-rules caps the sessions of a ruleset (MemoryError near the 1,025th session
    # id); the adapter deletes each project's session and reuses a small pool of ids.
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    as_of = dt.date(2024, 6, 30)
    warnings = 0
    for i in range(3000):
        got = durable(pack, _history(i), as_of, True)
        warnings += len(got.warnings)
        if i % 250 == 0:
            assert got == native(pack, _history(i), as_of, include_closed=True)
    assert warnings > 1000
    assert adapter._NEXT_SID[0] < 10, "session ids are not reused"
    assert not adapter._ACTIVE


def test_bad_history_frees_its_session() -> None:
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    bad = {"project": {"id": "JD-BAD"}, "events": [{"date": "2024-01-01", "type": "step_completed",
                                                     "step": "不是一个环节"}]}
    before = adapter._NEXT_SID[0]
    for _ in range(1200):
        with pytest.raises(HistoryError):
            durable(pack, bad, "2024-06-30")
    assert adapter._NEXT_SID[0] - before < 3
    assert durable(pack, _history(3), "2024-06-30") == native(pack, _history(3), "2024-06-30")


class Boom(Exception):
    pass


def test_error_in_an_action_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    # durable-rules swallows exceptions raised in actions (it stores them in the session
    # state); the adapter keeps them and raises them after the call.
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    history = _history(1)  # signed and landed: the land-to-start clock is cleared by nothing

    def clear(self: Any, c: Any, w: str, day: int) -> None:
        raise Boom(w)

    seen = durable(pack, history, "2024-06-30", True)
    monkeypatch.setattr(adapter._Run, "clear", clear)
    with pytest.raises(Boom):
        durable(pack, history, "2024-06-30", True)
    monkeypatch.undo()
    # The failed evaluation left nothing behind.
    assert durable(pack, history, "2024-06-30", True) == seen == native(pack, history, "2024-06-30",
                                                                        include_closed=True)


def test_error_in_a_sign_off_action_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    history = {"project": {"id": "JD-1", "sector": "industrial"}, "events": [
        {"date": "2024-03-02", "type": "step_completed", "step": "拿地"},
        # Answered before the warning exists (orange from 05-17): a sign-off notice.
        {"date": "2024-04-01", "type": "disposition", "warning": "JD-1/jd.land-to-start/开工监管",
         "action": "in_progress"},
    ]}
    assert any("came before the warning existed" in n for n in durable(pack, history, "2024-06-30").notices)

    def notice(self: Any, item: Any, text: str) -> None:
        raise Boom(text)

    monkeypatch.setattr(adapter._Run, "notice", notice)
    with pytest.raises(Boom, match="came before"):
        durable(pack, history, "2024-06-30")


def _copy_pack(tmp_path: Path, name: str, edit: Any) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / "tests" / "data" / "packs" / "demo", target)
    text = (target / "pack.yaml").read_text(encoding="utf-8")
    (target / "pack.yaml").write_text(edit(text), encoding="utf-8")
    return target


def test_same_pack_id_different_content_do_not_collide(tmp_path: Path) -> None:
    # Rulesets are global by name in durable-rules and cannot be redefined: two packs with
    # the same id and version but different content must get rulesets of their own.
    plain = load_pack_dir(_copy_pack(tmp_path, "plain", lambda t: t))
    # In this copy a yellow warning closes on 无需办理 too, and the review takes 8 days.
    edited = load_pack_dir(_copy_pack(tmp_path, "edited", lambda t: t.replace(
        "closing_actions_by_level: {yellow: [completed, project_exited]}",
        "closing_actions_by_level: {yellow: [completed, project_exited, no_action_needed]}",
    ).replace("default: 5, description: 审查时限", "default: 8, description: 审查时限")))
    assert (plain.id, plain.spec.version) == (edited.id, edited.spec.version)
    assert plain.spec != edited.spec
    history = {"project": {"id": "D-1"}, "events": [
        {"date": "2024-03-01", "type": "step_started", "step": "审查"},
        {"date": "2024-03-06", "type": "disposition", "warning": "D-1/demo.review/审查",
         "action": "no_action_needed"},
    ]}
    results = []
    for pack in (plain, edited, plain, edited):
        got = durable(pack, history, "2024-03-12", True)
        assert got == native(pack, history, "2024-03-12", include_closed=True)
        results.append(got)
    assert results[0] != results[1]
    assert results[0] == results[2] and results[1] == results[3]
    # Parameters are content too.
    longer = plain.with_parameters({"review_days": 3})
    assert durable(longer, history, "2024-03-12") == native(longer, history, "2024-03-12")
    assert adapter._ruleset_name(plain) != adapter._ruleset_name(edited) != adapter._ruleset_name(longer)
    assert adapter._ruleset_name(plain) == adapter._ruleset_name(load_pack_dir(tmp_path / "plain"))


def test_threads_share_the_engine() -> None:
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    as_of = dt.date(2024, 6, 30)
    want = {i: native(pack, _history(i), as_of, include_closed=True) for i in range(200)}
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(offset, 200, 4):
                assert durable(pack, _history(i), as_of, True) == want[i]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_no_wall_clock_threads() -> None:
    # durable-rules' host would start timer threads that dispatch actions on the wall
    # clock; the adapter's host has none.
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    durable(pack, _history(2), "2024-06-30")
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


def test_engine_registry() -> None:
    assert ENGINES == ("native", "durable")
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    history = _history(4)
    assert get_engine("durable")(pack, history, "2024-06-30", True) == \
        get_engine("native")(pack, history, "2024-06-30", True)
    with pytest.raises(LifecycleRulesError, match="native, durable"):
        get_engine("drools")


@pytest.mark.parametrize("as_of", ["2024-02-30", "2300-01-01", "1899-12-31", "2024/06/30", ""])
def test_as_of_errors_like_native(as_of: str) -> None:
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    want = outcome(_native, pack, _history(1), as_of)
    assert isinstance(want, tuple) and want[0] == "LifecycleRulesError", want
    assert outcome(durable, pack, _history(1), as_of) == want


def test_core_does_not_import_the_adapter() -> None:
    code = ("import sys, lifecycle_rules, lifecycle_rules.core.engine, lifecycle_rules.io.batch, "
            "lifecycle_rules.io.cli, lifecycle_rules.testing; "
            "bad = [m for m in sys.modules if m.startswith('lifecycle_rules.engines') or m == 'durable' "
            "or m.startswith('durable.')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_two_reds_on_one_day_take_tiers_in_key_order() -> None:
    # 巫山: planned completion and production on the same day, neither done: both red on
    # the next day. The ladder orders warnings by the day they reached red, then by key.
    pack = pack_at(ROOT / "rulepacks" / "wushan")
    history = {"project": {"id": "WS-1", "sector": "infrastructure"},
               "plan": {"start": "2024-03-31", "completion": "2024-06-30", "production": "2024-06-30"},
               "events": [{"date": "2024-01-10", "type": "step_completed", "step": "开工"}]}
    got = durable(pack, history, "2024-07-01", True)
    assert got == native(pack, history, "2024-07-01", include_closed=True)
    reds = {w.rule: w.tier for w in got.warnings if w.level == "red"}
    assert reds == {"ws.completion-behind-plan": 1, "ws.production-behind-plan": 2}


def test_slow_action_fails_instead_of_losing_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # durable-rules drops an action chain's results when an action ends 10 s after it
    # began (wall clock); the adapter fails loudly first. Here every action is "slow".
    pack = pack_at(ROOT / "rulepacks" / "jiande")
    monkeypatch.setattr(adapter.host, "_ACTION_SECONDS", -1)  # read by the action wrapper, in host
    with pytest.raises(adapter.DurableEngineError, match="took over"):
        durable(pack, _history(1), "2024-06-30")
    monkeypatch.undo()
    assert durable(pack, _history(1), "2024-06-30") == native(pack, _history(1), "2024-06-30")


def test_engine_registry_without_durable_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    import lifecycle_rules.engines as engines

    monkeypatch.delattr(engines, "durable")
    monkeypatch.setitem(sys.modules, "lifecycle_rules.engines.durable", None)
    with pytest.raises(LifecycleRulesError, match=r"lifecycle-rules\[durable\]"):
        get_engine("durable")
    assert get_engine("native") is not None
