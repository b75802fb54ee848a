"""Generated documents (第四条 文字记录): the five forms as real PDFs filled from the case."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from pypdf import PdfReader

from liuhen.audit.choices import Outcome
from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.core.testing import TEST_TODAY
from liuhen.records.events import event_document_generated
from liuhen.records.models import Document
from liuhen.records.pdf import GENERATABLE, doc_number
from liuhen.rules.tests.helpers import penalty_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people):
    case = penalty_case(people, summary="2025年8月至10月拖欠32名劳动者工资共计48万元。")
    party = case.parties.get()
    party.name, party.legal_representative, party.address = (
        "某某建筑劳务有限公司",
        "王某",
        "某市长安区建设路12号",
    )
    party.save()
    officers = list(case.officers.order_by("pk"))
    for i, officer in enumerate(officers):
        officer.credential_number = f"1301{i + 1:04d}"
        officer.save(update_fields=["credential_number"])
    return case


def url(case, doc_type, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("document_generate", args=[case.pk, doc_type]) + (f"?{query}" if query else "")


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "")


@pytest.mark.parametrize("doc_type", list(GENERATABLE))
def test_each_form_is_a_pdf_with_case_party_and_credentials(client, people, case, doc_type):
    """Each form carries the case number, the party's name and every officer's 执法证号
    (第十一条: who acts is identifiable), and its generation is audited."""
    party = case.parties.get()
    client.force_login(people["officer_a"].user)
    response = client.get(url(case, doc_type, party=party.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response) if response.streaming else response.content
    assert content.startswith(b"%PDF-")
    text = text_of(content)
    assert GENERATABLE[doc_type].title in text
    assert case.number in text
    assert party.name in text
    for officer in case.officers.all():
        assert officer.credential_number in text
    if GENERATABLE[doc_type].word:
        assert doc_number(case, doc_type) in text  # 文号, e.g. 冀人社监罚字〔2026〕1号
    entry = AuditEntry.objects.filter(action=event_document_generated).latest("seq")
    assert entry.outcome == Outcome.SUCCEEDED and entry.actor_id == people["officer_a"].user.pk
    assert entry.detail["doc_type"] == doc_type and len(entry.detail["sha256"]) == 64


def test_forbidden_case_answers_404_and_is_audited(client, people, case):
    """Another team's officer may not make documents for this case: 404, denied entry."""
    client.force_login(people["officer_b"].user)
    response = client.get(url(case, "penalty_decision"))
    assert response.status_code == 404
    assert b"%PDF" not in response.content
    entry = AuditEntry.objects.latest("seq")
    assert entry.outcome == Outcome.DENIED and entry.actor_id == people["officer_b"].user.pk
    assert not AuditEntry.objects.filter(
        action=event_document_generated, outcome=Outcome.SUCCEEDED
    ).exists()


def test_unknown_form_and_foreign_party_are_clear_errors(client, people, case):
    client.force_login(people["officer_a"].user)
    response = client.get(url(case, "hearing_record"))
    assert response.status_code == 400 and "不支持生成此类文书" in response.content.decode()
    response = client.get(url(case, "inquiry_record", party=999999))
    assert response.status_code == 400 and "当事人不属于本案" in response.content.decode()


def test_decision_dated_by_decision_and_stored_as_generated_record(client, people, case):
    """POST store=1 keeps the PDF as a Document(generated=True) with both digests; the
    decision carries the decision date in Chinese numerals."""

    case_services.update_case_facts(
        actor=people["officer_a"].user, case=case, decided_on=TEST_TODAY
    )
    client.force_login(people["officer_a"].user)
    response = client.post(url(case, "penalty_decision"), {"store": "1"})
    assert response.status_code == 200
    stored = Document.objects.get(case=case, doc_type="penalty_decision")
    assert stored.generated and stored.number == doc_number(case, "penalty_decision")
    import hashlib

    assert stored.sha256 == hashlib.sha256(response.content).hexdigest() and stored.sm3
    assert "年" in text_of(response.content) and "二〇" in text_of(response.content)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_renders_to_an_image_with_ink_on_the_page(people, case, tmp_path):
    """pdftoppm (poppler) can rasterise the receipt: the page has a title and a table."""
    from PIL import Image

    from liuhen.records.pdf import generate_document

    result = generate_document(
        actor=people["officer_a"].user, case=case, doc_type="service_receipt"
    )
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(result.content)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    image = Image.open(tmp_path / "page.png").convert("L")
    assert len(PdfReader(io.BytesIO(result.content)).pages) == 1  # the receipt fits one page
    dark = sum(1 for px in image.tobytes() if px < 128)  # mode L: one byte a pixel
    assert dark > 0.01 * image.width * image.height  # table lines and text, not a blank page


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/logo.png", "file:///etc/passwd"])
def test_a_document_never_fetches_an_outside_resource(url):
    """A generated document is made from the case alone (第四条): a resource outside the page
    stops the rendering with WeasyPrint's own error, never a fetch and never a crash in the
    fetcher (a plain function as fetcher raised AttributeError in WeasyPrint 70)."""
    from weasyprint.urls import FatalURLFetchingError

    from liuhen.records.pdf import render_pdf

    with pytest.raises(FatalURLFetchingError):
        render_pdf(f'<p>文书</p><img src="{url}">')
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
             "nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")
    assert render_pdf(f'<p>文书</p><img src="{pixel}">').startswith(b"%PDF")
