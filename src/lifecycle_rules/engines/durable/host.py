"""The durable-rules host and the hazards of using it (see the package docstring).

One long-lived host per process without its background dispatch threads, and one lock
held around every use of it; a small pool of session ids, each given back when its
session's state is deleted; actions wrapped so that the exceptions they raise are kept
(durable-rules would swallow them) and a slow action fails the evaluation instead of
losing its results."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from durable import engine as _durable_engine

from lifecycle_rules.errors import LifecycleRulesError

if TYPE_CHECKING:
    from lifecycle_rules.engines.durable.state import _Run

_ACTION_SECONDS = 5  # durable-rules drops an action's results after 10 s of wall-clock time


class DurableEngineError(LifecycleRulesError):
    """The durable engine met a state its rules do not cover (a bug of this engine)."""


# -- the host: one per process, no timers, one lock ------------------------------------------


class _QuietHost(_durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatch threads: nothing runs on the wall clock,
    and no action fires outside our own calls."""

    def _run(self) -> None:
        pass


_LOCK = threading.RLock()
_HOST: _QuietHost | None = None
_ACTIVE: dict[str, _Run] = {}
_FREE_SIDS: list[str] = []
_NEXT_SID = [1]


def _reset_lock_after_fork() -> None:
    global _LOCK
    _LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def _take_sid() -> str:
    if _FREE_SIDS:
        return _FREE_SIDS.pop()
    sid = str(_NEXT_SID[0])
    _NEXT_SID[0] += 1
    return sid


def _free_sid(ruleset: str, sid: str, asserted: bool) -> None:
    """Deletes the session's state (if anything was asserted into it) and gives its id
    back to the pool."""
    if asserted:
        try:
            _host().delete_state(ruleset, sid)
        except Exception:
            return  # its session may live on: never use the id again
    _FREE_SIDS.append(sid)


# -- actions: errors kept, slow actions caught -----------------------------------------------


def _action(fn: Callable[[_Run, Any], None]) -> Callable[[Any], None]:
    """An action that finds its evaluation by session id and keeps any exception it
    raises (durable-rules would swallow it), for ``_Run`` to raise after the host call."""

    def action(c: Any) -> None:
        run = _ACTIVE.get(str(c.s.sid))
        if run is None or run.error is not None:
            return
        try:
            fn(run, c)
        except BaseException as exc:  # re-raised after the host call
            run.error = exc
            return
        # durable-rules silently drops the rest of an action chain when an action ends
        # 10 s (wall clock) after it started: fail loudly well before that.
        if _durable_engine._unix_now() - c._start_time > _ACTION_SECONDS:
            run.error = DurableEngineError(
                f"an action took over {_ACTION_SECONDS} s (durable-rules would drop its results)")

    return action


def _get(c: Any, alias: str) -> dict[str, Any]:
    """The fact an action's rule matched under ``alias``."""
    content = getattr(c, alias)
    assert content is not None, alias
    return content._d  # type: ignore[no-any-return]
