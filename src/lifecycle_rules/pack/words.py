"""Pack values in words (English, exact as the engine computes): amounts, thresholds,
conditions and anchors. ``docs/packs.md`` is written with them; each rule kind says
what it measures and when its levels come through them."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import Threshold, ordinal
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level

if TYPE_CHECKING:
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.parts import Anchor, Condition, Duration, EarlyLevel

UNIT_WORDS = {"days": "days", "working_days": "working days", "months": "months"}


def num(value: Fraction | float | int) -> str:
    """75 -> '75'; 250/3 -> '83 1/3'; 0.5 -> '1/2' (exact, as the engine computes)."""
    f = value if isinstance(value, Fraction) else Fraction(str(value))
    if f.denominator == 1:
        return str(f.numerator)
    whole, rest = divmod(f.numerator, f.denominator)
    frac = f"{rest}/{f.denominator}"
    return f"{whole} {frac}" if whole else frac


def wan(amount: float) -> str:
    """An amount in 万元, with 亿 when it is a round number of them."""
    a = Fraction(str(amount))
    text = f"{num(a)}万"
    if a and a % 10000 == 0:
        text += f" ({num(a / 10000)}亿)"
    return text


def code(text: str) -> str:
    return f"`{text}`"


def amount(pack: Pack, raw: int | float | str, unit: str | None = None) -> str:
    """A value as written, in words: ``180 days (`$sign_to_land_days`)`` for a parameter
    (its value), ``90 days`` or ``1/6`` otherwise."""
    text = num(pack.number(raw)) + (f" {UNIT_WORDS[unit]}" if unit else "")
    if isinstance(raw, str) and raw.startswith("$"):
        text += f" ({code(raw)})"
    return text


def reached(th: Threshold, after: str = "") -> str:
    """When a threshold is reached (SPEC §5: the first day elapsed time exceeds it);
    ``after`` names the anchor when it is not the rule's obvious one."""
    whole = th.value.numerator // th.value.denominator
    if th.unit == "days":
        return f"day {whole + 1}" + (f" after {after}" if after else "")
    if th.unit == "working_days":
        return f"the {ordinal(whole + 1)} working day"
    if th.value.denominator == 1:
        return f"the day after {whole} months"
    return f"past {num(th.value)} months, pro rata within the month"


def span(th: Threshold) -> str:
    return f"{num(th.value)} {UNIT_WORDS[th.unit]}"


def duration_raw(spec: Duration | EarlyLevel) -> tuple[str, int | float | str]:
    for unit in ("days", "working_days", "months"):
        value = getattr(spec, unit)
        if value is not None:
            return unit, value
    raise ValueError("no duration")  # the schema requires one


def levels_sorted(levels: Iterable[Level]) -> list[Level]:
    return sorted(levels, key=lambda lv: LEVEL_RANK[lv])


def duration_levels(pack: Pack, levels: dict[Level, Duration], after: str, anchor: str = "") -> str:
    parts: list[str] = []
    for level in levels_sorted(levels):
        spec = levels[level]
        unit, raw = duration_raw(spec)
        th = pack.duration(spec)
        parts.append(f"{level} after {amount(pack, raw, unit)} {after} — from {reached(th, anchor)}")
    return "; ".join(parts)


def condition(cond: Condition | None) -> str:
    if cond is None:
        return "every project"
    parts: list[str] = []
    if cond.sectors is not None:
        parts.append("sector " + " or ".join(cond.sectors))
    if cond.exclude_sectors is not None:
        parts.append("sector not " + " or ".join(cond.exclude_sectors))
    if cond.in_development_zone is not None:
        parts.append("in the development zone" if cond.in_development_zone
                     else "outside the development zone")
    if cond.investment_wan is not None:
        rng = cond.investment_wan
        if rng.min is not None:
            parts.append(f"investment ≥ {wan(rng.min)}")
        if rng.below is not None:
            parts.append(f"investment < {wan(rng.below)}")
    if cond.stages is not None:
        parts.append("stage " + " or ".join(cond.stages))
    for name, want in (cond.attributes or {}).items():
        shown = str(want).lower() if isinstance(want, bool) else str(want)
        parts.append(f"{name} = {shown}")
    return "; ".join(parts) if parts else "every project"


def anchor_words(anchor: Anchor) -> str:
    if anchor.step_completed is not None:
        return f"{anchor.step_completed} completed"
    if anchor.step_started is not None:
        return f"{anchor.step_started} started"
    if anchor.stage_entered is not None:
        return f"stage {anchor.stage_entered} entered"
    return f"the planned {anchor.plan} date (plan.{anchor.plan})"
