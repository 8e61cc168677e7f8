"""Cross-checks a rule kind runs against its pack when the pack is compiled: named
steps, stages, event types, and levels that come in order in time. Each raises a
PackError at the rule's key path (``rules[3].anchor.step_completed``)."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import Threshold
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level
from lifecycle_rules.errors import PackError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.parts import Anchor


# The longest duration a rule may state, in each unit: about a century, far beyond any
# policy's limit, and far enough from the end of the calendar (history dates stop at
# 2199) that no clock overflows a date.
MAX_SPAN = {"days": Fraction(36600), "working_days": Fraction(25000), "months": Fraction(1200)}


def bounded(threshold: Threshold) -> Threshold:
    """The threshold, or ValueError if it is negative or longer than MAX_SPAN allows."""
    most = MAX_SPAN[threshold.unit]
    if not -most <= threshold.value <= most:
        raise ValueError(f"{float(threshold.value):g} {threshold.unit} is out of range: a duration is "
                         f"at most {most} {threshold.unit}")
    return threshold


def err(path: str, message: str) -> PackError:
    return PackError(message, path=path)


def step(pack: Pack, path: str, name: str | None) -> None:
    if name is not None and name not in pack.step_of:
        raise err(path, f"unknown step {name!r}; steps and aliases are {sorted(pack.step_of)}")


def stages(pack: Pack, path: str, names: Iterable[str] | None) -> None:
    for name in names or ():
        if name not in pack.stage_order:
            raise err(path, f"unknown stage {name!r}; the pack's stages are {list(pack.stage_order)}")


def event_type(pack: Pack, path: str, name: str) -> None:
    if name not in pack.event_types:
        raise err(path, f"unknown event type {name!r}")


def anchor(pack: Pack, path: str, ref: Anchor, star: str | None = None) -> None:
    for k in ("step_completed", "step_started"):
        name = getattr(ref, k)
        if name != star:
            step(pack, f"{path}.{k}", name)
    if ref.stage_entered is not None and ref.stage_entered not in pack.stage_order:
        raise err(f"{path}.stage_entered", f"unknown stage {ref.stage_entered!r}")


def _day_span(t: Threshold) -> tuple[Fraction, Fraction]:
    """The fewest and most calendar days a threshold can be, whatever the anchor: a
    month is 28 to 31 days; a working day at least one day, and the longest official
    holiday runs (Spring Festival, National Day) add at most about 10 days a year."""
    v = t.value
    if t.unit == "days":
        return v, v
    if t.unit == "months":
        return v * 28, v * 31 + 3
    return v, v * Fraction(7, 5) + 12 * (1 + v // 250)


def ordered(path: str, thresholds: dict[Level, Threshold]) -> None:
    """Levels must come in order in time: yellow before orange before red. In one unit
    that is exact; across units, a level that always comes after the next one is an
    error (one that only may, for some anchors, is left to the engine, which never lets
    a level fall)."""
    ranked = sorted(thresholds.items(), key=lambda kv: LEVEL_RANK[kv[0]])
    for (lo, a), (hi, b) in pairwise(ranked):
        same = a.unit == b.unit
        if (a.value >= b.value) if same else (_day_span(a)[0] > _day_span(b)[1]):
            raise err(f"{path}.levels", f"{hi} must come after {lo} "
                      f"({hi} at {b.value} {b.unit}, {lo} at {a.value} {a.unit})")
