"""Rule kinds. Each kind is one module, holding everything about it:

- ``Model``: its pydantic model in the pack format (``kind: <name>``);
- ``check(pack, rule, path)``: cross-checks against the pack (steps, stages, event
  types, level order), raising a located PackError;
- ``compile(pack, rule)``: run once, when the pack is compiled; returns the rule's
  ``Clock``, a pure function ``(facts, notices) -> episodes``;
- ``measures(rule)`` and ``levels_in_words(pack, rule)``: what the rule watches and when
  each level comes, in words (``docs/packs.md``);
- ``explain(pack, rule, facts)``: the intermediate values behind its episodes (``core/explain``).

``REGISTRY`` below lists them; the pack schema's rule union, the generated docs and the
tests' strategies derive from it, and a meta-test (``tests/test_kinds.py``) fails when a
kind lacks docs, fixtures or a counterpart in the durable engine. Adding a kind: its
module, one line here, its counterpart in ``engines/durable``, and its cases.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from lifecycle_rules.kinds import cadence, deadline, shortfall, stagnation
from lifecycle_rules.kinds.episode import Episode

if TYPE_CHECKING:
    from lifecycle_rules.core.facts import Facts

# A compiled rule: what it finds in one history on one day. Notices (what could not be
# evaluated, and why) are appended to the list it is given.
Clock = Callable[["Facts", list[str]], list[Episode]]

REGISTRY: dict[str, ModuleType] = {
    "deadline": deadline,
    "stagnation": stagnation,
    "shortfall": shortfall,
    "cadence": cadence,
}

__all__ = ["REGISTRY", "Clock", "Episode"]
