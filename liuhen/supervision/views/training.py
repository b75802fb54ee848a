"""Pages of training (第二十五条): sessions and the form that registers one, the year's
standing of each visible officer against the required hours (short ones first), a session with
its attendance form, and one officer's training record."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods

from liuhen.access.querysets import allows
from liuhen.access.services import require
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.core.pages import error_page
from liuhen.org.models import Officer
from liuhen.supervision import events, training
from liuhen.supervision.models import TrainingSession


def _date(value) -> object:
    try:
        parsed = parse_date(value or "")
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput("培训日期格式不正确，应为 YYYY-MM-DD")
    if parsed > timezone.localdate():
        raise InvalidInput("培训日期不能晚于今天（登记已举办的培训）")
    return parsed


def _year(value) -> int:
    if not value:
        return timezone.localdate().year
    try:
        year = int(value)
    except ValueError:
        raise InvalidInput("年份应为整数")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份不正确")
    return year


@login_required
@require_http_methods(["GET", "POST"])
def training_list(request):
    try:
        require(request.user, "training.view", event=events.event_training_listed)
        year = _year(request.GET.get("year"))
        if request.method == "POST":
            session = training.add_session(
                actor=request.user, topic=request.POST.get("topic", ""),
                held_on=_date(request.POST.get("held_on")), hours=request.POST.get("hours", ""),
                trainer=request.POST.get("trainer", ""),
                materials=request.POST.get("materials", ""))
            messages.success(request, "培训已登记，请登记参训人员。")
            return redirect("training_detail", session.pk)
    except LiuhenError as exc:
        return error_page(request, exc)
    only_short = request.GET.get("short") == "1"
    return render(request, "supervision/training_list.html", {
        "sessions": TrainingSession.objects.all()[:100], "year": year,
        "standings": training.standings(request.user, year, only_short=only_short),
        "only_short": only_short, "rule": training.rule(),
        "can_manage": allows(request.user, "training.manage"),
        "today": timezone.localdate()})


@login_required
@require_http_methods(["GET", "POST"])
def training_detail(request, pk: int):
    try:
        require(request.user, "training.view", event=events.event_training_viewed,
                target=("supervision.trainingsession", str(pk)))
        session = TrainingSession.objects.filter(pk=pk).first()
        if session is None:
            raise NotFound()
        if request.method == "POST":
            try:
                ids = [int(i) for i in request.POST.getlist("officers") if i]
            except ValueError:
                raise InvalidInput("参训人员不正确")
            added = training.record_attendance(actor=request.user, session=session,
                                               officer_ids=ids,
                                               hours=request.POST.get("hours") or None)
            messages.success(request, f"已登记 {added} 名参训人员。")
            return redirect("training_detail", pk)
    except LiuhenError as exc:
        return error_page(request, exc)
    record(actor=request.user, action=events.event_training_viewed, target=session)
    visible = training.visible_officers(request.user)
    can_manage = allows(request.user, "training.manage")
    return render(request, "supervision/training_detail.html", {
        "s": session, "can_manage": can_manage,
        "attendances": session.attendances.filter(officer__in=visible)
        .select_related("officer__unit"),
        "officers": Officer.objects.select_related("unit").order_by("unit__path", "name")
        if can_manage else []})


@login_required
@require_GET
def officer_training(request, pk: int):
    try:
        require(request.user, "training.view", event=events.event_training_record_viewed,
                target=("org.officer", str(pk)))
        officer = training.visible_officers(request.user).filter(pk=pk).first()
        if officer is None:  # another unit's officer: hidden like a missing one, and audited
            record_denied(actor=request.user, action=events.event_training_record_viewed,
                          target=("org.officer", str(pk)), reason="对象不存在或无权访问")
            raise NotFound()
        year = _year(request.GET.get("year"))
    except LiuhenError as exc:
        return error_page(request, exc)
    record(actor=request.user, action=events.event_training_record_viewed, target=officer)
    rows = list(training.officer_record(officer))
    required = training.rule()["hours_by_role"].get(officer.role)
    this_year = sum((a.hours for a in rows if a.session.held_on.year == year), start=0)
    return render(request, "supervision/training_officer.html", {
        "officer": officer, "rows": rows, "year": year, "required": required,
        "this_year": this_year, "rule": training.rule()})
