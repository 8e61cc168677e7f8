"""Pack versions and their effective dates (``pack.yaml`` ``effective:``), pure.

A pack reference is ``ID`` or ``ID@VERSION`` (``jiande``, ``jiande@2024.1``). Several
versions of one pack may be installed side by side (``plugins.load_pack`` chooses among
them with ``choose``); a version states when it is in force with ``effective: {from,
until}``, both days inclusive, ``null`` meaning "not stated" (no bound on that side).

- **Version order** (``version_key``): a version is compared part by part, the parts cut
  at ``.`` and ``-``: numbers as numbers (``2024.10`` after ``2024.9``), text as text,
  a number after a text; a version that goes on after another's end is later
  (``2024.2.1`` after ``2024.2``), except when what follows is a ``-`` suffix: that marks a
  pre-release, before the bare version (``2024.2-draft`` before ``2024.2``).
- **In force on a day** (``in_force``): ``from <= day <= until``, a bound not stated
  always holding. A pack with no ``effective:`` states no dates: in force on every day.
- **Choosing** (``choose``), among the installed versions of one id: with no day, the
  newest by version; on a day, the newest by version of those in force on it. If none is
  in force, that is an error naming each version and its dates, unless outside dates are
  allowed: then the newest whose ``from`` is on or before the day (a day past every
  version's end, or in a gap: the last that had come into force), else (a day before
  every version) the oldest.
- **The check** (``check_effective``): evaluating a version on a day outside its dates
  is an error naming the pack, its version, its dates and the day, unless allowed.
  A draft (``draft: true``) is checked the same way; its ``from`` is usually null (a
  draft is not issued), so it is never outside on that side.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lifecycle_rules.errors import PackError

if TYPE_CHECKING:
    from lifecycle_rules.pack.compile import Pack
    from lifecycle_rules.pack.spec import Effective, PackSpec

__all__ = [
    "ALLOW_HINT", "check_effective", "choose", "dates_text", "in_force", "parse_ref", "version_key",
]  # fmt: skip

ALLOW_HINT = ("allow_outside_effective=True in Python, --allow-outside-effective on the command line, "
              "to evaluate it anyway")
_PART = re.compile(r"\d+|[^\d.\-]+|-")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``jiande@2024.1`` -> (``jiande``, ``2024.1``); ``jiande`` -> (``jiande``, None)."""
    pack_id, at, version = ref.partition("@")
    if at and not version:
        raise PackError(f"{ref!r}: no version after '@' (write ID@VERSION, e.g. jiande@2024.1)")
    return pack_id, (version if at else None)


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """A key that orders versions as the module says (``2024.9`` < ``2024.10``,
    ``2024.2-draft`` < ``2024.2`` < ``2024.2.1``)."""
    out: list[tuple[int, int, str]] = []
    for part in _PART.findall(version):
        if part == "-":
            out.append((0, 0, ""))  # a pre-release suffix: before the end of the version
        elif part.isdigit():
            out.append((2, int(part), ""))
        else:
            out.append((1, 0, part))
    out.append((1, -1, ""))  # the end: after a suffix, before any further part
    return tuple(out)


def _bounds(spec: PackSpec) -> tuple[dt.date | None, dt.date | None]:
    eff = spec.effective
    return (None, None) if eff is None else (eff.from_, eff.until)


def in_force(spec: PackSpec, day: dt.date) -> bool:
    """Is this version in force on ``day`` (a bound not stated always holds)?"""
    start, end = _bounds(spec)
    return (start is None or start <= day) and (end is None or day <= end)


def dates_text(effective: Effective | None) -> str:
    """The dates in words: ``in force 2024-07-02 to 2024-12-31``, ``in force from
    2024-07-02 (no end stated)``, ``dates not stated``; a draft begins ``draft, ``."""
    start, end = (None, None) if effective is None else (effective.from_, effective.until)
    if start is None:
        text = "dates not stated" if end is None else f"in force until {end.isoformat()} (start not stated)"
    elif end is None:
        text = f"in force from {start.isoformat()} (no end stated)"
    else:
        text = f"in force {start.isoformat()} to {end.isoformat()}"
    return f"draft, {text}" if effective is not None and effective.draft else text


def check_effective(pack: Pack, day: dt.date, allow: bool) -> None:
    """Raise a PackError if ``day`` is outside the effective dates of ``pack`` (its version),
    unless ``allow``. Pure: the pack and the day decide."""
    spec = pack.spec
    if allow or in_force(spec, day):
        return
    start, _ = _bounds(spec)
    when = "before it came into force" if start is not None and day < start else "after it ceased to be in force"
    raise PackError(f"pack {pack.label}: {dates_text(spec.effective)}; as_of {day.isoformat()} is "
                    f"{when} (use the version in force on that day, or {ALLOW_HINT})", pack=pack.id)


def choose(specs: Sequence[PackSpec], day: dt.date | None, allow: bool) -> int:
    """The index in ``specs`` (installed versions of one pack id, loaded) of the version to
    use, as the module says; a PackError if none is in force on ``day`` and not ``allow``."""
    if not specs:
        raise ValueError("no versions to choose from")
    by_version = sorted(range(len(specs)), key=lambda i: version_key(specs[i].version))
    if day is None:
        return by_version[-1]
    current = [i for i in by_version if in_force(specs[i], day)]
    if current:
        return current[-1]
    if not allow:
        listed = "; ".join(f"{specs[i].id}@{specs[i].version}: {dates_text(specs[i].effective)}"
                           for i in by_version)
        raise PackError(f"no installed version of pack {specs[0].id} is in force on {day.isoformat()} "
                        f"({listed}); give one as {specs[0].id}@VERSION with {ALLOW_HINT}", pack=specs[0].id)
    started = [i for i in by_version if (s := _bounds(specs[i])[0]) is None or s <= day]
    if started:
        return started[-1]
    return min(by_version, key=lambda i: (_bounds(specs[i])[0] or dt.date.min, version_key(specs[i].version)))
