"""Completeness of cases against what 第五条–第十条 require (filled in by the rules work)."""

from __future__ import annotations


def case_changed(*, case, actor=None) -> None:
    """Re-evaluate a case's requirements after any fact of it changed."""
    # Statutory deadlines (deadline_services): store the case's open deadlines for the dashboard.
    from liuhen.rules.deadline_services import refresh_case_deadlines

    refresh_case_deadlines(case=case)


def archive_gate(*, case, actor) -> None:
    """Raise when the case may not be archived yet (missing requirements without a waiver)."""
