"""Pages of the keeping app: the retention table (第十四条) and its audited changes, legal
holds, and the disposal list with its destruction registers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from liuhen.access.choices import Role, UseAction
from liuhen.access.querysets import allows, user_role
from liuhen.access.services import check_use, get_for, require
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, InvalidInput, LiuhenError, NotFound
from liuhen.core.pages import handles_errors
from liuhen.evidence.models import Recording
from liuhen.keeping import archive, burns, casefile, disposal, events, holds, longterm, services
from liuhen.keeping.choices import DisposalStatus, HoldKind
from liuhen.keeping.models import (
    ArchivePackage,
    CaseFile,
    DiscBurn,
    DisposalList,
    LegalHold,
    RetentionChange,
)
from liuhen.keeping.pdf import printed_register
from liuhen.packaging import PackagingError


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
                                        case_ids=request.POST.getlist("case"),
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
        "case_candidates": disposal.case_candidates(user=request.user) if may_propose else [],
        "may_propose": may_propose,
        "may_keep": allows(request.user, burns.PERMISSION),  # packages and the burn register
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
        "items": register.items.select_related("recording", "document__case",
                                               "case_file__case"),
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
    return printed_register(request,
                            get_for(request.user, "disposal.view", DisposalList.objects, pk))


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
    if case_file.disposed_at:  # 第十四条: its tombstone stays, the PDF is erased
        raise Conflict(f"该卷宗已依销毁清册 {case_file.disposal_register} 销毁，文件已删除")
    use = check_use(request.user, case_file.case, UseAction.VIEW,
                    event=events.event_casefile_downloaded)
    if not case_file.storage_key:  # a draft whose PDF was never written: nothing to show
        raise NotFound("该卷宗尚未生成 PDF")
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


# --- burn register (光盘刻录登记, 第十五条) ---------------------------------------------------


def _burns(user):
    return (DiscBurn.objects.restrict(user, burns.PERMISSION)
            .select_related("package", "operator", "checker"))


@login_required
@handles_errors
def burn_register(request):
    """光盘刻录登记: every disc image of an archive package, 待刻录 or burnt (label, medium,
    date, operator, checker, where kept, the image's digests) and its latest read-back. POST
    registers the burn of one image (the operator is the user; the checker another person)."""
    require(request.user, burns.PERMISSION, event=events.event_burn_refused)
    if request.method == "POST":
        try:
            burn = _burns(request.user).filter(pk=_int(request.POST.get("burn"))).first()
            if burn is None:
                raise NotFound("没有找到该光盘映像（或无权办理）")
            checker = (get_user_model().objects.filter(
                username=request.POST.get("checker", "").strip(), is_active=True).first())
            if checker is None:
                raise InvalidInput("检查人登录名不存在")
            burns.register_burn(actor=request.user, burn=burn,
                                disc_label=request.POST.get("disc_label", ""),
                                burned_on=request.POST.get("burned_on", ""), checker=checker,
                                location=request.POST.get("location", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _burn_page(request, status=exc.status)
        messages.success(request, "光盘刻录已登记")
        return redirect("keeping_burns")
    record(actor=request.user, action=events.event_burns_viewed, request=request)
    return _burn_page(request)


def _int(value) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 18 else 0


def _burn_page(request, status: int = 200):
    rows = list(_burns(request.user)[:500])
    context = {"pending": [b for b in rows if b.burned_on is None],
               "burnt": [b for b in rows if b.burned_on is not None],
               "media": burns.MEDIA, "today": timezone.localdate()}
    return render(request, "keeping/burns.html", context, status=status)


@login_required
@require_POST
@handles_errors
def burn_check(request, pk):
    """Read the disc's image back and compare with the register. Only the registered image
    is read from a page (no path typed by a user reaches the server's file system); a disc
    itself is checked where it is mounted with ``burns.check_disc(location=…)``."""
    require(request.user, burns.PERMISSION, event=events.event_burn_refused,
            target=("keeping.discburn", str(pk)))
    burn = get_for(request.user, burns.PERMISSION, _burns(request.user), pk,
                   denied_event=events.event_burn_refused)
    try:
        burns.check_disc(actor=request.user, burn=burn)
    except LiuhenError as exc:
        messages.error(request, exc.message)
        return _burn_page(request, status=exc.status)
    burn.refresh_from_db()
    if burn.check_ok:
        messages.success(request, f"回读校验通过：{burn.check_detail}")
    else:
        messages.error(request, f"回读校验未通过：{burn.check_detail}")
    return redirect("keeping_burns")


@login_required
@handles_errors
def burn_export(request):
    """The burn register as CSV (UTF-8 with BOM)."""
    require(request.user, burns.PERMISSION, event=events.event_burn_refused)
    rows = list(_burns(request.user))
    record(actor=request.user, action=events.event_burns_exported, request=request,
           detail={"rows": len(rows)})
    response = HttpResponse(burns.export_csv(rows), content_type="text/csv; charset=utf-8")
    name = f"光盘刻录登记-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


# --- archive packages (档案包, 第十五条) ------------------------------------------------------


def _packages(user):
    return (ArchivePackage.objects.restrict(user, burns.PERMISSION)
            .select_related("case", "case_file", "created_by"))


@login_required
@handles_errors
def package_list(request):
    """档案包: every archive package in the user's scope with its 四性检测 results, its disc
    images and reports; POST builds one for a case (by its number), with disc images when a
    medium is chosen (the records keeper)."""
    require(request.user, burns.PERMISSION, event=events.event_package_refused)
    if request.method == "POST":
        try:
            number = request.POST.get("case_number", "").strip()
            case = (Case.objects.restrict(request.user, burns.PERMISSION)
                    .filter(number=number).first()) if number else None
            if case is None:
                raise NotFound("没有找到该案件编号（或无权办理）")
            medium = request.POST.get("medium", "").strip() or None
            if medium is not None and medium not in burns.MEDIA:
                raise InvalidInput("未知的光盘介质")
            package = archive.archive_case(actor=request.user, case=case, medium=medium)
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _package_page(request, status=exc.status)
        if package.preserved:
            messages.success(request, f"档案包 {package.external_id} 已制作，四性检测通过，已登记长期保存")
        else:
            messages.error(request, f"档案包 {package.external_id} 有检测项未通过，未登记长期保存")
        return redirect("keeping_packages")
    record(actor=request.user, action=events.event_packages_viewed, request=request)
    return _package_page(request)


def _package_page(request, status: int = 200):
    packages = list(_packages(request.user)[:200])
    images = {}
    for burn in DiscBurn.objects.filter(package__in=packages).order_by("volume"):
        images.setdefault(burn.package_id, []).append(burn)
    rows = [{"package": p, "checks": [(p.checks.get(k) or {"name": name, "ok": None})
                                      for k, name in archive.CHECKS.items()],
             "images": images.get(p.pk, [])} for p in packages]
    context = {"rows": rows, "media": burns.MEDIA,
               "verified": request.session.pop("keeping_package_verified", None)}
    return render(request, "keeping/packages.html", context, status=status)


@login_required
@require_POST
@handles_errors
def package_verify(request, pk):
    """Check the package as kept (the offline verifier: signature, SHA-256 and SM3 manifests,
    every file) and show the result."""
    require(request.user, burns.PERMISSION, event=events.event_package_refused,
            target=("keeping.archivepackage", str(pk)))
    package = get_for(request.user, burns.PERMISSION, _packages(request.user), pk,
                      denied_event=events.event_package_refused)
    try:
        report = archive.verify_kept(package)
        ok, failures = report.ok, [f.zh for f in report.failures][:20]
    except PackagingError as exc:
        ok, failures = False, [f"无法校验：{exc}"]
    record(actor=request.user, action=events.event_package_verified, target=package,
           outcome="succeeded" if ok else "failed", request=request,
           detail={"ok": ok, "failures": failures[:5]})
    if ok:
        messages.success(request, f"档案包 {package.external_id} 校验通过：签名、SHA-256 与 SM3 清单、"
                                  f"{report.files_checked} 个文件均一致")
    else:
        messages.error(request, f"档案包 {package.external_id} 校验未通过：" + "；".join(failures))
    return redirect("keeping_packages")


@login_required
@handles_errors
def package_report(request, pk, fmt):
    """The 四性检测 report as PDF or JSON."""
    require(request.user, burns.PERMISSION, event=events.event_package_refused,
            target=("keeping.archivepackage", str(pk)))
    package = get_for(request.user, burns.PERMISSION, _packages(request.user), pk,
                      denied_event=events.event_package_refused)
    if fmt not in ("pdf", "json"):
        raise NotFound("没有找到该档案包")
    record(actor=request.user, action=events.event_package_report_downloaded, target=package,
           request=request, detail={"format": fmt})
    if fmt == "pdf":
        body, kind = archive.report_pdf(package), "application/pdf"
    else:
        body, kind = archive.report_json(package), "application/json"
    response = HttpResponse(body, content_type=kind)
    name = f"四性检测报告-{package.external_id}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@handles_errors
def burn_image(request, pk):
    """Download a disc image to burn it (the records keeper)."""
    require(request.user, burns.PERMISSION, event=events.event_burn_refused,
            target=("keeping.discburn", str(pk)))
    burn = get_for(request.user, burns.PERMISSION, _burns(request.user), pk,
                   denied_event=events.event_burn_refused)
    if not Path(burn.image_path).is_file():
        raise NotFound("没有找到该光盘映像")
    record(actor=request.user, action=events.event_burn_image_downloaded, target=burn,
           request=request, detail={"sha256": burn.sha256})
    return FileResponse(open(burn.image_path, "rb"), as_attachment=True,
                        filename=burn.image_name, content_type="application/x-iso9660-image")
