"""The audit page and its CSV export, for the legal affairs office (第二十三条, 第二十六条).

Viewing and exporting the log are themselves audited; other roles are refused with a denied
entry.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import last_entry, logged_in
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record

pytestmark = pytest.mark.django_db


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
    response = logged_in(people["officer_a"]).get(reverse("audit_list"))
    assert response.status_code == 403
    entry = last_entry("audit.viewed")
    assert entry.outcome == "denied" and entry.actor_id == people["officer_a"].user.pk


def test_audit_page_for_legal_office_filters_and_is_audited(people, entries):
    client = logged_in(people["legal"])
    response = client.get(reverse("audit_list"), {"action": "case.", "outcome": "denied"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/cases/8/"' in html and 'href="/cases/7/"' not in html and "当事人 3" not in html
    entry = last_entry("audit.viewed")
    assert entry.outcome == "succeeded" and entry.actor_id == people["legal"].user.pk
    assert entry.detail["filters"] == {"action": "case.", "outcome": "denied"}
    html = client.get(
        reverse("audit_list"), {"object_type": "cases.case", "object_id": "7"}
    ).content.decode()
    assert 'href="/cases/7/"' in html and 'href="/cases/8/"' not in html
    html = client.get(reverse("audit_list"), {"actor": people["officer_b"].name}).content.decode()
    assert "当事人 3" in html and 'href="/cases/7/"' not in html


def test_audit_page_shows_names_not_codes(people, entries):
    """Issue 13 item 1: the action, the object type and the details in words; the filters offer
    names too (no "如 cases.case" to type)."""
    record(actor=people["officer_a"].user, action="case.stage_changed",
           target=("cases.case", "7"),
           detail={"from": "initiation", "to": "investigation", "note": "调查",
                   "after": {"hearing_requested": True}})
    html = logged_in(people["legal"]).get(reverse("audit_list")).content.decode()
    assert "查看案件" in html and "登记当事人" in html and "变更环节" in html
    assert "执法案件 7" in html
    assert "<dt>原环节</dt><dd>程序启动</dd>" in html and "<dt>新环节</dt><dd>调查取证</dd>" in html
    assert "<dt>类别</dt><dd>自然人</dd>" in html
    assert "修改后" in html and "当事人申请听证：是" in html
    assert ">case.stage_changed<" not in html and "{&quot;" not in html
    assert '<option value="cases.case">执法案件</option>' in html
    assert '<option value="case.">全部案件操作</option>' in html


def test_audit_page_time_range_and_bad_input(people, entries):
    client = logged_in(people["legal"])
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
    client = logged_in(people["legal"])
    html = client.get(reverse("audit_list"), {"outcome": "succeeded"}).content.decode()
    assert "第 1 / 2 页" in html and "下一页" in html  # 2 of 3 succeeded entries (+ this view)
    html = client.get(reverse("audit_list"), {"outcome": "succeeded", "page": "2"}).content.decode()
    assert "第 2 / 2 页" in html and "上一页" in html


def test_audit_export_refused_for_unit_head(people, entries):
    response = logged_in(people["head_a"]).get(reverse("audit_export"))
    assert response.status_code == 403
    assert last_entry("audit.exported").outcome == "denied"


def test_audit_export_streams_csv_with_bom_and_is_audited(people, entries):
    """The export opens in Excel (UTF-8 BOM), covers the filter, and leaves its own entry; its
    headers are Chinese and its times Beijing time with the offset (issue 13 item 1)."""
    response = logged_in(people["legal"]).get(reverse("audit_export"), {"action": "party."})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header = rows[0]
    assert header[:3] == ["序号", "编号", "时间（北京时间，UTC+08:00）"]
    assert header[-1] == "本条哈希（SM3）"
    row = dict(zip(header, rows[1], strict=True))
    assert [r[header.index("操作代码")] for r in rows[1:]] == ["party.created"]
    assert row["操作"] == "登记当事人" and row["对象类型"] == "当事人"
    entry = AuditEntry.objects.get(action="party.created")
    assert row["时间（北京时间，UTC+08:00）"] == timezone.localtime(entry.at).isoformat(
        sep=" ", timespec="seconds")
    assert row["时间（北京时间，UTC+08:00）"].endswith("+08:00")
    assert "类别：自然人" in row["详情"] and "中文" in row["详情（原始 JSON）"]
    assert row["本条哈希（SM3）"] == entry.hash
    entry = last_entry("audit.exported")
    assert entry.outcome == "succeeded" and entry.detail["filters"] == {"action": "party."}


def test_audit_export_as_xlsx(people, entries):
    import openpyxl

    response = logged_in(people["legal"]).get(
        reverse("audit_export"), {"action": "party.", "format": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "时间（北京时间，UTC+08:00）"
    assert rows[1][9] == "登记当事人" and rows[1][2].endswith("+08:00")
    assert last_entry("audit.exported").detail["format"] == "xlsx"


def test_audit_export_bad_filter_is_a_chinese_error(people):
    response = logged_in(people["legal"]).get(reverse("audit_export"), {"since": "nope"})
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()


def test_a_login_entry_names_the_officer_not_the_login(people):
    """The object of a login is the user: the page shows 姓名, never the login name (issue 13
    item 1; the browser walk found ``head_zd`` there)."""
    officer = people["officer_a"]
    officer.user.username = "login_name"
    officer.user.save()
    record(actor=officer.user, action="auth.login", target=officer.user)
    html = logged_in(people["legal"]).get(reverse("audit_list")).content.decode()
    assert officer.name in html and "login_name" not in html


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("liuhen/favicon.svg")
