"""Pages of circulars and scores (第二十四条): the list with the form that makes one, a
circular with its ranked table, breakdown and charts, publishing, and its PDF and XLSX."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liuhen.access.querysets import allows
from liuhen.access.services import require
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.core.pages import error_page
from liuhen.supervision import circulars, events
from liuhen.supervision.choices import PeriodKind
from liuhen.supervision.models import Circular


def _get(user, pk, event: str) -> Circular:
    """A circular the user may read (drafts: the legal affairs office only); else 404, and the
    refusal is audited naming the circular (第二十六条 (三))."""
    circular = circulars.visible_circulars(user).filter(pk=pk).first()
    if circular is None:
        record_denied(actor=user, action=event, target=("supervision.circular", str(pk)),
                      reason="对象不存在或无权访问")
        raise NotFound()
    return circular


@login_required
@require_http_methods(["GET", "POST"])
def circular_list(request):
    """The circulars; the legal affairs office makes a new one here."""
    try:
        require(request.user, "circular.view", event=events.event_circular_listed)
        if request.method == "POST":
            try:
                day = parse_date(request.POST.get("day") or "")
            except ValueError:  # well formed but no such day (2026-02-30)
                day = None
            if day is None:
                raise InvalidInput("日期格式不正确，应为 YYYY-MM-DD")
            made = circulars.create_circular(
                actor=request.user, kind=request.POST.get("kind", ""), day=day,
                title=request.POST.get("title", ""), text=request.POST.get("text", ""))
            messages.success(request, "通报草稿已生成，核对后发布。")
            return redirect("circular_detail", made.pk)
    except LiuhenError as exc:
        return error_page(request, exc)
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    return render(request, "supervision/circular_list.html", {
        "circulars": circulars.visible_circulars(request.user)[:200],
        "can_manage": allows(request.user, "circular.manage"),
        "kinds": PeriodKind.choices, "default_day": last_month,
        "rule": circulars.formula()})


@login_required
@require_GET
def circular_detail(request, pk: int):
    try:
        require(request.user, "circular.view", event=events.event_circular_viewed,
                target=("supervision.circular", str(pk)))
        circular = _get(request.user, pk, events.event_circular_viewed)
    except LiuhenError as exc:
        return error_page(request, exc)
    record(actor=request.user, action=events.event_circular_viewed, target=circular)
    return render(request, "supervision/circular_detail.html", {
        "c": circular, "rows": circular.rows, "rule": circular.formula,
        "charts": circulars.chart_images(circular.rows),
        "can_manage": allows(request.user, "circular.manage")})


@login_required
@require_POST
def circular_publish(request, pk: int):
    try:
        circular = _get(request.user, pk, events.event_circular_published)
        circulars.publish_circular(actor=request.user, circular=circular,
                                   text=request.POST.get("text"))
    except LiuhenError as exc:
        return error_page(request, exc)
    messages.success(request, "通报已发布，各单位可查阅。")
    return redirect("circular_detail", pk)


@login_required
@require_GET
def circular_export(request, pk: int, fmt: str):
    """The circular as PDF (published: the kept PDF) or XLSX, audited."""
    try:
        require(request.user, "circular.view", event=events.event_circular_exported,
                target=("supervision.circular", str(pk)))
        circular = _get(request.user, pk, events.event_circular_exported)
    except LiuhenError as exc:
        return error_page(request, exc)
    if fmt == "pdf":
        body = bytes(circular.pdf) if circular.pdf else circulars.to_pdf(circular)
        response = HttpResponse(body, content_type="application/pdf")
    else:
        response = HttpResponse(
            circulars.to_xlsx(circular),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    record(actor=request.user, action=events.event_circular_exported, target=circular,
           detail={"format": fmt})
    response["Content-Disposition"] = content_disposition_header(
        True, f"通报-{circular.period_start:%Y%m%d}-{circular.pk}.{fmt}")
    return response
