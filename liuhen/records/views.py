"""Pages of the written records that need nothing above them: a generated document (PDF) and
the import of levy platform records and fee receipts (第七条, 第九条)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from liuhen.access.services import get_for, require
from liuhen.cases.choices import CaseKind
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.core.files import save_upload
from liuhen.core.pages import error_page, handles_errors
from liuhen.records import events, imports, pdf


def _id(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"参数“{field}”应为编号", detail={"field": field}) from None


@login_required
@require_http_methods(["GET", "POST"])
def generate_document(request, pk: int, doc_type: str):
    """The filled-in document as PDF (GET); POST ``store=1`` also keeps it as a record.

    Needs ``document.create`` on the case (a forbidden or missing case answers 404 and the
    attempt is audited); every generation is audited as ``document.generated``.
    """
    user = request.user
    params = request.POST if request.method == "POST" else request.GET
    try:
        case = get_for(user, "document.create", Case.objects.select_related("unit"), pk)
        result = pdf.generate_document(
            actor=user,
            case=case,
            doc_type=doc_type,
            party_id=_id(params.get("party"), "party"),
            served_document_id=_id(params.get("document"), "document"),
            store=request.method == "POST" and params.get("store") == "1",
        )
    except LiuhenError as exc:
        return error_page(request, exc)
    response = HttpResponse(result.content, content_type="application/pdf")
    disposition = "attachment" if params.get("download") == "1" else "inline"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{result.quoted_filename}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@handles_errors
def levy_import(request):
    """导入社保核心平台记录（第七条）或收费票据（第九条）: upload, then the match report."""
    require(request.user, "document.create", event=events.event_levy_imported)
    result, status = None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        kind = request.POST.get("kind", CaseKind.LEVY)
        if upload is None:
            messages.error(request, "请选择要导入的文件")
            status = 400
        else:
            try:
                with save_upload(upload) as path:
                    result = imports.import_records(
                        actor=request.user,
                        kind=kind,
                        file_path=path,
                        file_name=upload.name,
                        dry_run=request.POST.get("dry_run") == "1",
                        early_date_reason=request.POST.get("early_date_reason", ""),
                    ).as_dict()
            except LiuhenError as exc:
                messages.error(request, exc.message)
                status = exc.status
    return render(request, "records/levy_import.html", {"result": result}, status=status)
