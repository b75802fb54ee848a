"""Pages of internal copies and exports under a grant (复制、拷贝/导出, 第十六条): ask for a
watermarked copy of one record, export the granted records as a signed package, see what was
made and download it. Thin over disclosure.copies and disclosure.exports, where every rule and
every audit entry is."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from liuhen.access.choices import UseAction
from liuhen.access.services import require
from liuhen.access.use import right_for
from liuhen.audit.services import record
from liuhen.core.errors import InvalidInput
from liuhen.core.pages import handles_errors
from liuhen.disclosure import copies, events, exports, marks
from liuhen.disclosure.choices import MadeStatus
from liuhen.disclosure.models import Export, UseCopy
from liuhen.evidence.storage import get_storage


@login_required
@require_http_methods(["GET"])
@handles_errors
def index(request):
    """我的复制件与导出: what this user asked for, its state and digests."""
    return render(request, "disclosure/use_index.html", {
        "copies": copies.copies_of(request.user)[:200],
        "exports": exports.exports_of(request.user)[:200]})


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def copy_new(request):
    """制作加水印的复制件 of one record (``?target=evidence.recording:<id>`` or
    ``records.document:<id>``): GET explains and offers the button, POST asks (audited)."""
    raw = request.POST.get("target") or request.GET.get("target") or ""
    kind, _, pk = raw.partition(":")
    if request.method == "POST":
        copy = copies.request_copy(actor=request.user, target_type=kind, target_id=pk)
        return redirect("use_copy", copy.pk)
    obj = copies.find_record(request.user, kind, pk, event=events.event_record_copied)
    use = right_for(request.user, obj, UseAction.COPY)
    return render(request, "disclosure/use_copy_new.html", {
        "obj": obj, "target": raw, "use": use,
        "request_url": f"{reverse('access_request_new')}?target={raw}",
        "state_secret": marks.effective_mark(
            obj.case if kind == "records.document" else obj) == "state_secret"})


@login_required
@require_http_methods(["GET"])
@handles_errors
def copy_detail(request, pk):
    copy = copies.own_copy(request.user, pk, event=events.event_record_copied)
    return render(request, "disclosure/use_copy.html", {
        "copy": copy, "pending": copy.status == MadeStatus.PENDING})


@login_required
@require_http_methods(["GET"])
@handles_errors
def copy_download(request, pk):
    """The watermarked copy, never the original (audited with the grant number)."""
    copy = copies.copy_for_download(actor=request.user, copy_id=pk, request=request)
    stem = Path(copy.record.original_name or "record").stem
    suffix = Path(copy.copy_key).suffix
    return FileResponse(get_storage().open(copy.copy_key), as_attachment=True,
                        filename=f"{stem}-{copy.number}{suffix}",
                        headers={"Cache-Control": "no-store", "X-Content-SHA256": copy.copy_sha256})


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def export_new(request):
    """拷贝/导出 under one export grant (``?grant=<id>``): choose the records (all by default),
    then the package is built (or queued) and its page shown."""
    grant_id = request.POST.get("grant") or request.GET.get("grant") or ""
    if request.method == "POST":
        export = exports.request_export(
            actor=request.user, grant_id=grant_id,
            recording_ids=request.POST.getlist("recordings"),
            document_ids=request.POST.getlist("documents"))
        return redirect("use_export", export.pk)
    grant = exports.own_grant(request.user, grant_id)
    if UseAction.EXPORT not in grant.actions:
        raise InvalidInput(f"授权 {grant.number} 未批准拷贝/导出（第十六条）")
    case, documents, recordings = exports.granted_records(grant)
    return render(request, "disclosure/use_export_new.html", {
        "grant": grant, "case": case, "documents": documents, "recordings": recordings,
        "state": copies.grant_state(grant)})


@login_required
@require_http_methods(["GET"])
@handles_errors
def export_detail(request, pk):
    export = exports.own_export(request.user, pk, event=events.event_export_made)
    return render(request, "disclosure/use_export.html", {
        "export": export, "pending": export.status == MadeStatus.PENDING,
        "files": [i for i in export.items if "record" in i],
        "skipped": [i["skipped"] for i in export.items if "skipped" in i]})


@login_required
@require_http_methods(["GET"])
@handles_errors
def export_download(request, pk):
    """The package as kept: the bytes the register's digests describe."""
    path = exports.package_for_download(actor=request.user, export_id=pk, request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name,
                        headers={"Cache-Control": "no-store"})


REGISTER_ROWS = 500


@login_required
@require_http_methods(["GET"])
@handles_errors
def register(request):
    """复制与拷贝/导出登记: every internal copy and export under a grant, bureau-wide, for the
    legal affairs office's supervision (第十六条; 第二十六条第三项): who, which record, under
    which grant, when, and the digests of what was made."""
    require(request.user, "use.unusual", event=events.event_use_register_viewed)
    record(actor=request.user, action=events.event_use_register_viewed, request=request)
    return render(request, "disclosure/use_register.html", {
        "copies": UseCopy.objects.select_related("user", "grant", "recording", "document")
        [:REGISTER_ROWS],
        "exports": Export.objects.select_related("user", "grant", "case")[:REGISTER_ROWS],
        "limit": REGISTER_ROWS})
