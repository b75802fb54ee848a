"""Pages of the keeping app: the retention table (第十四条) and its audited changes, legal
holds, and the disposal list with its destruction registers."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from liuhen.access.choices import Role, UseAction
from liuhen.access.querysets import allows, user_role
from liuhen.access.services import check_use, get_for, require
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.core.pages import handles_errors
from liuhen.evidence.models import Recording
from liuhen.keeping import casefile, disposal, events, holds, longterm, services
from liuhen.keeping.choices import DisposalStatus, HoldKind
from liuhen.keeping.models import CaseFile, DisposalList, LegalHold, RetentionChange
from liuhen.keeping.pdf import register_pdf


@login_required
@handles_errors
def retention_table(request):
    """保存期限表: each row with its source, default and the period in force; the bureau's
    changes with their reasons. POST changes one row (``services.change_period``)."""
    if request.method == "POST":
        try:
            services.change_period(actor=request.user, row_id=request.POST.get("row_id", ""),
                                   period=request.POST.get("period", ""),
                                   reason=request.POST.get("reason", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _render(request, status=exc.status)
        messages.success(request, "保存期限已修改，修改理由已记录")
        return redirect("keeping_retention_table")
    record(actor=request.user, action=events.event_retention_table_viewed, request=request)
    return _render(request)


def _render(request, status: int = 200):
    context = {
        "rows": services.table_rows(),
        "changes": RetentionChange.objects.select_related("changed_by")[:100],
        "may_change": allows(request.user, "retention.change"),
    }
    return render(request, "keeping/retention_table.html", context, status=status)


# --- legal holds ---------------------------------------------------------------------------


@login_required
@handles_errors
def hold_list(request):
    """冻结（暂停销毁）: active and released holds in the user's scope; POST places one on a
    case (by its number) or a recording (by its id)."""
    require(request.user, "hold.view", event=events.event_hold_refused)
    if request.method == "POST":
        try:
            case, recording = _hold_target(request)
            holds.place_hold(actor=request.user, kind=request.POST.get("kind", ""),
                             reason=request.POST.get("reason", ""),
                             reference=request.POST.get("reference", ""), case=case,
                             recording=recording)
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _holds_page(request, status=exc.status)
        messages.success(request, "已冻结：保存期限届满也不会被提出销毁，直至解除")
        return redirect("keeping_holds")
    record(actor=request.user, action=events.event_holds_viewed, request=request)
    return _holds_page(request)


def _hold_target(request):
    number = request.POST.get("case_number", "").strip()
    rec_id = request.POST.get("recording_id", "").strip()
    if number:
        case = Case.objects.restrict(request.user, "case.view").filter(number=number).first()
        if case is None:
            raise NotFound("没有找到该案件编号（或无权查看）")
        return case, None
    if rec_id.isdigit():
        rec = get_for(request.user, "recording.view", Recording.objects, int(rec_id))
        return None, rec
    raise InvalidInput("请填写案件编号或音像记录编号")


def _holds_page(request, status: int = 200):
    rows = (LegalHold.objects.restrict(request.user, "hold.view")
            .select_related("case", "recording", "placed_by", "released_by", "unit"))
    context = {"active": [h for h in rows if h.is_active][:500],
               "released": [h for h in rows if not h.is_active][:200],
               "kinds": HoldKind.choices, "may_manage": allows(request.user, "hold.manage")}
    return render(request, "keeping/holds.html", context, status=status)


@login_required
@require_POST
@handles_errors
def hold_release(request, pk):
    hold = get_for(request.user, "hold.manage", LegalHold.objects, pk)
    try:
        holds.release_hold(actor=request.user, hold=hold, reason=request.POST.get("reason", ""))
    except LiuhenError as exc:
        messages.error(request, exc.message)
        return _holds_page(request, status=exc.status)
    messages.success(request, "冻结已解除，解除理由已记录")
    return redirect("keeping_holds")


# --- disposal ------------------------------------------------------------------------------


@login_required
@handles_errors
def disposal_page(request):
    """销毁: this month's list (past the date, not held) for the records keeper to propose,
    and the registers with their approvals."""
    require(request.user, "disposal.view", event=events.event_disposal_refused)
    if request.method == "POST":
        try:
            register = disposal.propose(actor=request.user,
                                        recording_ids=request.POST.getlist("recording"),
                                        note=request.POST.get("note", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _disposal_page(request, status=exc.status)
        messages.success(request, f"已提出销毁清册 {register.number}，待单位负责人和法制机构批准")
        return redirect("keeping_disposal_register", register.pk)
    record(actor=request.user, action=events.event_disposal_listed, request=request)
    return _disposal_page(request)


def _disposal_page(request, status: int = 200):
    may_propose = allows(request.user, "disposal.propose")
    context = {
        "today": timezone.localdate(),
        "candidates": disposal.candidates(user=request.user) if may_propose else [],
        "may_propose": may_propose,
        "registers": DisposalList.objects.restrict(request.user, "disposal.view")
        .select_related("unit", "proposed_by")[:200],
    }
    return render(request, "keeping/disposal.html", context, status=status)


@login_required
@handles_errors
def disposal_register(request, pk):
    """One register: its items, approvals and the buttons for the next step."""
    register = get_for(request.user, "disposal.view",
                       DisposalList.objects.select_related("unit", "proposed_by", "head_by",
                                                           "legal_by", "executed_by"), pk,
                       read_event=events.event_disposal_register_viewed)
    if request.method == "POST":
        step = request.POST.get("step", "")
        opinion = request.POST.get("opinion", "")
        try:
            if step == "approve":
                disposal.approve(actor=request.user, register=register, opinion=opinion)
            elif step == "reject":
                disposal.reject(actor=request.user, register=register, opinion=opinion)
            elif step == "execute":
                disposal.execute(actor=request.user, register=register)
            else:
                raise InvalidInput("未知的操作")
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _register_page(request, register, status=exc.status)
        messages.success(request, "已办理")
        return redirect("keeping_disposal_register", register.pk)
    return _register_page(request, register)


def _register_page(request, register, status: int = 200):
    register.refresh_from_db()
    role = user_role(request.user)
    context = {
        "register": register,
        "items": register.items.select_related("recording"),
        "may_approve": allows(request.user, "disposal.approve")
        and role in (Role.UNIT_HEAD, Role.LEGAL_OFFICE)
        and register.status == DisposalStatus.PROPOSED,
        "may_execute": allows(request.user, "disposal.execute")
        and register.status == DisposalStatus.APPROVED,
    }
    return render(request, "keeping/register.html", context, status=status)


@login_required
@handles_errors
def disposal_register_pdf(request, pk):
    """The 销毁清册 as PDF; audited as printed."""
    register = get_for(request.user, "disposal.view", DisposalList.objects, pk)
    content = register_pdf(register)
    record(actor=request.user, action=events.event_disposal_register_printed, target=register,
           request=request, detail={"number": register.number})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{register.number}.pdf"'
    return response


# --- case files ----------------------------------------------------------------------------


@login_required
@require_POST
@handles_errors
def case_file_assemble(request, pk):
    case = get_for(request.user, "case.view", Case.objects.select_related("unit"), pk)
    try:
        casefile.assemble(actor=request.user, case=case, reason=request.POST.get("reason", ""))
        messages.success(request, "卷宗已制作，待档案管理人员检查装订")
    except LiuhenError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('case_detail', args=[case.pk])}#case-file")


@login_required
@require_POST
@handles_errors
def case_file_bind(request, pk):
    case_file = get_for(request.user, "case.view",
                        CaseFile.objects.select_related("case", "case__unit"), pk)
    try:
        casefile.bind(actor=request.user, case_file=case_file)
        messages.success(request, "卷宗已检查装订，此后不可更改")
    except LiuhenError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('case_detail', args=[case_file.case_id])}#case-file")


@login_required
@handles_errors
def case_file_pdf(request, pk):
    """The case file's PDF/A as stored: a view of the 执法案卷 under ``check_use`` (第十六条),
    audited with the right or grant it relies on."""
    case_file = get_for(request.user, "document.view",
                        CaseFile.objects.select_related("case", "case__unit"), pk)
    use = check_use(request.user, case_file.case, UseAction.VIEW,
                    event=events.event_casefile_downloaded)
    record(actor=request.user, action=events.event_casefile_downloaded, target=case_file,
           detail=use.detail)
    response = HttpResponse(casefile.read_pdf(case_file), content_type="application/pdf")
    name = case_file.archive_number or f"{case_file.case.number}-v{case_file.version}"
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}.pdf"
    return response


# --- long-term keeping (第十五条) -------------------------------------------------------------


@login_required
@require_POST
@handles_errors
def case_long_term(request, pk):
    case = get_for(request.user, "case.view", Case.objects.select_related("unit"), pk)
    _mark(request, case=case)
    return redirect(f"{reverse('case_detail', args=[case.pk])}#long-term")


@login_required
@require_POST
@handles_errors
def recording_long_term(request, pk):
    recording = get_for(request.user, "recording.view", Recording.objects.select_related("unit"),
                        pk)
    _mark(request, recording=recording)
    return redirect(f"{reverse('recording_detail', args=[recording.pk])}#long-term")


def _mark(request, **target):
    try:
        longterm.mark(actor=request.user, reason=request.POST.get("reason", ""),
                      note=request.POST.get("note", ""), **target)
        messages.success(request, "已标记长期保存（第十五条），该音像资料永久保存，不列入销毁")
    except LiuhenError as exc:
        messages.error(request, exc.message)
