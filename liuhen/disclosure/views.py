"""Pages of what leaves the bureau (第十七条): party copies (第十七条第二款) — register, approve
or refuse, make, hand over, download the watermarked copy — and supplies to review bodies and
courts (第十七条第三款) with their register (提供登记) and its XLSX/PDF exports. Thin over
disclosure.services and disclosure.supply: every rule and every audit entry is there."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from liuhen.access.choices import UseAction
from liuhen.access.querysets import allows, unit_allowed
from liuhen.access.services import get_for, require
from liuhen.access.use import check_use, watermark_text
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.core.exports import safe_row
from liuhen.core.pages import handles_errors
from liuhen.disclosure import decisions, events, marks, services, supply, unusual
from liuhen.disclosure.choices import (
    BodyKind,
    Confidentiality,
    CopyStatus,
    IdentityCheck,
    SupplyStatus,
)
from liuhen.disclosure.models import PartyCopy
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import get_storage
from liuhen.records.models import Document
from liuhen.records.pdf import render_pdf


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


# --- the overview ----------------------------------------------------------------------------


@login_required
@handles_errors
def index(request):
    """复制与提供: party copies and supplies in the user's scope, what waits for the leader."""
    require(request.user, "disclosure.view", event=events.event_copies_viewed)
    record(actor=request.user, action=events.event_copies_viewed, request=request)
    copies = (services.visible_copies(request.user)
              .select_related("recording", "document", "registered_by", "decided_by")[:200])
    supplies = supply.visible_supplies(request.user)[:200]
    leader = decisions.is_approver(request.user)
    return render(request, "disclosure/index.html", {
        "copies": copies, "supplies": supplies, "is_approver": leader,
        "may_register": allows(request.user, "disclosure.register"),
        "may_unusual": allows(request.user, "use.unusual"),
        "may_mark": allows(request.user, "confidentiality.mark"),
        "waiting_copies": sum(c.status == CopyStatus.REGISTERED for c in copies),
        "waiting_supplies": sum(s.status == SupplyStatus.REQUESTED for s in supplies),
    })


# --- party copies (第十七条第二款) --------------------------------------------------------------


@login_required
@handles_errors
def copy_new(request):
    """Register a party's request for a copy of one recording (``?recording=<id>``) or one case
    document (``?document=<id>``, 第十七条第二款)."""
    require(request.user, "disclosure.register", event=events.event_copy_registered)
    values = request.POST if request.method == "POST" else request.GET
    recording_id, document_id = _int(values.get("recording")), _int(values.get("document"))
    recording = (Recording.objects.restrict(request.user, "recording.view")
                 .filter(pk=recording_id).first()) if recording_id else None
    document = (Document.objects.restrict(request.user, "document.view")
                .select_related("case", "case__unit").filter(pk=document_id).first()
                if document_id and not recording_id else None)
    record_ = recording or document
    context = {"recording": recording, "document": document, "checks": IdentityCheck.choices,
               "values": request.POST,
               "mark": services.record_mark(record_) if record_ else None}
    if request.method == "POST":
        if record_ is None:
            messages.error(request, "请填写本人可查看的音像记录或文字记录编号")
            return render(request, "disclosure/copy_new.html", context, status=400)
        try:
            copy = services.register_party_copy(
                actor=request.user, recording=recording, document=document,
                recipient_name=request.POST.get("recipient_name", ""),
                recipient_number=request.POST.get("recipient_number", ""),
                identity_check=request.POST.get("identity_check", ""),
                reason=request.POST.get("reason", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return render(request, "disclosure/copy_new.html", context, status=exc.status)
        messages.success(request, f"已登记 {copy.number}，待主管负责人审批")
        return redirect("disclosure_copy", copy.pk)
    return render(request, "disclosure/copy_new.html", context)


def _copy(request, pk) -> PartyCopy:
    """The copy of the page, seen under ``disclosure.view`` (refusals audited)."""
    return services.get_copy(request.user, pk, queryset=PartyCopy.objects.select_related(
        "recording", "document", "document__case", "unit", "registered_by", "decided_by",
        "made_by"))


@login_required
@handles_errors
def copy_detail(request, pk):
    copy = _copy(request, pk)
    try:  # the still the preview shows (seconds into the recording), 0.5 unless asked
        at = min(max(float(request.GET.get("t", "0.5")), 0.0), 86400.0)
    except ValueError:
        at = 0.5
    return render(request, "disclosure/copy_detail.html", {
        "copy": copy, "mark": services.record_mark(copy.record), "at": f"{at:g}",
        "may_decide": decisions.may_decide(request.user, copy, decisions.PARTY_COPY),
        "may_make": unit_allowed(request.user, "disclosure.register", copy.unit),
        "plan": copy.redaction_plan or {},
        # The detections are listed on request only: detecting reads the whole recording.
        "tracks": services.detected_tracks(actor=request.user, copy_id=copy.pk)
        if request.GET.get("tracks") else None,
    })


def _run(request, action: str, steps: dict, back: str, pk: int):
    """One POST action of a detail page: run its step (a service call), say what happened or
    why not, and go back to the page. The rules and the audit entries are in the services."""
    if action not in steps:
        raise NotFound()
    step, done = steps[action]
    try:
        step()
    except LiuhenError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect(back, pk)


def _decision_steps(request, kind, pk, approved: str) -> dict:
    """批准 / 不予批准 of the leader in charge, the same for copies and supplies."""
    note = request.POST.get("note", "")
    return {
        "approve": (lambda: decisions.decide(kind=kind, approver=request.user, pk=pk,
                                             approve=True, note=note), approved),
        "refuse": (lambda: decisions.decide(kind=kind, approver=request.user, pk=pk,
                                            approve=False, note=note), "已不予批准，理由已记录"),
    }


def _index(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # the service answers "没有这一项取消"


@login_required
@require_POST
@handles_errors
def copy_action(request, pk, action):
    copy = _copy(request, pk)
    user = request.user
    return _run(request, action, {
        **_decision_steps(request, decisions.PARTY_COPY, copy.pk, "已批准"),
        "plan": (lambda: services.set_redaction_plan(actor=user, copy_id=copy.pk,
                                                     text=request.POST.get("plan", "")),
                 "遮挡方案已保存，审批前可预览"),
        "suppress": (lambda: services.suppress_track(
            actor=user, copy_id=copy.pk, track=request.POST.get("track", ""),
            reason=request.POST.get("reason", "")), "已取消该自动检测框（复制件中不模糊），待重新审批"),
        "unsuppress": (lambda: services.unsuppress(
            actor=user, copy_id=copy.pk, index=_index(request.POST.get("index"))),
            "已恢复模糊该自动检测框，待重新审批"),
        "make": (lambda: services.make_party_copy(actor=user, copy_id=copy.pk),
                 "复制件已制作（已加水印，原件未改动）"),
        "hand-over": (lambda: services.hand_over_party_copy(actor=user, copy_id=copy.pk),
                      "已登记交付"),
    }, "disclosure_copy", copy.pk)


@login_required
@handles_errors
def copy_preview(request, pk):
    """A still of the redaction plan applied (第十七条第四款), before approval: JPEG."""
    copy = _copy(request, pk)
    seconds = request.GET.get("t", "0")
    data = services.preview_redaction(actor=request.user, copy_id=copy.pk, at=seconds,
                                      request=request)
    return HttpResponse(data, content_type="image/jpeg",
                        headers={"Cache-Control": "no-store"})


@login_required
@handles_errors
def copy_download(request, pk):
    """The made copy (watermarked, redacted where planned) — never the original."""
    copy = _copy(request, pk)
    path = services.copy_for_download(actor=request.user, copy_id=copy.pk, request=request)
    suffix = path.rsplit(".", 1)[-1] if "." in path else "bin"
    handle = get_storage().open(path)
    return FileResponse(handle, as_attachment=True,
                        filename=f"{copy.number}-复制件.{suffix}",
                        headers={"Cache-Control": "no-store"})


# --- supplies to review bodies and courts (第十七条第三款) ---------------------------------------


@login_required
@handles_errors
def supply_new(request):
    require(request.user, "disclosure.register", event=events.event_supply_registered)
    values = request.POST if request.method == "POST" else request.GET
    context = {"kinds": BodyKind.choices, "values": values}
    number = (values.get("case_number") or "").strip()
    case = (Case.objects.restrict(request.user, "case.view").filter(number=number).first()
            if number else None)
    if case is not None:
        documents, recordings = supply._case_records(case)
        context |= {"case": case, "documents": documents, "recordings": recordings}
    if request.method == "POST":
        try:
            if case is None:
                raise InvalidInput("请填写本人可查看的案件编号", detail={"field": "case_number"})
            try:
                received = dt.date.fromisoformat(request.POST.get("received_on", "").strip())
            except ValueError:
                raise InvalidInput("收到日期格式应为 年-月-日",
                                   detail={"field": "received_on"}) from None
            created = supply.register_supply(
                actor=request.user, case=case, body_kind=request.POST.get("body_kind", ""),
                body_name=request.POST.get("body_name", ""),
                letter_number=request.POST.get("letter_number", ""), received_on=received,
                recording_ids=request.POST.getlist("recordings"),
                document_ids=request.POST.getlist("documents"),
                note=request.POST.get("note", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return render(request, "disclosure/supply_new.html", context, status=exc.status)
        messages.success(request, f"已登记 {created.number}，待主管负责人审批")
        return redirect("disclosure_supply", created.pk)
    return render(request, "disclosure/supply_new.html", context)


def _supply(request, pk):
    """The supply of the page, seen under ``disclosure.view`` (refusals audited)."""
    return supply.get_supply(request.user, pk)


@login_required
@handles_errors
def supply_detail(request, pk):
    found = _supply(request, pk)
    return render(request, "disclosure/supply_detail.html", {
        "supply": found, "documents": found.documents.order_by("date", "pk"),
        "recordings": found.recordings.order_by("captured_start", "pk"),
        "case_file": supply.case_file_line(found),
        "may_decide": decisions.may_decide(request.user, found, decisions.SUPPLY),
        "may_build": unit_allowed(request.user, "disclosure.register", found.case.unit),
        "check": request.session.pop(f"supply-check-{found.pk}", None),
    })


@login_required
@require_POST
@handles_errors
def supply_action(request, pk, action):
    found = _supply(request, pk)
    user = request.user

    def check():
        request.session[f"supply-check-{found.pk}"] = supply.check_supply(
            actor=user, supply_id=found.pk, request=request)

    return _run(request, action, {
        **_decision_steps(request, decisions.SUPPLY, found.pk, "已批准提供"),
        "build": (lambda: supply.build_supply(actor=user, supply_id=found.pk),
                  "证据包已制作并留存"),
        "supplied": (lambda: supply.mark_supplied(actor=user, supply_id=found.pk,
                                                  how=request.POST.get("how", "")),
                     "已登记提供"),
        "check": (check, None),  # the page shows the result itself
    }, "disclosure_supply", found.pk)


@login_required
@handles_errors
def supply_download(request, pk):
    """The ZIP as kept: the same bytes the register's digests describe."""
    found = _supply(request, pk)
    path = supply.package_for_download(actor=request.user, supply_id=found.pk, request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name,
                        headers={"Cache-Control": "no-store"})


@login_required
@handles_errors
def supply_register(request, fmt="html"):
    """提供登记 (复制留存's register): every supply in scope; XLSX and PDF exports."""
    require(request.user, "disclosure.view", event=events.event_supplies_viewed)
    if fmt not in ("html", "xlsx", "pdf"):
        raise NotFound()
    supplies = list(supply.visible_supplies(request.user).order_by("-received_on", "-id")[:5000])
    rows = supply.register_rows(supplies)
    if fmt == "html":
        record(actor=request.user, action=events.event_supplies_viewed, request=request)
        return render(request, "disclosure/supply_register.html", {
            "columns": supply.REGISTER_COLUMNS,
            "rows_supplies": list(zip(rows, supplies, strict=True))})
    record(actor=request.user, action=events.event_supplies_exported, request=request,
           detail={"format": fmt, "rows": len(rows)})
    stamp = timezone.localtime().strftime("%Y%m%d")
    if fmt == "xlsx":
        import openpyxl  # heavy; only the export needs it

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "提供登记"
        sheet.append(supply.REGISTER_COLUMNS)
        for row in rows:
            sheet.append(safe_row(row))
        buffer = io.BytesIO()
        book.save(buffer)
        return HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": _attachment(f"提供登记-{stamp}.xlsx")})
    html = render_to_string("disclosure/pdf/register.html", {
        "columns": supply.REGISTER_COLUMNS, "rows": rows, "made_at": timezone.localtime()})
    return HttpResponse(render_pdf(html), content_type="application/pdf",
                        headers={"Content-Disposition": _attachment(f"提供登记-{stamp}.pdf")})


# --- confidentiality marks (第十七条第四款) -----------------------------------------------------


@login_required
@handles_errors
def marks_page(request):
    """保密标记: set or change a case's or a recording's mark with a reason; current marks."""
    require(request.user, "confidentiality.mark", event=events.event_mark_set)
    if request.method == "POST":
        try:
            number = (request.POST.get("case_number") or "").strip()
            recording_id = _int(request.POST.get("recording_id"))
            if number:
                target = (Case.objects.restrict(request.user, "case.view")
                          .filter(number=number).first())
            elif recording_id:
                target = (Recording.objects.restrict(request.user, "recording.view")
                          .filter(pk=recording_id).first())
            else:
                raise InvalidInput("请填写案件编号或音像记录编号")
            if target is None:
                raise InvalidInput("案件或音像记录不存在或不在本人范围内")
            marks.set_mark(actor=request.user, target=target,
                           level=request.POST.get("level", ""),
                           reason=request.POST.get("reason", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _marks_page(request, status=exc.status)
        messages.success(request, "保密标记已设定，理由已记录")
        return redirect("disclosure_marks")
    return _marks_page(request)


def _marks_page(request, status: int = 200):
    cases = Case.objects.restrict(request.user, "case.view").values("pk")
    recordings = Recording.objects.restrict(request.user, "recording.view").values("pk")
    current = (marks.ConfidentialityMark.objects.filter(is_current=True)
               .exclude(level=Confidentiality.NONE)
               .filter(Q(case__in=cases) | Q(recording__in=recordings))
               .select_related("case", "recording", "set_by")[:500])
    return render(request, "disclosure/marks.html", {
        "levels": Confidentiality.choices, "current": current,
        # prefilled from the recording or case page's link (?case_number= / ?recording_id=)
        "values": request.POST if request.method == "POST" else request.GET}, status=status)


# --- unusual use (第二十六条第三项) ------------------------------------------------------------


@login_required
@handles_errors
def unusual_page(request):
    """异常使用: many copies/downloads by one person in a short time, copies and exports
    outside working hours, uses refused for want of a grant, for the legal affairs office;
    the thresholds are the bureau's to set here, each change with a reason (POST)."""
    require(request.user, "use.unusual", event=events.event_unusual_thresholds_set
            if request.method == "POST" else events.event_unusual_viewed)
    status = 200
    if request.method == "POST":
        try:
            unusual.set_thresholds(
                actor=request.user, burst_count=request.POST.get("burst_count"),
                burst_minutes=request.POST.get("burst_minutes"),
                work_start=request.POST.get("work_start"),
                work_end=request.POST.get("work_end"), reason=request.POST.get("reason", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, "异常使用阈值已调整，理由已记录")
            return redirect("disclosure_unusual")
    days = _int(request.GET.get("days")) or 30
    days = min(days, 366)
    thresholds = unusual.current()
    found = unusual.listing(days=days, thresholds=thresholds)
    record(actor=request.user, action=events.event_unusual_viewed, request=request,
           detail={"days": days, "rows": sum(len(v) for v in found.values()),
                   "burst_count": thresholds.burst_count,
                   "burst_minutes": thresholds.burst_minutes})
    return render(request, "disclosure/unusual.html", {
        "found": found, "days": days, "thresholds": thresholds,
        "history": unusual.history(), "values": request.POST}, status=status)


# --- the document viewer with its watermark (第十六条、第二十六条第三项) ------------------------

VIEWER_PAGES = 200


def _viewable_document(request, doc_id):
    """The document if the user may view its content now (check_use: by right or grant)."""
    doc = get_for(request.user, "document.view",
                  Document.objects.select_related("case", "case__unit"), doc_id)
    if not doc.storage_key:
        raise NotFound()
    return doc, check_use(request.user, doc, UseAction.VIEW,
                          event=events.event_document_viewer_opened)


def _is_pdf(doc) -> bool:
    return doc.media_type == "application/pdf" or doc.original_name.lower().endswith(".pdf")


@login_required
@handles_errors
def document_viewer(request, doc_id):
    """A written record shown as page images under a visible watermark (viewer, number, time,
    grant): the file itself is not handed to the browser here, so what is seen carries who saw
    it. Audited with the right or grant relied on."""
    doc, use = _viewable_document(request, doc_id)
    pages = 1
    if _is_pdf(doc):
        from pypdf import PdfReader  # loaded for PDFs only

        try:
            with get_storage().open(doc.storage_key) as fh:
                pages = min(len(PdfReader(io.BytesIO(fh.read())).pages), VIEWER_PAGES)
        except Exception:  # a damaged PDF: the viewer says so instead of failing
            pages = 0
    record(actor=request.user, action=events.event_document_viewer_opened, target=doc,
           detail={**use.detail, "pages": pages}, request=request)
    return render(request, "disclosure/document_viewer.html", {
        "doc": doc, "pages": range(1, pages + 1), "watermark": watermark_text(request.user, use),
        "mark": marks.effective_mark(doc.case)})


@login_required
@handles_errors
def document_page(request, doc_id, page):
    """One page of the viewer as PNG (PDF pages rendered by pdftoppm, scans re-encoded)."""
    doc, _use = _viewable_document(request, doc_id)
    if page < 1 or page > VIEWER_PAGES:
        raise NotFound()
    with get_storage().open(doc.storage_key) as fh:
        data = fh.read()
    try:
        png = _render_page(data, page, pdf=_is_pdf(doc))
    except (OSError, ValueError, subprocess.SubprocessError):
        raise NotFound() from None
    return HttpResponse(png, content_type="image/png",
                        headers={"Cache-Control": "private, no-store"})


def _render_page(data: bytes, page: int, *, pdf: bool) -> bytes:
    if pdf:
        done = subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "110",
                               "-png", "-singlefile", "-"], input=data,
                              capture_output=True, timeout=60, check=False)
        if done.returncode != 0 or not done.stdout:
            raise ValueError("page not rendered")
        return done.stdout
    if page != 1:
        raise ValueError("an image has one page")
    from PIL import Image, ImageOps  # loaded for scans only

    with Image.open(io.BytesIO(data)) as img:
        upright = ImageOps.exif_transpose(img).convert("RGB")
        upright.thumbnail((1600, 1600))
        out = io.BytesIO()
        upright.save(out, "PNG")
        return out.getvalue()
