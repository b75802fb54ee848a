"""Import of the core platform's records (第七条) and fee bills (第九条): CSV and Excel,
matching by case number or unified social credit code, and the report of unmatched rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from liuhen.access.choices import Role
from liuhen.audit.models import AuditEntry
from liuhen.cases.choices import CaseKind, PartyKind
from liuhen.cases.tests.factories import make_case, make_party, valid_uscc
from liuhen.records.imports import import_records
from liuhen.records.models import Document
from liuhen.rules.tests.helpers import statuses

pytestmark = pytest.mark.usefixtures("vault")

# The cases are opened before the exports' payment dates (a payment dated before its case
# began needs a reason, issue 13 item 3: test_payment_before_the_case_needs_a_reason).
OPENED = date(2026, 10, 1)


@pytest.fixture
def levy_setup(bureau, make_officer):
    clerk = make_officer(bureau["levy"])
    head = make_officer(bureau["levy"], Role.UNIT_HEAD)
    payer = make_party(
        actor=clerk.user, unit=bureau["levy"], kind=PartyKind.ORGANISATION, name="某某建筑有限公司"
    )
    case = make_case(
        actor=clerk.user,
        unit=bureau["levy"],
        officers=[clerk],
        kind=CaseKind.LEVY,
        cause="2026年10月社会保险费申报",
        parties=[payer],
        opened_on=OPENED,
    )
    fee_case = make_case(
        actor=clerk.user,
        unit=bureau["levy"],
        officers=[clerk],
        kind=CaseKind.FEE,
        cause="职业技能鉴定收费",
        parties=[payer],
        opened_on=OPENED,
    )
    return {"clerk": clerk, "head": head, "payer": payer, "case": case, "fee_case": fee_case}


CSV = (
    "统一社会信用代码,单位名称,业务流水号,费款所属期,险种,应缴金额,实缴金额,到账日期\n"
    '{uscc},某某建筑有限公司,SB2026100001,202610,养老保险,"12,000.00",12000.00,2026-11-05\n'
    "{unknown},不存在的公司,SB2026100002,202610,养老保险,100,100,2026-11-05\n"
    "{uscc},某某建筑有限公司,,202610,失业保险,50,50,2026-11-05\n"
    ",无代码公司,SB2026100003,202610,工伤保险,10,10,2026-11-05\n"
)


def test_第七条_levy_csv_import_links_rows_and_reports_unmatched(levy_setup, tmp_path):
    s = levy_setup
    path = tmp_path / "核心平台导出.csv"
    path.write_text(CSV.format(uscc=s["payer"].id_number, unknown=valid_uscc()), encoding="gbk")
    assert statuses(s["case"])["levy.declaration"] == "missing"
    report = import_records(actor=s["clerk"].user, kind="levy", file_path=path)
    assert report.rows == 4 and len(report.imported) == 1
    reasons = {u["line"]: u["reason"] for u in report.unmatched}
    assert "未找到统一社会信用代码" in reasons[3]
    assert "缺少业务流水号" in reasons[4]
    assert "缺少案件编号和统一社会信用代码" in reasons[5]
    (doc,) = Document.objects.filter(case=s["case"], doc_type="levy_platform_record")
    assert doc.extra["serial"] == "SB2026100001" and doc.extra["amount"] == "12000.00"
    assert doc.extra["source_sha256"] == report.sha256
    assert statuses(s["case"])["levy.platform_record"] == "met"
    # The same file again adds nothing.
    again = import_records(actor=s["clerk"].user, kind="levy", file_path=path)
    assert len(again.imported) == 0 and len(again.duplicates) == 1
    entry = AuditEntry.objects.filter(action="levy.imported").order_by("-seq").first()
    assert entry.detail["unmatched"] == 3 and entry.actor_id == s["clerk"].user_id


def test_第七条_levy_xlsx_by_case_number_and_scope(levy_setup, people, tmp_path):
    import openpyxl

    s = levy_setup
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["案件编号", "业务流水号", "实缴金额", "到账日期"])
    sheet.append([s["case"].number, "SB1", 10, "2026-11-01"])
    sheet.append([s["fee_case"].number, "SB2", 10, "2026-11-01"])
    sheet.append(["冀人社征〔2099〕1号", "SB3", 10, "2026-11-01"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    report = import_records(actor=s["clerk"].user, kind="levy", file_path=path)
    assert [r["case"] for r in report.imported] == [s["case"].number]
    reasons = [u["reason"] for u in report.unmatched]
    assert "不是行政征收案件" in reasons[0] and "不存在" in reasons[1]
    # An officer of another unit cannot attach records to the levy section's case.
    other = import_records(actor=people["officer_a"].user, kind="levy", file_path=path)
    assert other.imported == [] and "无权" in other.unmatched[0]["reason"]


def test_第九条_fee_receipts_import_and_command(levy_setup, tmp_path, capsys):
    s = levy_setup
    path = tmp_path / "票据.csv"
    path.write_text(
        "案件编号,票据号码,金额,开票日期,签字盖章\n"
        f"{s['fee_case'].number},冀非税0012345,300.00,2026-11-03,是\n"
        f"{s['fee_case'].number},冀非税0012346,abc,2026-11-03,是\n",
        encoding="utf-8",
    )
    call_command("import_records", str(path), "--kind", "fee", "--user", s["clerk"].user.username)
    out = capsys.readouterr().out
    assert "已关联 1 行" in out and "金额无效" in out
    result = statuses(s["fee_case"])
    assert result["fee.signed_receipt"] == "met" and result["fee.bill_entered"] == "met"


def test_levy_import_page_pair(levy_setup, people, client, tmp_path):
    s = levy_setup
    client.force_login(people["legal"].user)
    assert client.get("/rules/levy-import/").status_code == 403
    client.force_login(s["clerk"].user)
    csv = CSV.format(uscc=s["payer"].id_number, unknown=valid_uscc()).encode("utf-8-sig")
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.post(
        "/rules/levy-import/",
        {"kind": "levy", "file": SimpleUploadedFile("平台.csv", csv, "text/csv")},
    )
    text = page.content.decode()
    assert page.status_code == 200 and "已关联 <b>1</b> 行" in text and "未能匹配 3 行" in text
    bad = client.post(
        "/rules/levy-import/",
        {"kind": "levy", "file": SimpleUploadedFile("x.txt", b"hello", "text/plain")},
    )
    assert bad.status_code == 400 and "仅支持CSV或Excel" in bad.content.decode()


def test_payment_before_the_case_needs_a_reason(levy_setup, tmp_path):
    """Issue 13 item 3: a written record dated before its case began is refused on the pages
    and the API; an import takes it only with a reason, kept on the document and audited."""
    s = levy_setup
    path = tmp_path / "早于立案.csv"
    path.write_text(CSV.format(uscc=s["payer"].id_number, unknown=valid_uscc()), encoding="gbk")
    # The payment of 2026-11-05 precedes a case opened on 2026-11-20.
    type(s["case"]).objects.filter(pk=s["case"].pk).update(opened_on=date(2026, 11, 20))
    refused = import_records(actor=s["clerk"].user, kind="levy", file_path=path)
    assert refused.imported == []
    early = [u for u in refused.unmatched if "早于本案开始" in u["reason"]]
    assert len(early) == 1 and "2026-11-05" in early[0]["reason"]
    assert not Document.objects.filter(case=s["case"]).exists()

    reason = "缴费在先，据核心平台缴费记录立案"
    taken = import_records(actor=s["clerk"].user, kind="levy", file_path=path,
                           early_date_reason=reason)
    assert len(taken.imported) == 1 and taken.early_dated == 1
    doc = Document.objects.get(case=s["case"])
    assert doc.date == date(2026, 11, 5) and reason in doc.note
    added = AuditEntry.objects.filter(action="document.added", object_id=str(doc.pk)).get()
    assert added.detail["early_date_reason"] == reason
    imported = AuditEntry.objects.filter(action="levy.imported").order_by("-id").first()
    assert imported.detail["early_date_reason"] == reason and imported.detail["early_dated"] == 1
