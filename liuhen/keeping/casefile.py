"""The case file (卷宗, 第十二条) as one PDF/A: made when an enforcement act ends, checked and
bound by the records keeper, immutable from then on.

Parts, in order: cover (档号, unit, 案由, party, officers, dates, retention, pages), 卷内目录
(with the real page of every entry), the written records in their lawful order (generated
PDFs as they are, scanned images as pages, a record kept on paper only as a page saying so),
the audio-visual evidence list (capture time, duration, device, officer, SHA-256, SM3) and the
备考表. The parts are rendered by WeasyPrint as PDF/A-3b (CJK fonts embedded), joined with
pypdf onto the cover (which carries the PDF/A identification and output intent), and every
page is stamped with its number in the file. The 卷内目录 is rendered until its own length
is stable, so its page numbers are those of the pages.
"""

from __future__ import annotations

import base64
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.cases.choices import Stage
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.evidence.models import CaseLink
from liuhen.evidence.storage import get_storage
from liuhen.keeping import events, services
from liuhen.keeping.models import CaseFile
from liuhen.records.choices import DocumentType

PDF_VARIANT = "pdf/a-3b"
CASE_FILE_STAGES = (Stage.CASE_FILE, Stage.ARCHIVING)
# The lawful order of the written records in a file: how the act began, the evidence, the
# party's rights, the decision, its service and execution, the closing (第四条, 第五条).
DOCUMENT_ORDER = [
    DocumentType.FILING_APPROVAL, DocumentType.OFFICER_INFO, DocumentType.INQUIRY_RECORD,
    DocumentType.SITE_RECORD, DocumentType.INSPECTION_RECORD, DocumentType.LEVY_DECLARATION,
    DocumentType.LEVY_PLATFORM_RECORD, DocumentType.VIOLATION_NOTICE,
    DocumentType.STATEMENT_RECORD, DocumentType.HEARING_NOTICE, DocumentType.HEARING_RECORD,
    DocumentType.LEGAL_REVIEW, DocumentType.COLLECTIVE_DISCUSSION,
    DocumentType.PENALTY_DECISION, DocumentType.RECTIFICATION_NOTICE,
    DocumentType.REMINDER_NOTICE, DocumentType.ENFORCEMENT_DECISION,
    DocumentType.ENFORCEMENT_APPLICATION, DocumentType.PUBLIC_NOTICE,
    DocumentType.FEE_RECEIPT, DocumentType.SERVICE_RECEIPT, DocumentType.CLOSING_APPROVAL,
    DocumentType.OTHER,
]
IMAGE_TYPES = {"image/jpeg", "image/png"}


def render_html(html: str) -> bytes:
    """HTML → PDF/A-3b bytes, system fonts (Noto CJK) embedded."""
    from weasyprint import HTML, URLFetcher  # heavy (Pango, fonts): loaded when rendering

    # Nothing is fetched but the scans inlined as data: URLs; a failure stops the rendering.
    fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(
        pdf_variant=PDF_VARIANT)


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


@dataclass
class Part:
    """A run of pages in the file, with its entry in the 卷内目录."""

    title: str
    pdf: bytes
    number: str = ""
    date: object = None
    in_contents: bool = True
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = _pages(self.pdf)


def ordered_documents(case):
    rank = {code: i for i, code in enumerate(DOCUMENT_ORDER)}
    docs = list(case.documents.filter(is_current=True).order_by("date", "id"))
    return sorted(docs, key=lambda d: (rank.get(d.doc_type, len(rank)), d.date or
                                       timezone.localdate(d.created_at), d.pk))


def _document_part(document) -> Part:
    title = document.get_doc_type_display()
    if document.storage_key and document.media_type == "application/pdf":
        with get_storage().open(document.storage_key) as fh:
            return Part(title, fh.read(), document.number, document.date)
    scan = None
    if document.storage_key and document.media_type in IMAGE_TYPES:
        with get_storage().open(document.storage_key) as fh:
            scan = f"data:{document.media_type};base64,{base64.b64encode(fh.read()).decode()}"
    html = render_to_string("keeping/pdf/casefile_document.html",
                            {"document": document, "title": title, "scan": scan})
    return Part(title, render_html(html), document.number, document.date)


def _recordings(case):
    links = (CaseLink.objects.filter(case=case, ended_at__isnull=True)
             .select_related("recording", "recording__device", "recording__officer")
             .order_by("recording__captured_start", "recording_id"))
    return [link.recording for link in links]


@dataclass(frozen=True)
class Built:
    pdf: bytes
    pages: int
    contents: list


def build_pdf(case, *, context: dict) -> Built:
    """Render the whole file; ``context`` has the cover's and 备考表's facts."""
    from pypdf import PdfReader, PdfWriter

    base = {"case": case, "parties": list(case.parties.all()),
            "officers": list(case.officers.select_related("unit")), **context}
    body = [_document_part(d) for d in ordered_documents(case)]
    base["document_count"] = len(body) + 1  # the documents and the audio-visual list
    body.append(Part("音像资料清单", render_html(render_to_string(
        "keeping/pdf/casefile_av.html", {**base, "recordings": _recordings(case)}))))
    notes_html = render_to_string("keeping/pdf/casefile_notes.html", base)
    body.append(Part("备考表", render_html(notes_html)))

    toc_pages, contents = 1, []
    for _ in range(4):  # the 目录's own length moves the pages after it; stable in one or two
        page = 2 + toc_pages  # after the cover and the 目录
        contents = []
        for i, part in enumerate(body, 1):
            last = page + part.pages - 1
            contents.append({"seq": i, "title": part.title, "number": part.number,
                             "date": part.date.isoformat() if part.date else "",
                             "first": page, "last": last,
                             "pages": str(page) if last == page else f"{page}-{last}"})
            page = last + 1
        toc = Part("卷内目录", render_html(render_to_string(
            "keeping/pdf/casefile_toc.html", {**base, "contents": contents})))
        if toc.pages == toc_pages:
            break
        toc_pages = toc.pages
    total = 1 + toc.pages + sum(p.pages for p in body)
    cover = render_html(render_to_string("keeping/pdf/casefile_cover.html",
                                         {**base, "total_pages": total}))
    writer = PdfWriter(clone_from=io.BytesIO(cover))  # its PDF/A identification and intent
    for part in [toc, *body]:
        writer.append(PdfReader(io.BytesIO(part.pdf)))
    stamps = PdfReader(io.BytesIO(render_html(render_to_string(
        "keeping/pdf/casefile_stamp.html", {"numbers": range(1, total + 1)}))))
    for page, stamp in zip(writer.pages, stamps.pages, strict=True):
        page.merge_page(stamp)
    out = io.BytesIO()
    writer.write(out)
    return Built(out.getvalue(), total, contents)


def _store(pdf: bytes):
    """Keep the PDF in the vault's storage, content-addressed under casefiles/."""
    storage = get_storage()
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as tmp:
        tmp.write(pdf)
    try:
        staged = storage.stage(Path(tmp.name))
        try:
            sha = staged.digests.sha256
            key = f"casefiles/{sha[:2]}/{sha}.pdf"
            if not storage.exists(key):
                storage.commit(staged, key)
            return staged.digests, key
        finally:
            staged.discard()
    finally:
        Path(tmp.name).unlink(missing_ok=True)


def _period_code(retention) -> str:
    period = retention.winner.period
    return "Y" if period.permanent else f"D{period.months // 12}"


def _archive_number(case, retention, replaces: CaseFile | None):
    """档号 by the configured pattern; a correction keeps the file's number."""
    if replaces is not None and replaces.archive_number:
        return (replaces.archive_number, replaces.archive_year, replaces.archive_period,
                replaces.archive_seq)
    year = retention.winner.start.year - 1 if retention.winner.start else \
        timezone.localdate().year
    period = _period_code(retention)
    last = (CaseFile.objects.filter(archive_year=year, archive_period=period)
            .exclude(archive_seq=None).order_by("-archive_seq")
            .values_list("archive_seq", flat=True).first()) or 0
    seq = last + 1
    number = settings.ARCHIVE_NUMBER_PATTERN.format(fonds=settings.FONDS_NUMBER, year=year,
                                                    period=period, seq=seq)
    return number, year, period, seq


def _context(case, *, assembled_by, assembled_at, checked_by=None, checked_at=None,
             archive_number="", version=1, correction_reason="") -> dict:
    retention = services.case_file_retention(case)
    return {"unit": case.unit, "retention": retention, "archive_number": archive_number,
            "assembled_by": assembled_by, "assembled_at": assembled_at,
            "checked_by": checked_by, "checked_at": checked_at, "version": version,
            "correction_reason": correction_reason, "fonds": settings.FONDS_NUMBER}


def assemble(*, actor, case, reason: str = "") -> CaseFile:
    """Make a (draft) version of the case file once the case reached the file stage.

    After a bound version exists, a new one is a correction and needs a reason.
    """
    if not unit_allowed(actor, "casefile.assemble", case.unit):
        record_denied(actor=actor, action=events.event_casefile_refused, target=case,
                      reason="无权制作卷宗")
        raise Forbidden("无权制作该案件的卷宗")
    if case.stage not in CASE_FILE_STAGES:
        raise Conflict("案件进入“案卷制作”环节后方可制作卷宗（第十二条：执法行为终结后立卷）")
    if case.case_files.filter(disposed_at__isnull=False).exists():
        raise Conflict("该案卷保存期限届满，已依法销毁（第十四条），不能再制作卷宗")
    latest = case.case_files.order_by("-version").first()
    reason = (reason or "").strip()
    bound = case.case_files.filter(is_bound=True, is_current=True).first()
    if bound is not None and not reason:
        raise InvalidInput("卷宗已装订，不可更改；更正须制作新版本并写明理由")
    now = timezone.now()
    version = (latest.version + 1) if latest else 1
    built = build_pdf(case, context=_context(case, assembled_by=actor, assembled_at=now,
                                             version=version, correction_reason=reason))
    digests, key = _store(built.pdf)
    with transaction.atomic():
        if latest is not None and not latest.is_bound:
            CaseFile.objects.filter(pk=latest.pk).update(is_current=False)  # a draft superseded
        case_file = CaseFile.objects.create(
            case=case, version=version, replaces=bound, correction_reason=reason[:2000],
            is_current=True, page_count=built.pages, contents=built.contents,
            retention_label=services.case_file_retention(case).period_label,
            storage_key=key, sha256=digests.sha256, sm3=digests.sm3, size=len(built.pdf),
            assembled_by=actor, assembled_at=now)
        record(actor=actor, action=events.event_casefile_assembled, target=case_file,
               reason=reason, detail={"case": case.pk, "version": version,
                                      "pages": built.pages, "sha256": digests.sha256})
    return case_file


def bind(*, actor, case_file: CaseFile) -> CaseFile:
    """The records keeper checks and binds the file (第十二条): its 档号 and the 备考表's
    checker are set, the final PDF stored; immutable from then on."""
    case = case_file.case
    if not unit_allowed(actor, "casefile.bind", case.unit):
        record_denied(actor=actor, action=events.event_casefile_refused, target=case_file,
                      reason="无权检查装订卷宗")
        raise Forbidden("卷宗由档案管理人员检查装订")
    if case_file.is_bound:
        raise Conflict("卷宗已装订，不可更改；更正须制作新版本并写明理由")
    if not case_file.is_current:
        raise Conflict("该版本已被新版本取代")
    if actor.pk == case_file.assembled_by_id:
        raise InvalidInput("立卷人不能检查装订自己制作的卷宗")
    retention = services.case_file_retention(case)
    number, year, period, seq = _archive_number(case, retention, case_file.replaces)
    now = timezone.now()
    built = build_pdf(case, context=_context(
        case, assembled_by=case_file.assembled_by, assembled_at=case_file.assembled_at,
        checked_by=actor, checked_at=now, archive_number=number, version=case_file.version,
        correction_reason=case_file.correction_reason))
    digests, key = _store(built.pdf)
    with transaction.atomic():
        locked = CaseFile.objects.select_for_update().get(pk=case_file.pk)
        if locked.is_bound:
            raise Conflict("卷宗已装订")
        if locked.replaces_id:
            CaseFile.objects.filter(pk=locked.replaces_id).update(is_current=False)
        locked.is_bound, locked.checked_by, locked.checked_at = True, actor, now
        locked.archive_number, locked.archive_year = number, year
        locked.archive_period, locked.archive_seq = period, seq
        locked.retention_label = retention.period_label
        locked.page_count, locked.contents = built.pages, built.contents
        locked.storage_key, locked.sha256, locked.sm3 = key, digests.sha256, digests.sm3
        locked.size = len(built.pdf)
        locked.save()
        record(actor=actor, action=events.event_casefile_bound, target=locked,
               detail={"case": case.pk, "archive_number": number, "version": locked.version,
                       "pages": built.pages, "sha256": digests.sha256, "sm3": digests.sm3})
    return locked


def read_pdf(case_file: CaseFile) -> bytes:
    with get_storage().open(case_file.storage_key) as fh:
        return fh.read()
