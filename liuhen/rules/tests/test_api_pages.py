"""Endpoint pairs for the completeness API and pages: without permission (404/403, denied
audit entry), with permission (200 and an audit entry naming who)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import last_entry
from liuhen.audit.models import AuditEntry
from liuhen.cases.choices import Stage
from liuhen.rules.tests.helpers import (
    PDF,
    doc,
    penalty_case,
    walk,
)

pytestmark = pytest.mark.usefixtures("vault")


def test_completeness_api_denied_outside_scope(people, api):
    case = penalty_case(people)
    response = api(people["officer_b"]).get(f"/api/cases/{case.pk}/completeness")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    entry = last_entry("completeness.viewed")
    assert entry.outcome == "denied" and entry.actor_id == people["officer_b"].user_id


def test_completeness_api_lists_requirements_with_articles(people, api):
    case = penalty_case(people)
    body = api(people["legal"]).get(f"/api/cases/{case.pk}/completeness").json()
    assert body["case_number"] == case.number and body["missing"] == 1
    item = next(i for i in body["items"] if i["id"] == "penalty.initiation_text")
    assert item["status"] == "missing" and item["article"] == "第五条第二款"
    entry = last_entry("completeness.viewed")
    assert entry.outcome == "succeeded" and entry.actor_id == people["legal"].user_id


def test_post_document_api_pair(people, api):
    case = penalty_case(people)
    url = f"/api/cases/{case.pk}/documents"
    denied = Client()
    denied.force_login(people["officer_b"].user)
    assert denied.post(url, {"doc_type": "filing_approval"}).status_code == 404
    assert last_entry("document.refused").outcome == "denied"
    client = Client()
    client.force_login(people["officer_a"].user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        url,
        {
            "doc_type": "filing_approval",
            "number": "立〔2026〕7号",
            "file": SimpleUploadedFile("立案审批表.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["sha256"]) == 64
    assert last_entry("document.added").actor_id == people["officer_a"].user_id
    body = api(people["officer_a"]).get(f"/api/cases/{case.pk}/completeness").json()
    assert body["missing"] == 0
    bad = client.post(url, {"doc_type": "bogus"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"


def test_approval_and_waiver_api(people, api):
    case = walk(penalty_case(people), Stage.INVESTIGATION, people["officer_a"].user)
    officer = api(people["officer_a"])
    denied = api(people["officer_b"]).post(f"/api/cases/{case.pk}/approvals", {"action": "filing"})
    assert denied.status_code == 404
    created = officer.post(
        f"/api/cases/{case.pk}/approvals",
        {
            "action": "waiver",
            "requirement_code": "penalty.inquiry_record",
            "reason": "当事人拒不到场接受询问，已三次书面通知并留存送达回证",
        },
    )
    assert created.status_code == 201, created.content
    approval_id = created.json()["id"]
    refused = officer.post(f"/api/approvals/{approval_id}/decision", {"approve": True})
    assert refused.status_code == 403 and "无权审批" in refused.json()["message"]
    ok = api(people["head_a"]).post(
        f"/api/approvals/{approval_id}/decision", {"approve": True, "opinion": "同意"}
    )
    assert ok.status_code == 200 and ok.json()["decision"] == "approved"
    body = officer.get(f"/api/cases/{case.pk}/completeness").json()
    item = next(i for i in body["items"] if i["id"] == "penalty.inquiry_record")
    assert item["status"] == "waived"


def test_service_api_triggers_requirement(people, api):
    case = walk(penalty_case(people), Stage.SERVICE, people["officer_a"].user)
    decision = doc(case, people, "penalty_decision")
    response = api(people["officer_a"]).post(
        f"/api/cases/{case.pk}/services",
        {
            "document_id": decision.pk,
            "method": "public_notice",
            "recipient": "某公司",
            "signature": "not_present",
        },
    )
    assert response.status_code == 201, response.content
    body = api(people["officer_a"]).get(f"/api/cases/{case.pk}/completeness").json()
    assert {"penalty.av_public_notice", "penalty.public_notice_text"} <= {
        i["id"] for i in body["items"] if i["status"] == "missing"
    }
    other = api(people["officer_b"]).post(
        f"/api/cases/{case.pk}/services",
        {"document_id": decision.pk, "method": "direct", "recipient": "x"},
    )
    assert other.status_code == 404


def test_case_page_shows_checklist_and_records_page(people, client):
    case = penalty_case(people)
    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{case.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "记录完整性" in text and "第五条第二款" in text and "补充" in text
    records = client.get(f"/cases/{case.pk}/records/?rule=penalty.initiation_text")
    assert records.status_code == 200 and "立案审批表" in records.content.decode()
    client.force_login(people["officer_b"].user)
    assert client.get(f"/cases/{case.pk}/records/").status_code == 404


def test_records_page_errors_are_shown_not_500(people, client):
    case = walk(penalty_case(people), Stage.SERVICE, people["officer_a"].user)
    decision = doc(case, people, "penalty_decision")
    client.force_login(people["officer_a"].user)
    response = client.post(
        f"/cases/{case.pk}/records/services/",
        {
            "document": decision.pk,
            "method": "left_at_premises",
            "recipient": "某公司",
            "signature": "refused",
        },
    )
    assert response.status_code == 400 and "见证人" in response.content.decode()


def test_report_page_pair(people, client):
    penalty_case(people)
    client.force_login(people["officer_a"].user)
    assert client.get("/rules/report/").status_code == 403
    assert last_entry("rules_report.viewed").outcome == "denied"
    client.force_login(people["legal"].user)
    page = client.get("/rules/report/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "程序启动的文字记录" in text and "监察一大队" in text
    assert last_entry("rules_report.viewed").actor_id == people["legal"].user_id


def test_report_scoped_to_unit_head_tree(people, client):
    penalty_case(people)
    client.force_login(people["head_detachment"].user)
    assert client.get("/rules/report/").status_code == 200
    from liuhen.rules.reports import build_report

    assert build_report(actor=people["head_detachment"].user)["cases"] == 1
    other = people["officer_b"]
    assert build_report(actor=other.user)["cases"] == 0


def test_liuhen_completeness_formats(people, capsys):
    """JSON and CSV carry nothing else on stdout; the table shows Chinese names (issue 8)."""
    case = penalty_case(people)
    call_command("completeness", "--format", "json")
    body = json.loads(capsys.readouterr().out)  # the whole of stdout is the JSON document
    assert body["cases"] == 1 and body["items"][0]["case"] == case.number
    assert body["items"][0]["missing_rules"] == ["penalty.initiation_text"]
    assert body["items"][0]["kind_label"] == "行政处罚"
    assert body["items"][0]["missing_items"][0]["article"] == "第五条第二款"
    call_command("completeness", "--format", "csv", "--unit", people["officer_a"].unit.name)
    out = capsys.readouterr().out
    assert out.startswith("案件编号,执法单位,执法行为") and case.number in out
    assert "行政处罚" in out and "程序启动的文字记录（立案审批表）（第五条第二款）" in out
    call_command("completeness")
    table = capsys.readouterr().out
    assert "共评估 1 件案件" in table and "行政处罚" in table and "程序启动" in table
    assert "penalty" not in table and "initiation" not in table
    # Each run leaves one audit entry with what it re-evaluated (the --unit run names the unit).

    runs = AuditEntry.objects.filter(action="completeness.checked").order_by("seq")
    assert [e.detail["cases"] for e in runs] == [1, 1, 1]
    assert runs[1].object_id == str(people["officer_a"].unit.pk)
    assert runs[0].actor_name == "liuhen completeness"


def test_liuhen_check_is_djangos_and_points_to_completeness(people, capsys):
    penalty_case(people)
    call_command("check")
    assert "System check identified no issues" in capsys.readouterr().out

    assert not AuditEntry.objects.filter(action="completeness.checked").exists()
    with pytest.raises(CommandError, match="liuhen completeness"):
        call_command("check", "--format", "json")


def test_第九条_fee_receipt_on_the_records_page_needs_bill_number(people, client, bureau):
    from liuhen.cases.choices import CaseKind
    from liuhen.rules.tests.helpers import statuses

    case = penalty_case(people, kind=CaseKind.FEE)
    client.force_login(people["officer_a"].user)
    url = f"/cases/{case.pk}/records/documents/"
    refused = client.post(url, {"doc_type": "fee_receipt", "signature": "signed"})
    assert refused.status_code == 400 and "票据号码" in refused.content.decode()
    ok = client.post(
        url,
        {
            "doc_type": "fee_receipt",
            "signature": "signed",
            "bill_number": "冀非税0099",
            "amount": "120.50",
        },
    )
    assert ok.status_code == 302
    result = statuses(case)
    assert result["fee.signed_receipt"] == "met" and result["fee.bill_entered"] == "met"
