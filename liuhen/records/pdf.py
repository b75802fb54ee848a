"""Generated enforcement documents (执法文书) as PDF: filled from the case, rendered by WeasyPrint.

The forms are the usual official layout (机关名称, title, 文号, body with the blanks the case
can fill — parties, cause, officers with their 执法证号 — and signature lines). What only a
person can write (the answers in an inquiry, the legal basis and the penalty) stays a blank
line to be filled in by hand; once signed, the scan is attached as the record (第四条) through
the rules engine's document upload. Fonts are Debian's Noto CJK by family name; nothing is
fetched from anywhere (the URL fetcher refuses every URL).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.org.models import Unit
from liuhen.records import services
from liuhen.records.events import event_document_generated
from liuhen.records.models import Document

__all__ = ["GENERATABLE", "GeneratedPdf", "document_context", "generate_document", "render_pdf"]


@dataclass(frozen=True)
class _Form:
    title: str
    template: str
    #: 文号中的机关代字（告字、罚字）；None: the form carries the case number, not its own.
    word: str | None = None


#: doc_type (DocumentType code) → the form. Order is the order of a penalty case.
GENERATABLE: dict[str, _Form] = {
    "inquiry_record": _Form("询问笔录", "records/pdf/inquiry_record.html"),
    "site_record": _Form("现场笔录", "records/pdf/site_record.html"),
    "violation_notice": _Form("违法行为通知书", "records/pdf/violation_notice.html", "告"),
    "penalty_decision": _Form("行政处罚决定书", "records/pdf/penalty_decision.html", "罚"),
    "service_receipt": _Form("送达回证", "records/pdf/service_receipt.html"),
}

_CASE_NUMBER = re.compile(r"^(?P<prefix>.*)〔(?P<year>\d{4})〕(?P<seq>\d+)号$")
_CN_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class GeneratedPdf:
    content: bytes
    filename: str
    doc_type: str
    number: str
    sha256: str
    document: object | None = None  # the stored Document when kept as a record

    @property
    def quoted_filename(self) -> str:
        return urllib.parse.quote(self.filename)


def doc_number(case, doc_type: str) -> str:
    """The form's 文号, e.g. 冀人社监罚字〔2026〕15号 for the decision in 冀人社监〔2026〕15号."""
    form = GENERATABLE[doc_type]
    if form.word is None:
        return ""
    match = _CASE_NUMBER.match(case.number)
    if match is None:
        return f"{case.number}（{form.word}）"
    return f"{match['prefix']}{form.word}字〔{match['year']}〕{match['seq']}号"


def _date_text(day: _dt.date) -> str:
    """二〇二六年十一月二十七日 — the date as official documents write it."""

    def number(n: int) -> str:
        if n < 10:
            return _CN_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")

    year = "".join(_CN_DIGITS[int(c)] for c in str(day.year))
    return f"{year}年{number(day.month)}月{number(day.day)}日"


def _organ(case):
    """The enforcement organ in whose name documents are issued: the top of the unit tree."""

    ids = [int(p) for p in case.unit.path.strip("/").split("/") if p.isdigit()]
    top = Unit.objects.filter(pk=ids[0]).first() if ids else None
    return top or case.unit


def document_context(
    case, doc_type: str, *, party=None, served_document=None, on: _dt.date | None = None
) -> dict:
    """What the templates fill in: the case, its organ, party, officers and numbers."""

    form = GENERATABLE[doc_type]
    officers = list(case.officers.select_related("unit").order_by("name"))
    if doc_type == "penalty_decision" and case.decided_on:
        on = on or case.decided_on
    on = on or timezone.localdate()
    notice = (
        Document.objects.filter(case=case, doc_type="violation_notice", is_current=True)
        .exclude(number="")
        .order_by("-date", "-id")
        .first()
    )
    organ = _organ(case)
    return {
        "title": form.title,
        "case": case,
        "organ_name": organ.name,
        "unit": case.unit,
        "party": party,
        "parties": list(case.parties.all()),
        "officers": officers,
        "doc_number": doc_number(case, doc_type),
        "doc_date": on,
        "doc_date_text": _date_text(on),
        "notice_number": notice.number
        if notice
        else (doc_number(case, "violation_notice") if doc_type == "penalty_decision" else ""),
        "served_document": served_document,
        "blank_lines": range(14),
    }


def render_pdf(html: str) -> bytes:
    """HTML → PDF bytes, fonts from the system (fontconfig), no URL ever fetched."""
    from weasyprint import HTML, URLFetcher  # heavy (Pango, fonts); loaded when a PDF is rendered

    # Only inline data: URLs; any other resource stops the rendering (a plain function as the
    # fetcher broke WeasyPrint 70, which reads the fetcher's fail_on_errors attribute).
    fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()


def generate_document(
    *,
    actor,
    case,
    doc_type: str,
    party_id: int | None = None,
    served_document_id: int | None = None,
    store: bool = False,
    on: _dt.date | None = None,
) -> GeneratedPdf:
    """Fill and render one form of ``case`` as PDF; audited as ``document.generated``.

    :param party_id: the party the form is addressed to (default: the case's first party).
    :param served_document_id: for a 送达回证, the document being served.
    :param store: also keep the PDF as a ``Document`` (generated=True) through
        ``liuhen.records.services.add_document``.
    """
    if doc_type not in GENERATABLE:
        names = "、".join(f.title for f in GENERATABLE.values())
        raise InvalidInput(f"不支持生成此类文书；可生成：{names}", detail={"field": "doc_type"})
    if not unit_allowed(actor, "document.create", case.unit):
        record_denied(
            actor=actor,
            action=event_document_generated,
            target=case,
            reason="无权为该案件制作文书",
            detail={"doc_type": doc_type},
        )
        raise Forbidden("无权为该案件制作文书")
    party, served = _addressed(case, party_id, served_document_id)
    context = document_context(case, doc_type, party=party, served_document=served, on=on)
    content = render_pdf(render_to_string(GENERATABLE[doc_type].template, context))
    digest = hashlib.sha256(content).hexdigest()
    title = GENERATABLE[doc_type].title
    safe_number = re.sub(r"[^\w〔〕\-]", "", case.number)
    filename = f"{title}-{safe_number}{'-' + party.name if party else ''}.pdf"
    stored = None
    with transaction.atomic():
        if store:
            stored = _store(
                actor=actor,
                case=case,
                doc_type=doc_type,
                content=content,
                filename=filename,
                number=context["doc_number"],
                party=party,
                on=context["doc_date"],
            )
        record(
            actor=actor,
            action=event_document_generated,
            target=case,
            detail={
                "doc_type": doc_type,
                "title": title,
                "number": context["doc_number"],
                "party": party.pk if party else None,
                "sha256": digest,
                "size": len(content),
                "stored_document": getattr(stored, "pk", None),
            },
        )
    return GeneratedPdf(
        content=content,
        filename=filename,
        doc_type=doc_type,
        number=context["doc_number"],
        sha256=digest,
        document=stored,
    )


def _addressed(case, party_id: int | None, served_document_id: int | None):
    """The party the form is addressed to and, for a 送达回证, the document served: both must
    belong to the case."""
    parties = list(case.parties.order_by("id"))
    if party_id is not None:
        party = next((p for p in parties if p.pk == party_id), None)
        if party is None:
            raise InvalidInput("该当事人不属于本案", detail={"field": "party"})
    else:
        party = parties[0] if parties else None
    served = None
    if served_document_id is not None:
        served = Document.objects.filter(case=case, pk=served_document_id).first()
        if served is None:
            raise InvalidInput("送达的文书不属于本案", detail={"field": "document"})
    return party, served


def _store(*, actor, case, doc_type, content, filename, number, party, on):
    with tempfile.TemporaryDirectory(prefix="liuhen-pdf-") as tmp:
        path = Path(tmp) / "document.pdf"
        path.write_bytes(content)
        return services.add_document(
            actor=actor,
            case=case,
            doc_type=doc_type,
            file_path=path,
            original_name=filename,
            number=number,
            date=on,
            parties=[party] if party else (),
            generated=True,
        )
