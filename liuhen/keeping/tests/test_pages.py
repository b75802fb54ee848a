"""Retention shown where the records are (第十四条): the case, recording and records pages,
and the retention table page with its audited changes."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.evidence import links
from liuhen.keeping.models import RetentionChange
from liuhen.keeping.retention import Period
from liuhen.keeping.tests.conftest import reached_file_stage
from liuhen.records import services as record_services

pytestmark = pytest.mark.django_db


def test_case_page_shows_the_case_file_period_basis_and_date(client, people, new_case):
    case = new_case("penalty")
    today = timezone.localdate()
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                    closed_on=today, decided_on=today)
    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="retention"' in page and "30年" in page
    assert f"{date(today.year + 31, 1, 1):%Y-%m-%d} 起可按程序销毁" in page
    assert "作出处罚决定的行政处罚案卷" in page and "国家档案局令第8号" in page


def test_recording_page_shows_every_basis_the_longest_first(client, people, new_case,
                                                           stored_recording):
    rec = stored_recording()
    client.force_login(people["officer_a"].user)
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    captured = timezone.localtime(rec.captured_start).date()
    assert "6个月" in page and f"{Period(months=6).end(captured):%Y-%m-%d} 起可按程序销毁" in page
    assert "第十四条第一款" in page
    case = new_case("penalty")
    links.add_case_link(actor=people["officer_a"].user, recording=rec, case=case,
                        reason="现场检查")
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert "案件归档后起算" in page and case.number in page and "第十四条第二款" in page


def test_records_page_shows_the_documents_period(client, people, new_case):
    case = new_case("levy")
    record_services.add_document(actor=people["officer_a"].user, case=case,
                                 doc_type="levy_declaration", date=timezone.localdate())
    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{case.pk}/records/").content.decode()
    assert 'id="document-retention"' in page and "30年" in page and "案件归档后起算" in page


def test_retention_table_page_and_an_audited_change(client, people):
    client.force_login(people["legal"].user)
    page = client.get("/keeping/retention/").content.decode()
    assert "第十四条第一款" in page and 'name="reason"' in page
    assert AuditEntry.objects.filter(action="retention.table_viewed").exists()
    response = client.post("/keeping/retention/", {"row_id": "recording.patrol",
                                                   "period": "2m", "reason": "缩短"})
    assert response.status_code == 400 and "法定最低期限" in response.content.decode()
    response = client.post("/keeping/retention/", {"row_id": "case_file.fee", "period": "30y",
                                                   "reason": "审计署建议"}, follow=True)
    assert response.status_code == 200 and "审计署建议" in response.content.decode()
    assert RetentionChange.objects.get().period == "30y"


def test_an_officer_sees_the_table_but_cannot_change_it(client, people):
    client.force_login(people["officer_a"].user)
    page = client.get("/keeping/retention/").content.decode()
    assert 'name="reason"' not in page
    response = client.post("/keeping/retention/", {"row_id": "case_file.fee", "period": "30y",
                                                   "reason": "x"})
    assert response.status_code == 403 and not RetentionChange.objects.exists()
    assert AuditEntry.objects.filter(action="retention.change_refused",
                                     outcome="denied").exists()
