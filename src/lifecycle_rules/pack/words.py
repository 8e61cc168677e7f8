"""Pack values in words (English, exact as the engine computes): amounts, thresholds,
conditions and anchors. ``docs/packs.md`` is written with them; each rule kind says
what it measures and when its levels come through them. A parameter with no default
has no number to show: its rules are said to be inactive until it is set, their levels
as written (``needs_limit``)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from lifecycle_rules.core.dates import Threshold, ordinal
from lifecycle_rules.core.vocabulary import LEVEL_RANK, Level

if TYPE_CHECKING:
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.parts import Anchor, Condition, Duration, EarlyLevel, RuleBase

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


NO_DEFAULT = "no default — needs a limit"


def default(value: int | float | str | None) -> str:
    """A parameter's default as the docs show it (none: the rules using it need a limit)."""
    return NO_DEFAULT if value is None else str(value)


def _written(pack: Pack, raw: object, unit: str | None = None) -> str:
    """A value as written: ``amount`` if it has a value, else the unset parameter's name."""
    if isinstance(raw, str) and raw.startswith("$") and raw[1:] not in pack.parameters:
        return code(raw) + (f" {UNIT_WORDS[unit]}" if unit else "")
    if isinstance(raw, int | float | str) and not isinstance(raw, bool):
        return amount(pack, raw, unit)
    return str(raw)


def _spec_words(pack: Pack, spec: object) -> str:
    """One level's (or a limit's) spec as written: a duration, a fraction before the limit."""
    before = getattr(spec, "before_limit", None)
    if before is not None:
        return f"{_written(pack, before)} before the limit"
    for unit in UNIT_WORDS:
        value = getattr(spec, unit, None)
        if value is not None:
            return _written(pack, value, unit)
    if getattr(spec, "by_investment", None) is not None:
        return "by investment band"
    return _written(pack, spec)


def needs_limit(pack: Pack, rule: RuleBase) -> str:
    """An inactive rule (``Pack.inactive``) in words: the parameters it waits for, then its
    levels as written (no number is made up for a value the pack does not give)."""
    names = ", ".join(code("$" + n) for n in pack.inactive.get(rule.id, ()))
    levels: dict[Level, object] = getattr(rule, "levels", {})
    parts: list[str] = []
    for level in levels_sorted(levels):
        spec = levels[level]
        if spec == "limit":
            parts.append(f"{level} at the limit, {_spec_words(pack, getattr(rule, 'limit', None))}, "
                         "from the day after it")
        elif isinstance(spec, int):
            parts.append(f"{level} at {spec}")
        else:
            words = _spec_words(pack, spec)
            parts.append(f"{level} {words}" if words.endswith("the limit") else f"{level} after {words}")
    return (f"**inactive until set** — needs a limit: {names} (no default). Once set: "
            + "; ".join(parts))
