"""Engines that evaluate a history against a pack: ``get_engine(name)``.

``native`` is the library's own engine (``lifecycle_rules.core.engine.evaluate``);
``durable`` is the second, independent engine on durable-rules
(``lifecycle_rules.engines.durable``), used to check the first (differential tests).
Both take ``(pack, history, as_of, include_closed=False)`` and return a ``Result``;
for the same inputs they return equal results. The durable engine is imported only
when asked for: it needs the optional dependency ``durable-rules``
(``pip install 'lifecycle-rules[durable]'``). The core never imports this package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from lifecycle_rules.core.history import History
from lifecycle_rules.core.results import Result
from lifecycle_rules.errors import LifecycleRulesError
from lifecycle_rules.pack.compile import Pack

EngineFn = Callable[[Pack, History | Mapping[str, Any] | str | bytes, dt.date | str, bool], Result]
ENGINES: tuple[str, ...] = ("native", "durable")


def _native(pack: Pack, history: History | Mapping[str, Any] | str | bytes,
            as_of: dt.date | str, include_closed: bool = False) -> Result:
    from lifecycle_rules.core.engine import evaluate

    return evaluate(pack, history, as_of, include_closed=include_closed)


def get_engine(name: str) -> EngineFn:
    """The evaluate function of engine ``name`` (one of ``ENGINES``)."""
    if name == "native":
        return _native
    if name == "durable":
        try:
            from lifecycle_rules.engines.durable import evaluate as durable_evaluate
        except ImportError as exc:
            raise LifecycleRulesError(
                f"the durable engine needs durable-rules ({exc}); install it with "
                "pip install 'lifecycle-rules[durable]'"
            ) from None
        return durable_evaluate
    raise LifecycleRulesError(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "EngineFn", "get_engine"]
