"""In a real browser against a real server (第十条, 第十二条): an officer opens an incomplete
penalty case, sees what is missing with its article, uploads the missing 询问笔录 on the
records page, sees the checklist turn complete, and the records keeper archives the case."""

from __future__ import annotations

import re

import pytest

from conftest import Watch, browser_login
from liuhen.rules.tests.helpers import PDF

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-2026"
SEED = f"""
from datetime import date, timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from liuhen.org.models import Officer, Unit
from liuhen.cases import services as cs
from liuhen.records import services as rs
from liuhen.evidence.services import add_mark, ingest_recording
from liuhen.evidence.tests import mediafactory
bureau = Unit.objects.create(name="某市人力资源和社会保障局", kind="bureau", case_number_prefix="冀人社")
team = Unit.objects.create(name="监察一大队", parent=bureau, kind="team", case_number_prefix="冀人社监")
people = {{}}
for n, (username, name, role) in enumerate([("zhang", "张伟", "officer"), ("wang", "王芳", "officer"),
                                            ("head", "赵队长", "unit_head"), ("keeper", "陈档案", "records_keeper"),
                                            ("leader", "李局长", "bureau_leader")]):
    user = get_user_model().objects.create_user(username, password="{PASSWORD}")
    people[username] = Officer.objects.create(
        user=user, name=name, unit=bureau if role == "bureau_leader" else team, role=role, credential_number=f"130100{{n:04d}}",
        qualification_number=f"Q{{n}}", qualification_valid_from=date.today() - timedelta(days=700),
        qualification_valid_to=date.today() + timedelta(days=365)).user
z, h = people["zhang"], people["head"]
party = cs.create_party(actor=z, unit=team, kind="organisation", name="某某餐饮有限公司",
                        id_number="91130100MA0BRW7XK" + "{{check}}")
case = cs.create_case(actor=z, unit=team, kind="penalty", cause="浏览器测试：拖欠工资",
                      source="complaint", officer_ids=[people["zhang"].officer.pk, people["wang"].officer.pk],
                      party_ids=[party.pk])
rs.add_document(actor=z, case=case, doc_type="filing_approval", signature="signed")
for stage in ("investigation", "notice", "decision", "service", "enforcement", "closing",
              "case_file"):
    case = cs.move_case(actor=z, case=case, to_stage=stage)
for t in ("officer_info", "violation_notice", "statement_record", "penalty_decision",
          "service_receipt", "closing_approval"):
    rs.add_document(actor=z, case=case, doc_type=t, signature="signed")
for action in ("filing", "investigation_end", "penalty_decision", "closing"):
    a = rs.request_approval(actor=z, case=case, action=action)
    # 行政处罚法第五十七条: the decision is the bureau leader's (records/data/approvals.toml).
    approver = people["leader"] if action == "penalty_decision" else h
    rs.decide_approval(actor=approver, approval=a, approve=True, opinion="同意")
path = mediafactory.make_jpeg_with_exif("{{tmp}}/IMG_0001.jpg", taken_at=timezone.now() - timedelta(hours=2))
rec = ingest_recording(source_path=path, original_name="IMG_0001.jpg", actor=z, channel="web", case=case).recording
for label in ("recording_notice", "party_signed"):
    add_mark(actor=z, recording=rec, offset_seconds=0, label=label)
print(case.pk)
"""


def test_incomplete_penalty_case_completed_in_the_browser_and_archived(
    server_process,
    browser,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    from liuhen.cases.validators import uscc_check_char

    server = server_process()
    seed = SEED.replace("{check}", uscc_check_char("91130100MA0BRW7XK"))
    seed = seed.replace("{tmp}", str(tmp_path))
    case_id = int(server.manage("shell", "-c", seed).stdout.strip().splitlines()[-1])
    server.start()
    scan = tmp_path / "询问笔录.pdf"
    scan.write_bytes(PDF + b"browser")

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15_000)
    watch = Watch(page)

    def login(username):
        browser_login(page, server.url, username, PASSWORD)

    login("zhang")
    page.goto(f"{server.url}/cases/{case_id}/")
    missing = page.locator("#completeness tr.req-missing")
    assert missing.count() == 1
    text = missing.inner_text()
    assert "询问笔录" in text and "第五条第三款" in text
    assert "完整率" in page.inner_text("#completeness-figure")
    assert "100%" not in page.inner_text("#completeness-figure")
    watch.shot("rules-01-case-incomplete")

    # Follow the link to add what is missing: the form comes preset to 询问笔录.
    missing.locator("a", has_text="补充").click()
    page.wait_for_url(re.compile(r"/cases/\d+/records/\?rule=penalty.inquiry_record"))
    assert page.locator("select[name=doc_type]").input_value() == "inquiry_record"
    page.fill("input[name=number]", "询〔2026〕12号")
    page.select_option("select[name=signature]", "signed")
    page.set_input_files("input[name=file]", str(scan))
    watch.shot("rules-02-records-form")
    page.click("#document-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "已添加文字记录" in page.inner_text(".messages")
    assert page.inner_text("#records-figure") == "完整率 100%"
    assert "询问笔录.pdf" in page.inner_text("#documents")

    page.goto(f"{server.url}/cases/{case_id}/")
    assert page.locator("#completeness tr.req-missing").count() == 0
    assert page.inner_text("#completeness-figure") == "完整率 100%"
    watch.shot("rules-03-case-complete")

    # The records keeper archives the complete case (第十二条).
    page.click("form[action='/logout/'] button")
    login("keeper")
    page.goto(f"{server.url}/cases/{case_id}/")
    page.click("#stage-actions button:has-text('归档管理')")
    page.wait_for_selector(".messages")
    assert "归档管理" in page.inner_text(".stagepath li.current")
    watch.shot("rules-04-archived")
    assert watch.problems == [], watch.problems
