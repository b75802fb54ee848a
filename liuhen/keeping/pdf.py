"""The destruction register (销毁清册) as PDF (第十四条): what was proposed, by whom, both
approvals, and each item (recording, written record or case-file version) with its digests,
retention basis and outcome. Rendered by the records app's WeasyPrint helper (system fonts, no
URL fetched)."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.audit.services import record
from liuhen.keeping import events
from liuhen.keeping.models import DisposalList
from liuhen.records.pdf import render_pdf


def register_pdf(register: DisposalList) -> bytes:
    items = list(register.items.select_related(
        "recording", "recording__device", "recording__officer", "recording__unit",
        "document__case", "document__created_by", "case_file__case", "case_file__assembled_by"))
    html = render_to_string("keeping/pdf/register.html", {
        "register": register, "items": items, "printed_at": timezone.localtime()})
    return render_pdf(html)


def printed_register(request, register: DisposalList) -> HttpResponse:
    """The register as an inline PDF answer, audited as printed (the page and the API)."""
    content = register_pdf(register)
    record(actor=request.user, action=events.event_disposal_register_printed, target=register,
           request=request, detail={"number": register.number})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{register.number}.pdf"'
    return response
