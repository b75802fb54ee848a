"""Pages of the statutory deadlines: the list (``/deadlines/``) and recording a deadline fact."""

from __future__ import annotations

import datetime as _dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from liuhen.access.permissions import BUREAU, TREE, scope_for
from liuhen.access.querysets import user_role, user_unit
from liuhen.access.services import get_for, require
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.deadlines.events import event_deadlines_listed
from liuhen.deadlines.queries import ALERT_STATUSES, DeadlineFilter, alerts
from liuhen.deadlines.services import DEADLINE_FACTS, STATUS_LABELS, record_deadline_fact
from liuhen.org.models import Officer, Unit

LIST_LIMIT = 500


def _error(request, exc: LiuhenError):
    template = "404.html" if isinstance(exc, NotFound) else "core/error.html"
    return render(request, template, {"error": exc.message, "code": exc.code}, status=exc.status)


def _int(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"筛选条件“{field}”应为编号", detail={"field": field})


def _visible_units(user):
    """Units whose cases ``user`` may see (``Unit.objects.restrict`` cannot be used: its
    ``unit_lookup = "pk"`` has no ``path`` to match a sub-tree on)."""
    scope = scope_for(user_role(user), "case.view")
    units = Unit.objects.order_by("path")
    if scope == BUREAU:
        return units
    own = user_unit(user)
    if own is None or scope is None:
        return units.none()
    return units.filter(path__startswith=own.path) if scope == TREE else units.filter(pk=own.pk)


def parse_filter(params) -> DeadlineFilter:
    status = params.get("status") or "alert"
    if status not in ALERT_STATUSES:
        raise InvalidInput("期限状态无效", detail={"field": "status"})
    return DeadlineFilter(
        unit=_int(params.get("unit"), "unit"),
        officer=_int(params.get("officer"), "officer"),
        status=status,
    )


@login_required
@require_GET
def deadline_list(request):
    """Due-soon and overdue deadlines of the cases the user may see, by unit and officer."""
    user = request.user
    try:
        require(user, "case.view", event=event_deadlines_listed)
        filters = parse_filter(request.GET)
    except LiuhenError as exc:
        return _error(request, exc)
    today = timezone.localdate()
    qs = alerts(user, today, filters)
    entries = list(qs[: LIST_LIMIT + 1])
    truncated = len(entries) > LIST_LIMIT
    entries = entries[:LIST_LIMIT]
    for e in entries:
        e.status = e.status_on(today)
        e.status_label = STATUS_LABELS[e.status]
    counted = alerts(user, today, DeadlineFilter(unit=filters.unit, officer=filters.officer))
    counts = {
        "overdue": counted.filter(due__lt=today).count(),
        "due_soon": counted.filter(due__gte=today).count(),
    }
    record(
        actor=user,
        action=event_deadlines_listed,
        detail={
            "unit": filters.unit,
            "officer": filters.officer,
            "status": filters.status,
            "shown": len(entries),
        },
    )
    return render(
        request,
        "deadlines/deadlines_list.html",
        {
            "today": today,
            "entries": entries,
            "truncated": truncated,
            "counts": counts,
            "filters": filters,
            "statuses": list(ALERT_STATUSES.items()),
            "units": _visible_units(user),
            "officers": Officer.objects.restrict(user, "case.view")
            .select_related("unit")
            .filter(role__in=("officer", "unit_head"))
            .order_by("unit__path", "name"),
        },
    )


def _date(value, field: str):
    if not value:
        return None
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("日期格式应为 YYYY-MM-DD", detail={"field": field})


@login_required
@require_POST
def deadline_fact_add(request, pk: int):
    """Record a fact that starts or meets a deadline (收到起诉状副本, 查封扣押, …) from the
    case page; back to the case page with the outcome as a message."""

    try:
        case = get_for(request.user, "document.create", Case.objects.select_related("unit"), pk)
        on = _date(request.POST.get("on"), "on")
        if on is None:
            raise InvalidInput("请填写事实发生日期", detail={"field": "on"})
        kind = request.POST.get("kind", "")
        record_deadline_fact(
            actor=request.user,
            case=case,
            kind=kind,
            on=on,
            hearing_date=_date(request.POST.get("hearing_date"), "hearing_date"),
            note=request.POST.get("note", "")[:500],
        )
    except NotFound as exc:
        return _error(request, exc)
    except LiuhenError as exc:
        messages.error(request, f"未能登记：{exc.message}")
        return redirect(reverse("case_detail", args=[pk]) + "#case-deadlines")
    messages.success(request, f"已登记：{DEADLINE_FACTS[kind][0]}（{on:%Y-%m-%d}）")
    return redirect(reverse("case_detail", args=[pk]) + "#case-deadlines")
