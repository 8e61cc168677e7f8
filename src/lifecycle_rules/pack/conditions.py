"""Applicability conditions (适用范围): does a condition hold for a project, in a stage;
and the first assignment of responsible units whose condition holds."""

from __future__ import annotations

from collections.abc import Iterable

from lifecycle_rules.core.history import ProjectView
from lifecycle_rules.pack.parts import Assignment, Condition

ANY_STAGE = "\x00any"


def matches(cond: Condition | None, project: ProjectView, stage: str | None = ANY_STAGE) -> bool:
    """Does the condition hold for this project (in this stage; by default any stage)?"""
    if cond is None:
        return True
    if cond.sectors is not None and project.sector not in cond.sectors:
        return False
    if cond.exclude_sectors is not None and project.sector in cond.exclude_sectors:
        return False
    if cond.in_development_zone is not None and project.in_development_zone != cond.in_development_zone:
        return False
    if cond.investment_wan is not None:
        inv = project.investment_wan
        if inv is None:
            return False
        rng = cond.investment_wan
        if rng.min is not None and inv < rng.min:
            return False
        if rng.below is not None and inv >= rng.below:
            return False
    if cond.stages is not None and stage != ANY_STAGE and stage not in cond.stages:
        return False
    if cond.attributes:
        for name, want in cond.attributes.items():
            if project.attributes.get(name) != want:
                return False
    return True


def assigned(assignments: Iterable[Assignment], project: ProjectView, stage: str | None) -> list[str]:
    for a in assignments:
        if matches(a.when, project, stage):
            return list(a.units)
    return []
