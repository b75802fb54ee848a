"""Pages of spot checks (第二十三条): the list and the plan form, a check with its sample and
redraw, the review form of one item (criteria as data, findings on the timeline), the
rectifications a unit is asked for, and the inspection ledger with its XLSX and PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liuhen.access.querysets import allows
from liuhen.access.services import get_for, require
from liuhen.audit.services import record
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.evidence.models import Recording
from liuhen.org.models import Unit
from liuhen.supervision import events, ledger, spot_checks
from liuhen.supervision.choices import Population, ReviewResult, Strata
from liuhen.supervision.models import Rectification, SpotCheck, SpotCheckItem


def _error(request, exc: LiuhenError):
    template = "404.html" if isinstance(exc, NotFound) else "core/error.html"
    return render(request, template, {"error": exc.message, "code": exc.code}, status=exc.status)


def _date(value, label: str):
    try:
        parsed = parse_date(value or "")
    except ValueError:  # well formed but no such day (2026-02-30)
        parsed = None
    if parsed is None:
        raise InvalidInput(f"{label}格式不正确，应为 YYYY-MM-DD")
    return parsed


def _int(value, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{label}应为整数")


def parse_offset(value: str) -> float | None:
    """A moment on the timeline: "mm:ss", "h:mm:ss" or seconds."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        raise InvalidInput("时间点格式不正确，应为 分:秒（如 01:25）")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@login_required
@require_http_methods(["GET", "POST"])
def spot_check_list(request):
    """The spot checks, and the form that opens one (the sampling plan)."""
    try:
        require(request.user, "spotcheck.view", event=events.event_spot_check_listed)
    except LiuhenError as exc:
        return _error(request, exc)
    if request.method == "POST":
        try:
            units = [int(u) for u in request.POST.getlist("units") if u]
            check = spot_checks.open_spot_check(
                actor=request.user, title=request.POST.get("title", ""),
                period_start=_date(request.POST.get("period_start"), "期间起"),
                period_end=_date(request.POST.get("period_end"), "期间止"),
                population=request.POST.get("population", ""),
                strata=request.POST.get("strata", ""),
                per_stratum=_int(request.POST.get("per_stratum"), "每层抽取数"),
                filters={"units": units} if units else {},
                seed=request.POST.get("seed", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已抽取 {check.items.count()} 项")
            return redirect("spot_check_detail", pk=check.pk)
    today = timezone.localdate()
    return render(request, "supervision/spot_check_list.html", {
        "checks": SpotCheck.objects.restrict(request.user, "spotcheck.view")
        .select_related("opened_by__officer")[:200],
        "can_manage": allows(request.user, "spotcheck.manage"),
        "populations": Population.choices, "strata": Strata.choices,
        "units": Unit.objects.order_by("path"),
        "default_start": today.replace(day=1), "default_end": today,
    })


def _items(check):
    items = list(check.items.select_related("unit", "reviewer__officer")
                 .prefetch_related("rectifications"))
    return items


@login_required
@require_GET
def spot_check_detail(request, pk: int):
    try:
        check = get_for(request.user, "spotcheck.view", SpotCheck.objects, pk,
                        read_event=events.event_spot_check_viewed)
    except LiuhenError as exc:
        return _error(request, exc)
    return render(request, "supervision/spot_check_detail.html", {
        "check": check, "items": _items(check),
        "can_manage": allows(request.user, "spotcheck.manage"),
    })


@login_required
@require_POST
def spot_check_redraw(request, pk: int):
    try:
        check = get_for(request.user, "spotcheck.view", SpotCheck.objects, pk)
    except LiuhenError as exc:
        return _error(request, exc)
    result = spot_checks.redraw(actor=request.user, spot_check=check)
    if result["same_population"] and result["same_sample"]:
        messages.success(request, "重新抽取结果一致：总体标识相同，样本相同")
    else:
        messages.error(request, "重新抽取结果不一致：" + (
            "总体已变化" if not result["same_population"] else "样本不同"))
    return redirect("spot_check_detail", pk=pk)


def _titled(finding):
    """The finding with its criterion's name to show (the id is data, not for reading)."""
    finding.criterion_title = spot_checks.criteria().get(
        finding.criterion, {}).get("title", finding.criterion)
    return finding


def _review_context(request, item):
    recording = None
    if item.object_type == "evidence.recording":
        recording = Recording.objects.restrict(request.user, "recording.view").filter(
            pk=item.object_id).first()
    return {
        "item": item, "check": item.spot_check, "recording": recording,
        "criteria": [{**c, "id": key, "score": item.scores.get(key, "")}
                     for key, c in spot_checks.criteria().items()],
        "findings": [_titled(f) for f in item.findings.select_related("created_by__officer")],
        "rectifications": item.rectifications.all(),
        "results": ReviewResult.choices,
        "can_manage": allows(request.user, "spotcheck.manage"),
        "today": timezone.localdate(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def item_review(request, pk: int):
    """The review form of one sampled item: scores, findings at moments, result."""
    try:
        item = get_for(request.user, "spotcheck.view",
                       SpotCheckItem.objects.select_related("spot_check", "unit"), pk)
    except LiuhenError as exc:
        return _error(request, exc)
    if request.method == "POST":
        try:
            findings = []
            for criterion, at, note in zip(request.POST.getlist("finding_criterion"),
                                           request.POST.getlist("finding_at"),
                                           request.POST.getlist("finding_note"), strict=False):
                if note.strip():
                    findings.append({"criterion": criterion, "offset_seconds": parse_offset(at),
                                     "note": note})
            scores = {key: request.POST.get(f"score_{key}")
                      for key in spot_checks.criteria() if request.POST.get(f"score_{key}")}
            spot_checks.review_item(actor=request.user, item=item, scores=scores,
                                    result=request.POST.get("result", ""),
                                    comment=request.POST.get("comment", ""), findings=findings)
        except LiuhenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "评查已保存")
        return redirect("spot_check_item", pk=pk)
    return render(request, "supervision/item_review.html", _review_context(request, item))


@login_required
@require_POST
def rectification_request(request, pk: int):
    try:
        item = get_for(request.user, "spotcheck.view", SpotCheckItem.objects, pk)
        spot_checks.require_rectification_right(request.user, item)
        spot_checks.request_rectification(
            actor=request.user, item=item, request=request.POST.get("request", ""),
            deadline=_date(request.POST.get("deadline"), "整改期限"))
    except NotFound as exc:
        return _error(request, exc)
    except LiuhenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已向单位发出限期整改")
    return redirect("spot_check_item", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def rectification_list(request):
    """The rectifications the user's units were asked for (the unit head reports on them)."""
    try:
        require(request.user, "rectification.view", event=events.event_spot_check_listed)
    except LiuhenError as exc:
        return _error(request, exc)
    if request.method == "POST":
        try:
            rect = get_for(request.user, "rectification.view", Rectification.objects,
                           _int(request.POST.get("id"), "编号"))
            if request.POST.get("verify"):
                spot_checks.verify_rectification(actor=request.user, rectification=rect)
            else:
                spot_checks.report_rectification(actor=request.user, rectification=rect,
                                                 response=request.POST.get("response", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存")
        return redirect("rectification_list")
    rects = (Rectification.objects.restrict(request.user, "rectification.view")
             .select_related("unit", "item__spot_check").prefetch_related("item__findings"))
    return render(request, "supervision/rectification_list.html", {
        "rectifications": rects[:500],
        "can_report": allows(request.user, "rectification.report"),
        "can_verify": allows(request.user, "spotcheck.manage"),
        "today": timezone.localdate(),
    })


@login_required
@require_GET
def ledger_view(request, fmt: str = "html"):
    """The inspection ledger (检查台帐); ``xlsx`` and ``pdf`` download it, audited."""
    try:
        require(request.user, "spotcheck.view", event=events.event_ledger_exported)
        filters = ledger.LedgerFilter(
            spot_check=_int(request.GET["check"], "抽查") if request.GET.get("check") else None,
            unit=_int(request.GET["unit"], "单位") if request.GET.get("unit") else None,
            result=request.GET.get("result", ""))
    except LiuhenError as exc:
        return _error(request, exc)
    table = ledger.rows(filters)
    if fmt == "html":
        return render(request, "supervision/ledger.html", {
            "columns": ledger.COLUMNS, "rows": table, "filters": filters,
            "checks": SpotCheck.objects.all()[:200], "units": Unit.objects.order_by("path"),
            "results": ReviewResult.choices, "query": request.GET.urlencode()})
    record(actor=request.user, action=events.event_ledger_exported,
           detail={"format": fmt, "rows": len(table), "filters": filters.__dict__})
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "xlsx":
        response = HttpResponse(
            ledger.to_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = HttpResponse(ledger.to_pdf(table), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"检查台帐-{stamp}.{fmt}")
    return response
