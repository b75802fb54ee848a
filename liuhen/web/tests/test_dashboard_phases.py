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
    placed = [Stage.NOTICE, Stage.LEGAL_REVIEW, Stage.COLLECTIVE, Stage.INVESTIGATION,
              Stage.ENFORCEMENT]
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
    assert f'href="/cases/?stage={Stage.LEGAL_REVIEW.value}">{Stage.LEGAL_REVIEW.label} 1</a>' in html
