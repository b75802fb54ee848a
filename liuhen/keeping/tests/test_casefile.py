"""The case file (卷宗, 第十二条) as PDF/A, read back with pypdf: page count, the 卷内目录's
page numbers match the pages where each record really is, CJK text extractable, the PDF/A
identification (XMP pdfaid part 3, conformance B) and an output intent present, every font
embedded. veraPDF is not available here, so full PDF/A conformance is not validated: only the
identification and the embedded fonts are checked.
"""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.keeping import casefile
from liuhen.keeping.models import CaseFile

pytestmark = pytest.mark.django_db


def _text(page) -> str:
    return (page.extract_text() or "").replace(" ", "")


def _page_number(page) -> int:
    """The number stamped at the top of the page (the last number on its first line or so)."""
    numbers = re.findall(r"^\d+$", page.extract_text() or "", re.M)
    return int(numbers[-1]) if numbers else -1


def _fonts(reader):
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            yield font.get_object()


def _embedded(font) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_case_file_walk_assemble_bind_read_back(people, filed_case):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    draft = casefile.assemble(actor=officer, case=filed_case)
    assert not draft.is_bound and draft.archive_number == ""
    bound = casefile.bind(actor=keeper, case_file=draft)
    year = timezone.localdate().year
    # 全宗号-年度-保管期限-件号: the decision document makes the penalty file "decided",
    # kept 30 years (D30); the first file of the year.
    assert bound.archive_number == f"J001-{year}-D30-0001"
    reader = PdfReader(io.BytesIO(casefile.read_pdf(bound)))
    assert len(reader.pages) == bound.page_count

    # The contents: decision after the filing form, the paper-only record between them by
    # lawful order, then the audio-visual list and the 备考表.
    titles = [e["title"] for e in bound.contents]
    assert titles == ["立案审批表", "询问笔录", "行政处罚决定书", "音像资料清单", "备考表"]
    # Every entry's first page is where its title really is, and carries that number.
    for entry in bound.contents:
        page = reader.pages[entry["first"] - 1]
        assert _page_number(page) == entry["first"]
        if entry["title"] != "立案审批表":  # a scan is an image: no text but its number
            assert entry["title"] in _text(page)
    assert bound.contents[-1]["last"] == len(reader.pages)
    # The 卷内目录 (page 2) prints those numbers.
    toc = _text(reader.pages[1])
    assert "卷内目录" in toc
    for entry in bound.contents:
        assert f"{entry['title']}" in toc and entry["pages"] in toc
    cover = _text(reader.pages[0])
    assert "行政执法案卷" in cover and bound.archive_number in cover and "30年" in cover
    assert f"共{len(reader.pages)}页" in cover and filed_case.cause in cover
    av = _text(reader.pages[bound.contents[3]["first"] - 1])
    recordings = [link.recording for link in filed_case.recording_links.all()]
    assert all(r.sha256 in av.replace("\n", "") for r in recordings)
    notes = _text(reader.pages[-1])
    assert "备考表" in notes and str(people["keeper_a"].user) in notes

    # PDF/A identification (veraPDF unavailable: identification and fonts only).
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B",
                                                                  xmp)
    assert reader.trailer["/Root"].get("/OutputIntents")
    fonts = list(_fonts(reader))
    assert fonts and all(_embedded(f) for f in fonts)

    assert {"casefile.assembled", "casefile.bound"} <= set(
        AuditEntry.objects.values_list("action", flat=True))


def test_bound_is_immutable_a_correction_is_a_new_version(people, filed_case):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    first = casefile.bind(actor=keeper, case_file=casefile.assemble(actor=officer,
                                                                     case=filed_case))
    with pytest.raises(Conflict):
        casefile.bind(actor=keeper, case_file=first)
    with pytest.raises(InvalidInput, match="理由"):
        casefile.assemble(actor=officer, case=filed_case)
    second = casefile.assemble(actor=officer, case=filed_case, reason="补入遗漏的送达回证")
    second = casefile.bind(actor=keeper, case_file=second)
    first.refresh_from_db()
    assert (second.version, second.replaces_id, second.archive_number) == (
        2, first.pk, first.archive_number)
    assert not first.is_current and second.is_current and first.sha256 != second.sha256
    text = "".join(_text(p) for p in PdfReader(io.BytesIO(casefile.read_pdf(second))).pages)
    assert "补入遗漏的送达回证" in text
    # The first version's PDF is still there, unchanged.
    assert casefile.read_pdf(first)[:5] == b"%PDF-"


def test_refusals(people, new_case, filed_case):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    with pytest.raises(Conflict, match="案卷制作"):
        casefile.assemble(actor=officer, case=new_case("penalty"))
    with pytest.raises(Forbidden):
        casefile.assemble(actor=people["officer_b"].user, case=filed_case)
    draft = casefile.assemble(actor=officer, case=filed_case)
    with pytest.raises(Forbidden):
        casefile.bind(actor=officer, case_file=draft)
    with pytest.raises(InvalidInput, match="立卷人"):
        casefile.bind(actor=keeper, case_file=casefile.assemble(actor=keeper, case=filed_case))
    assert CaseFile.objects.filter(case=filed_case, is_current=True).count() == 1


def test_case_page_assemble_bind_download(client, people, filed_case):
    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{filed_case.pk}/").content.decode()
    assert 'id="case-file"' in page and "制作卷宗" in page
    client.post(f"/keeping/cases/{filed_case.pk}/case-file/")
    draft = CaseFile.objects.get(case=filed_case)
    assert "检查并装订" not in client.get(f"/cases/{filed_case.pk}/").content.decode()
    client.force_login(people["keeper_a"].user)
    assert "检查并装订" in client.get(f"/cases/{filed_case.pk}/").content.decode()
    client.post(f"/keeping/case-files/{draft.pk}/bind/")
    draft.refresh_from_db()
    assert draft.is_bound and draft.archive_number in client.get(
        f"/cases/{filed_case.pk}/").content.decode()
    response = client.get(f"/keeping/case-files/{draft.pk}/pdf")
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    assert AuditEntry.objects.filter(action="casefile.downloaded").exists()
    client.force_login(people["officer_b"].user)  # another team: not found, refusal audited
    assert client.get(f"/keeping/case-files/{draft.pk}/pdf").status_code == 404
    # The bureau leader sees the case listed but views its file only with a grant (第十六条).
    client.force_login(people["leader"].user)
    assert client.get(f"/keeping/case-files/{draft.pk}/pdf").status_code == 403
    assert AuditEntry.objects.filter(action="casefile.downloaded", outcome="denied",
                                     actor_id=people["leader"].user.pk).exists()
