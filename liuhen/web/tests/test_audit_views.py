"""The audit page and its CSV export, for the legal affairs office (第二十三条, 第二十六条).

Viewing and exporting the log are themselves audited; other roles are refused with a denied
entry.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record

pytestmark = pytest.mark.django_db


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer.user)
    return client


def last_entry(action):
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


@pytest.fixture
def entries(people):
    record(actor=people["officer_a"].user, action="case.viewed", target=("cases.case", "7"))
    record(
        actor=people["officer_b"].user,
        action="case.viewed",
        target=("cases.case", "8"),
        outcome="denied",
        reason="对象不存在或无权访问",
    )
    record(
        actor=people["officer_b"].user,
        action="party.created",
        target=("cases.party", "3"),
        detail={"kind": "person", "说明": "中文"},
    )


def test_audit_page_refused_for_officer_and_audited(people, entries):
    response = client_for(people["officer_a"]).get(reverse("audit_list"))
    assert response.status_code == 403
    entry = last_entry("audit.viewed")
    assert entry.outcome == "denied" and entry.actor_id == people["officer_a"].user.pk


def test_audit_page_for_legal_office_filters_and_is_audited(people, entries):
    client = client_for(people["legal"])
    response = client.get(reverse("audit_list"), {"action": "case.", "outcome": "denied"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "cases.case#8" in html and "cases.case#7" not in html and "cases.party#3" not in html
    entry = last_entry("audit.viewed")
    assert entry.outcome == "succeeded" and entry.actor_id == people["legal"].user.pk
    assert entry.detail["filters"] == {"action": "case.", "outcome": "denied"}
    html = client.get(
        reverse("audit_list"), {"object_type": "cases.case", "object_id": "7"}
    ).content.decode()
    assert "cases.case#7" in html and "cases.case#8" not in html
    html = client.get(reverse("audit_list"), {"actor": people["officer_b"].name}).content.decode()
    assert "cases.party#3" in html and "cases.case#7" not in html


def test_audit_page_time_range_and_bad_input(people, entries):
    client = client_for(people["legal"])
    html = client.get(reverse("audit_list"), {"since": "2999-01-01T00:00"}).content.decode()
    assert "没有符合条件的记录" in html
    response = client.get(reverse("audit_list"), {"since": "yesterday", "outcome": "maybe"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "有效的日期/时间" in html and "选择一个有效的选项" in html
    html = client.get(
        reverse("audit_list"), {"since": "2026-05-02T00:00", "until": "2026-05-01T00:00"}
    ).content.decode()
    assert "截止时间不能早于起始时间" in html


def test_audit_page_paginates(people, entries, monkeypatch):
    from liuhen.web.auditlog import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = client_for(people["legal"])
    html = client.get(reverse("audit_list"), {"outcome": "succeeded"}).content.decode()
    assert "第 1 / 2 页" in html and "下一页" in html  # 2 of 3 succeeded entries (+ this view)
    html = client.get(reverse("audit_list"), {"outcome": "succeeded", "page": "2"}).content.decode()
    assert "第 2 / 2 页" in html and "上一页" in html


def test_audit_export_refused_for_unit_head(people, entries):
    response = client_for(people["head_a"]).get(reverse("audit_export"))
    assert response.status_code == 403
    assert last_entry("audit.exported").outcome == "denied"


def test_audit_export_streams_csv_with_bom_and_is_audited(people, entries):
    """The export opens in Excel (UTF-8 BOM), covers the filter, and leaves its own entry."""
    response = client_for(people["legal"]).get(reverse("audit_export"), {"action": "party."})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["seq", "uuid", "at"] and rows[0][-1] == "hash"
    assert [r[9] for r in rows[1:]] == ["party.created"]
    assert "中文" in rows[1][15]
    entry = last_entry("audit.exported")
    assert entry.outcome == "succeeded" and entry.detail["filters"] == {"action": "party."}


def test_audit_export_bad_filter_is_a_chinese_error(people):
    response = client_for(people["legal"]).get(reverse("audit_export"), {"since": "nope"})
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()
