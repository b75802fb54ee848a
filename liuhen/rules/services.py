"""Completeness of cases against what 第五条–第十条 require (filled in by the rules work)."""

from __future__ import annotations


def case_changed(*, case, actor=None) -> None:
    """Re-evaluate a case's requirements after any fact of it changed."""


def archive_gate(*, case, actor) -> None:
    """Raise when the case may not be archived yet (missing requirements without a waiver)."""
