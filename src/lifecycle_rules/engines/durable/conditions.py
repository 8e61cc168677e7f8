"""Durable-rules condition expressions: the building blocks of the compiled rules, the
canonical form of attribute values, and the expansion of every ``$or`` into
alternatives (durable-rules mishandles ``$or`` next to references to other patterns and
inside 'none' patterns)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

Expr = dict[str, Any]


def _and(*parts: Expr | None) -> Expr:
    flat: list[Expr] = []
    for p in parts:
        if p is None:
            continue
        if set(p) == {"$and"}:
            flat += p["$and"]
        else:
            flat.append(p)
    return flat[0] if len(flat) == 1 else {"$and": flat}


def _or(parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def _op(op: str, name: str, value: Any) -> Expr:
    return {op: {name: value}}


def _tag(tag: str, *parts: Expr | None) -> Expr:
    return _and({"t": tag}, *parts)


def _one_of(name: str, values: Sequence[str]) -> Expr | None:
    """``name`` is one of ``values``; None if the list is empty (never true)."""
    return _or([{name: v} for v in values]) if values else None


def _canon(value: object, side: str) -> str:
    """An attribute value as a string that is equal exactly when Python's == is: numbers
    and booleans by exact value (1 == 1.0 == True), text by itself, NaN never."""
    if isinstance(value, str):
        # durable-rules keeps a property's length in 16 bits: long text goes by its hash.
        return "s:" + value if len(value) <= 200 else "h:" + hashlib.sha256(value.encode()).hexdigest()
    if isinstance(value, bool | int):
        return "n:" + str(Fraction(int(value)))
    if isinstance(value, float):
        if value != value:
            return f"nan:{side}"
        if value in (float("inf"), float("-inf")):
            return f"f:{value}"
        return "n:" + str(Fraction(value))
    return f"?:{side}:{value!r}"


def _expand(expr: Expr) -> list[Expr]:
    """A condition as a list of alternatives without ``$or`` (its disjunctive form)."""
    parts = expr["$and"] if set(expr) == {"$and"} else [expr]
    alts: list[list[Expr]] = [[]]
    for part in parts:
        if set(part) == {"$or"}:
            options = [o for q in part["$or"] for o in _expand(q)]
            alts = [[*a, o] for a in alts for o in options]
        else:
            alts = [[*a, part] for a in alts]
    return [_and(*a) for a in alts]


def _tag_of(expr: Expr) -> str:
    if "t" in expr:
        return str(expr["t"])
    for part in expr.get("$and", []):
        if "t" in part:
            return str(part["t"])
    raise AssertionError(f"pattern without a fact type: {expr}")
