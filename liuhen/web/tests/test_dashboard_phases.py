"""The dashboard reports cases by 第二条's phases, with the law's finer steps under each
(issue 8 item 2: 事先告知, 法制审核, 集体讨论 belong to 审查决定; 执行, 结案 to 送达执行)."""

from __future__ import annotations

import re

import pytest

from conftest import logged_in
from liuhen.cases.choices import Stage
from liuhen.cases.models import Case
from liuhen.rules.tests.helpers import penalty_case

pytestmark = pytest.mark.django_db


def _phase_counts(html: str) -> dict[str, int]:
    block = html.split('id="per-phase"', 1)[1].split("</section>", 1)[0]
    return {label: int(n) for n, label in re.findall(r"<b>(\d+)</b><span>([^<]+)</span>", block)}


def test_cases_are_counted_by_phase_with_their_steps_linked(people):
    placed = [
        Stage.NOTICE,
        Stage.LEGAL_REVIEW,
        Stage.COLLECTIVE,
        Stage.INVESTIGATION,
        Stage.ENFORCEMENT,
    ]
    for stage in placed:
        case = penalty_case(people)
        Case.objects.filter(pk=case.pk).update(stage=stage)
    html = logged_in(people["head_a"]).get("/").content.decode()
    counts = _phase_counts(html)
    assert counts["审查决定"] == 3  # 事先告知 + 法制审核 + 集体讨论
    assert counts["调查取证"] == 1
    assert counts["送达执行"] == 1
    assert counts["归档管理"] == 0
    assert sum(counts.values()) == len(placed)
    assert len(counts) == 7  # every phase of 第二条 is shown, also when empty
    assert (
        f'href="/cases/?stage={Stage.LEGAL_REVIEW.value}">{Stage.LEGAL_REVIEW.label} 1</a>' in html
    )


def test_counts_per_stage_are_kept_briefly_per_scope(people, settings, monkeypatch):
    """Issue 9 item 3: counting every case of a scope by stage (a detachment's 50,000 of the
    pages bench's 100,000: 12.6 ms of SQLite on each dashboard) is done once per
    DEADLINE_SUMMARY_SECONDS per scope, like the deadline counts beside it; another scope
    counts its own; after the window the counts are fresh."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from liuhen.core import kept

    settings.DEADLINE_SUMMARY_SECONDS = 30
    clock = {"now": 1000.0}
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(kept, "_kept", {})
    case = penalty_case(people)
    Case.objects.filter(pk=case.pk).update(stage=Stage.NOTICE)
    head = logged_in(people["head_a"])
    assert _phase_counts(head.get("/").content.decode())["审查决定"] == 1
    Case.objects.filter(pk=penalty_case(people).pk).update(stage=Stage.NOTICE)
    clock["now"] += 29
    with CaptureQueriesContext(connection) as queries:
        html = head.get("/").content.decode()
    assert _phase_counts(html)["审查决定"] == 1  # kept
    assert not [q for q in queries if 'COUNT("cases_case"."id")' in q["sql"]]
    legal = logged_in(people["legal"])  # another scope: counted now
    assert _phase_counts(legal.get("/").content.decode())["审查决定"] == 2
    clock["now"] += 2
    assert _phase_counts(head.get("/").content.decode())["审查决定"] == 2  # fresh


def test_my_open_cases_are_mine_only(people):
    """我承办的在办案件: the cases the officer handles, not archived ones, not a colleague's."""
    own = [penalty_case(people) for _ in range(2)]
    Case.objects.filter(pk=own[1].pk).update(stage=Stage.ARCHIVING)
    html = logged_in(people["officer_a"]).get("/").content.decode()
    assert own[0].number in html and own[1].number not in html
    assert "（共 1 件）" in html
    assert own[0].number not in logged_in(people["officer_b"]).get("/").content.decode()
