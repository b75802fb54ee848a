"""Fixtures of the keeping tests: the vault's (real media through the real ingest) and cases."""

from __future__ import annotations

import pytest
from django.utils import timezone

from liuhen.cases import services as case_services
from liuhen.cases.choices import Stage
from liuhen.cases.tests.factories import make_case
from liuhen.evidence import links
from liuhen.evidence.tests import mediafactory
from liuhen.evidence.tests.conftest import (  # noqa: F401 (fixtures used by these tests)
    make_media,
    stored_recording,
    vault,
)
from liuhen.packaging.tests.conftest import bare_python  # noqa: F401 (a fixture)
from liuhen.records import pdf as record_pdf
from liuhen.records import services as record_services


@pytest.fixture
def new_case(people, bureau):
    """Factory: a case of team A by officer_a and officer_a2 (``kind``, facts as keywords)."""

    def make(kind="penalty", **extra):
        return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                         officers=[people["officer_a"], people["officer_a2"]], kind=kind,
                         **extra)

    return make


def _walk_to_file_stage(actor, case):
    for step in (case_services.start_investigation, case_services.give_notice,
                 case_services.make_decision, case_services.start_service,
                 case_services.enforce, case_services.close_case, case_services.make_case_file):
        case = step(actor=actor, case=case)
    assert case.stage == Stage.CASE_FILE
    return case


@pytest.fixture
def filed_case(people, new_case, stored_recording, tmp_path):  # noqa: F811 (the fixture)
    """A penalty case with a generated decision (PDF), a scanned filing form (JPEG), a record
    kept on paper only, two recordings linked, walked to the file stage."""
    actor = people["officer_a"].user
    case = new_case("penalty", cause="拖欠劳动者工资（卷宗测试）")
    today = timezone.localdate()
    record_pdf.generate_document(actor=actor, case=case, doc_type="penalty_decision",
                                 store=True)
    scan = mediafactory.make_jpeg_with_exif(tmp_path / "立案审批表.jpg",
                                            taken_at=timezone.now())
    record_services.add_document(actor=actor, case=case, doc_type="filing_approval",
                                 file_path=scan, original_name="立案审批表.jpg",
                                 number="立字〔2026〕7号", date=today)
    record_services.add_document(actor=actor, case=case, doc_type="inquiry_record", date=today)
    for _ in range(2):
        links.add_case_link(actor=actor, recording=stored_recording(), case=case,
                            reason="现场检查录像")
    return _walk_to_file_stage(actor, case)


def reached_file_stage(case):
    """Put ``case`` at 案卷制作 without walking every step of its kind: a closing date is
    accepted only once the case reached that stage (cases.dates, issue 13 item 3)."""
    type(case).objects.filter(pk=case.pk).update(stage=Stage.CASE_FILE)
    case.refresh_from_db()
    return case
