"""Pages of supervision: violations of 第二十六条 listed with their evidence, and the legal
affairs office's steps (confirm or dismiss with a reason, a measure, closing). Thin: each
action parses the form and calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from liuhen.access.querysets import allows
from liuhen.access.services import get_for, require
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.org.models import Officer, Unit
from liuhen.supervision import events, services
from liuhen.supervision.choices import Measure, ViolationItem, ViolationStatus
from liuhen.supervision.detectors import rules
from liuhen.supervision.models import Violation

LIST_LIMIT = 500


def _error(request, exc: LiuhenError):
    template = "404.html" if isinstance(exc, NotFound) else "core/error.html"
    return render(request, template, {"error": exc.message, "code": exc.code}, status=exc.status)


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@login_required
@require_GET
def violation_list(request):
    """Violations the user may see, newest first, filtered by item, status and unit."""
    try:
        require(request.user, "violation.view", event=events.event_violations_listed)
    except LiuhenError as exc:
        return _error(request, exc)
    qs = services.visible_violations(request.user).select_related("unit", "officer")
    item, unit = _int_or_none(request.GET.get("item")), _int_or_none(request.GET.get("unit"))
    status = request.GET.get("status", "")
    if item:
        qs = qs.filter(item=item)
    if status in ViolationStatus.values:
        qs = qs.filter(status=status)
    if unit:
        qs = qs.filter(unit_id=unit)
    rows = list(qs[:LIST_LIMIT])
    can_handle = allows(request.user, "violation.handle")
    return render(request, "supervision/violation_list.html", {
        "violations": rows,
        "truncated": len(rows) >= LIST_LIMIT,
        "items": ViolationItem.choices,
        "statuses": ViolationStatus.choices,
        "units": Unit.objects.restrict(request.user, "violation.view").order_by("path")
        if can_handle else [],
        "filters": {"item": item, "status": status, "unit": unit},
        "can_handle": can_handle,
        "officers": Officer.objects.select_related("unit").order_by("unit__path", "name")
        if can_handle else [],
    })


@login_required
@require_GET
def violation_detail(request, pk: int):
    """One violation: the evidence that raised it, its steps, and the office's actions."""
    try:
        violation = get_for(request.user, "violation.view",
                            services.visible_violations(request.user)
                            .select_related("unit", "officer"),
                            pk, read_event=events.event_violation_viewed)
    except LiuhenError as exc:
        return _error(request, exc)
    rule = rules().get(violation.detector, {})
    return render(request, "supervision/violation_detail.html", {
        "v": violation,
        "rule": rule,
        "steps": violation.steps.select_related("actor", "actor__officer"),
        "can_handle": allows(request.user, "violation.handle"),
        "measures": Measure.choices,
        "S": ViolationStatus,
    })


def _confirm(request, violation):
    services.confirm(actor=request.user, violation=violation,
                     reason=request.POST.get("reason", ""))
    return "已确认"


def _dismiss(request, violation):
    services.dismiss(actor=request.user, violation=violation,
                     reason=request.POST.get("reason", ""))
    return "已排除"


def _measure(request, violation):
    raw = request.POST.get("deadline", "")
    deadline = parse_date(raw) if raw else None
    if raw and deadline is None:
        raise InvalidInput("整改期限格式不正确，应为 YYYY-MM-DD")
    services.take_measure(actor=request.user, violation=violation,
                          measure=request.POST.get("measure", ""),
                          note=request.POST.get("note", ""), deadline=deadline)
    return "已登记处理措施"


def _close(request, violation):
    services.close(actor=request.user, violation=violation, note=request.POST.get("note", ""))
    return "已办结"


ACTIONS = {"confirm": _confirm, "dismiss": _dismiss, "measure": _measure, "close": _close}


@login_required
@require_POST
def violation_action(request, pk: int, action: str):
    if action not in ACTIONS:
        return _error(request, NotFound())
    try:
        violation = get_for(request.user, "violation.view", Violation.objects, pk)
        message = ACTIONS[action](request, violation)
    except NotFound as exc:
        return _error(request, exc)
    except LiuhenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("violation_detail", pk=pk)


@login_required
@require_POST
def violation_detect(request):
    """Run the detectors now (as `liuhen detect_violations` does, e.g. from cron)."""
    try:
        services.require_handle(request.user, events.event_violations_detected)
        summary = services.detect_violations(actor=request.user)
    except LiuhenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"检测完成：发现 {summary['findings']} 项，其中新增 "
                                  f"{summary['created']} 项")
    return redirect("violation_list")


@login_required
@require_POST
def violation_report(request):
    """第二十六条 (六): a violation entered by hand."""
    try:
        unit = Unit.objects.filter(pk=_int_or_none(request.POST.get("unit"))).first()
        officer_id = _int_or_none(request.POST.get("officer"))
        officer = Officer.objects.filter(pk=officer_id).first() if officer_id else None
        violation = services.report_violation(
            actor=request.user, unit=unit, officer=officer,
            description=request.POST.get("description", ""),
            item=_int_or_none(request.POST.get("item")) or ViolationItem.OTHER)
    except LiuhenError as exc:
        messages.error(request, exc.message)
        return redirect("violation_list")
    messages.success(request, "已登记")
    return redirect("violation_detail", pk=violation.pk)
