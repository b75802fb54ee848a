"""Pages for cases, parties and patrols: thin over cases.services and cases.queries.

Reads of a case are audited through access.services.get_for (第二十六条 (三)); a forbidden case
answers 404 like a missing one and leaves a denied entry. Every service error is shown in
Chinese on the page it came from.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from liuhen.access.querysets import unit_allowed
from liuhen.access.services import get_for, require
from liuhen.cases import events, services, stages
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.forms import (
    CaseFilterForm,
    CaseForm,
    FactsForm,
    FromPatrolForm,
    PartyForm,
    PatrolForm,
    TransitionForm,
)
from liuhen.cases.models import Case, Party, Patrol
from liuhen.cases.privacy import sees_identity, shown_parties
from liuhen.cases.queries import (
    COUNT_CAP,
    CaseFilter,
    capped_count,
    case_page,
    page_count,
    search_cases,
)
from liuhen.cases.validators import mask_party_name
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.core.pages import error_page, first_error, form_error, handles_errors
from liuhen.org.models import Officer, Unit

PAGE_SIZE = 50


def _page(request, qs, page_size=None):
    """One page of ``qs`` with a cheap count, fast on 100,000 rows.

    The count stops at COUNT_CAP ("more than 10,000"), and a first page that is not full
    needs no count at all: a narrow search (text, party) then scans the table once, not twice.
    """
    page_size = page_size or PAGE_SIZE
    number = _page_number(request)
    count = None
    if number == 1:
        rows = list(qs[: page_size + 1])
        if len(rows) <= page_size:
            count = len(rows)
    if count is None:
        count = capped_count(qs)
    if number > 1 or count > page_size:
        first_read = number == 1
        number = min(number, page_count(min(count, COUNT_CAP), page_size))
        start = (number - 1) * page_size
        # A page past the end of a one-page list lands on page 1, which was never read.
        rows = rows[:page_size] if first_read else list(qs[start:start + page_size])
    return _pager(request, rows=rows, number=number, count=min(count, COUNT_CAP),
                  capped=count > COUNT_CAP, page_size=page_size)


def _pager(request, *, rows, number: int, count: int, capped: bool, page_size: int) -> dict:
    """What the list templates' pager needs; ``count`` is already capped at COUNT_CAP."""
    pages = page_count(count, page_size)
    query = request.GET.copy()
    query.pop("page", None)
    return {"rows": rows, "number": number, "pages": pages, "count": count, "capped": capped,
            "has_prev": number > 1, "has_next": number < pages, "query": query.urlencode()}


@login_required
@handles_errors
def case_list(request):
    """案件列表: filtered and paginated; parties masked (names and numbers of persons)."""
    require(request.user, "case.view", event=events.event_case_listed)
    form = CaseFilterForm(request.GET or None, user=request.user)
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        filters = CaseFilter(
            unit=data["unit"].pk if data.get("unit") else None, kind=data.get("kind") or None,
            stage=data.get("stage") or None,
            officer=data["officer"].pk if data.get("officer") else None,
            party=data.get("party") or None, q=data.get("q") or None,
            opened_from=data.get("opened_from"), opened_to=data.get("opened_to"))
        try:
            search = search_cases(actor=request.user, filters=filters)
            found = case_page(search, number=_page_number(request), page_size=PAGE_SIZE,
                              within_cap=True)
            page = _pager(request, rows=_case_rows(found.ids), number=found.number,
                          count=found.count, capped=found.capped, page_size=PAGE_SIZE)
        except InvalidInput as exc:
            form_error(form, exc)
    return render(request, "cases/case_list.html", {"form": form, "page": page})


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


KIND_LABELS = dict(CaseKind.choices)
STAGE_LABELS = dict(Stage.choices)


def _case_rows(ids):
    """The list's rows for the case ``ids`` (found scoped and filtered), as plain dicts.

    Rendering 50 rows is the page's main cost, so each row carries exactly what a cell shows:
    the names of its parties (persons masked) and officers joined once here, in the order the
    case page lists them, read from the link tables without building model instances.
    """
    if not ids:
        return []
    cases = Case.objects.filter(pk__in=ids).values_list(
        "pk", "number", "kind", "cause", "stage", "opened_on", "unit__name")
    parties, officers = {}, {}
    links = Case.parties.through.objects.filter(case_id__in=ids).order_by("party__name")
    for case_id, kind, name in links.values_list("case_id", "party__kind", "party__name"):
        parties.setdefault(case_id, []).append(mask_party_name(kind, name))
    links = Case.officers.through.objects.filter(case_id__in=ids).order_by(
        "officer__unit__path", "officer__name")
    for case_id, name in links.values_list("case_id", "officer__name"):
        officers.setdefault(case_id, []).append(name)
    base = reverse("case_list")
    rows = {}
    for pk, number, kind, cause, stage, opened_on, unit_name in cases:
        rows[pk] = {
            "url": f"{base}{pk}/", "number": number, "kind_label": KIND_LABELS.get(kind, kind),
            "cause": cause, "party_text": "、".join(parties.get(pk, ())),
            "officer_text": "、".join(officers.get(pk, ())), "unit_name": unit_name,
            "stage": stage, "stage_label": STAGE_LABELS.get(stage, stage),
            "opened_on": opened_on.isoformat(),
        }
    return [rows[pk] for pk in ids if pk in rows]


def detail_context(request, case, **extra):
    """What the case page shows of the case itself; ``extra`` adds what other apps show
    (``panels``: a template the top layer includes below, see liuhen/web/views.py)."""
    user = request.user
    officers = list(case.officer_list())
    may_change = unit_allowed(user, "case.change", case.unit) and case.stage != Stage.ARCHIVING
    # 第十七条第四款: full names and ID numbers only for the handling unit (cases.privacy).
    parties = shown_parties(user, case.party_list(), unit=case.unit)
    next_stages = [(s, Stage(s).label, stages.article(case.kind, s))
                   for s in stages.allowed_next(case)
                   if services.may_move(user, case, s, officers=officers)]
    # The steps that apply to this case (a hearing only when asked for, 法制审核 and 集体讨论
    # only where 第五十八条 and 第五十七条第二款 apply), each under its 第二条 phase.
    path = [step.stage for step in stages.steps(case)]
    current = path.index(case.stage) if case.stage in path else -1
    context = {
        "case": case, "officers": officers,
        "parties": parties,
        "logs": list(case.stage_history()),
        "show_full_ids": sees_identity(user, case.unit), "may_change": may_change, "next_stages": next_stages,
        "path": [(s, Stage(s).label, i < current, i == current) for i, s in enumerate(path)],
        "phase_label": stages.phase_label(case.stage),
        "facts_form": FactsForm(initial={f: getattr(case, f) for f in services.EDITABLE_FACTS}),
    }
    context.update(extra)
    return context


@login_required
@require_POST
@handles_errors
def case_move(request, pk):
    """变更环节: one of stages.allowed_next(case), through the one service per transition."""
    case = get_for(request.user, "case.view", Case.objects.select_related("unit"), pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        # Who may move the case at all is asked first (第二十六条: refused and audited).
        services.refuse_unless_may_move(actor=request.user, case=case)
        # The field's own error (a note too long is not “choose a stage”, issue 13 item 4).
        messages.error(request, "请选择要转入的环节" if "to" in form.errors else first_error(form))
        return redirect("case_detail", pk=case.pk)
    try:
        moved = services.move_case(actor=request.user, case=case,
                                   to_stage=form.cleaned_data["to"],
                                   note=form.cleaned_data["note"])
    except LiuhenError as exc:
        if exc.status == 404:
            return error_page(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"案件已转入「{moved.get_stage_display()}」环节")
    return redirect("case_detail", pk=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def case_edit(request, pk):
    """修改案件事实: hearing requested, the 第五条 flags, dates; each change audited."""
    case = get_for(request.user, "case.change", Case.objects.select_related("unit"), pk)
    initial = {f: getattr(case, f) for f in services.EDITABLE_FACTS}
    form = FactsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if initial.get(k) != v}
        if not changes:
            messages.info(request, "没有需要保存的变更")
            return redirect("case_detail", pk=case.pk)
        try:
            services.update_case_facts(actor=request.user, case=case, **changes)
        except LiuhenError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "案件信息已保存")
            return redirect("case_detail", pk=case.pk)
    return render(request, "cases/case_edit.html", {"case": case, "form": form})


def _create_from_form(request, form, patrol=None):
    data = form.cleaned_data
    unit = data["unit"]
    party_ids = [p.pk for p in data["parties"]]
    if data.get("new_party_kind"):
        party = services.create_party(
            actor=request.user, unit=unit, kind=data["new_party_kind"],
            name=data["new_party_name"], id_number=data["new_party_id_number"])
        party_ids.append(party.pk)
    return services.create_case(
        actor=request.user, unit=unit, kind=data["kind"], cause=data["cause"],
        source=data["source"], officer_ids=[o.pk for o in data["officers"]],
        party_ids=party_ids, patrol=patrol, summary=data["summary"],
        opened_on=data["opened_on"], complaint_received_on=data["complaint_received_on"],
        is_random_inspection=data["is_random_inspection"], is_disputed=data["is_disputed"],
        is_major_incident=data["is_major_incident"])


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def case_create(request):
    """新建案件（立案）: unit, kind, officers (第十一条), parties, dates, 第五条 flags."""
    require(request.user, "case.create", event=events.event_case_created)
    form = CaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = _create_from_form(request, form)
        except LiuhenError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"已立案：{case.number}")
            return redirect("case_detail", pk=case.pk)
    return render(request, "cases/case_form.html", {"form": form})


@login_required
@handles_errors
def case_form_officers(request):
    """htmx: the officer and party pickers for the unit just chosen on the create form."""
    require(request.user, "case.create")
    unit = Unit.objects.filter(pk=request.GET.get("unit") or 0).first() \
        if (request.GET.get("unit") or "").isdigit() else None
    form = CaseForm(user=request.user, unit=unit)
    return render(request, "cases/_case_form_people.html", {"form": form})


@login_required
@handles_errors
def party_list(request):
    """当事人: the parties the user may see, names of persons and numbers masked."""
    require(request.user, "party.view")
    qs = Party.objects.restrict(request.user, "party.view").select_related("unit")
    term = (request.GET.get("q") or "").strip()[:100]
    if term:
        qs = qs.filter(name__contains=term)
    return render(request, "cases/party_list.html", {
        "page": _page(request, qs.order_by("-created_at", "-id")), "q": term})


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def party_create(request):
    """登记当事人: the ID card or USCC checksum is checked before anything is stored."""
    require(request.user, "party.create", event=events.event_party_created)
    form = PartyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            party = services.create_party(
                actor=request.user, unit=data["unit"], kind=data["kind"], name=data["name"],
                id_number=data["id_number"], legal_representative=data["legal_representative"],
                phone=data["phone"], address=data["address"])
        except LiuhenError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"已登记当事人：{party.masked_name}")
            return redirect("party_list")
    return render(request, "cases/party_form.html", {"form": form})


@login_required
@handles_errors
def patrol_list(request):
    """日常巡查 list, newest first."""
    require(request.user, "patrol.view")
    qs = (Patrol.objects.restrict(request.user, "patrol.view").select_related("unit")
          .prefetch_related(Prefetch("officers", queryset=Officer.objects.only("id", "name"))))
    return render(request, "cases/patrol_list.html", {"page": _page(request, qs)})


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def patrol_create(request):
    """登记日常巡查; its officers must be qualified on the patrol date (第十一条)."""
    require(request.user, "patrol.create", event=events.event_patrol_created)
    form = PatrolForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_patrol(actor=request.user, unit=data["unit"], date=data["date"],
                                   area=data["area"], notes=data["notes"],
                                   officer_ids=[o.pk for o in data["officers"]])
        except LiuhenError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "巡查已登记")
            return redirect("patrol_list")
    return render(request, "cases/patrol_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def patrol_open_case(request, pk):
    """由巡查立案: the patrol's unit and officers carry over (第五条)."""
    patrol = get_for(request.user, "patrol.view",
                     Patrol.objects.select_related("unit").prefetch_related("officers"), pk,
                     read_event=events.event_patrol_viewed if request.method == "GET" else None)
    services.require_case_create(actor=request.user, unit=patrol.unit, target=patrol)
    form = FromPatrolForm(request.POST or None, user=request.user, patrol=patrol)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.open_case_from_patrol(actor=request.user, patrol=patrol,
                                                  kind=data["kind"], cause=data["cause"],
                                                  summary=data["summary"],
                                                  party_ids=[p.pk for p in data["parties"]])
        except LiuhenError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"已由巡查立案：{case.number}")
            return redirect("case_detail", pk=case.pk)
    return render(request, "cases/patrol_case_form.html", {"patrol": patrol, "form": form})

