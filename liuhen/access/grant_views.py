"""Pages of access requests and grants (第十六条): ask, the approver's inbox, my requests
and grants. Thin: parse, call one ``access.grants`` service, render; errors become Chinese
messages, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from liuhen.access import grants
from liuhen.access.forms import AccessRequestForm, DecisionForm
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.core.pages import form_error, handles_errors


def _parse_target(raw: str) -> tuple[str, str]:
    kind, _, pk = (raw or "").partition(":")
    return kind, pk


# 第十六条 asks per record; a person who needs several records at once asks for them together
# (``?target=…&target=…``): one request per record, each to its own unit's head.
MAX_TARGETS = 50


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def request_new(request):
    """申请调阅: the records come from the page the request starts on (``?target=type:id``,
    repeated for several records)."""
    raws = list(dict.fromkeys(request.GET.getlist("target") or request.POST.getlist("target")))
    if not raws:
        raws = [""]
    if len(raws) > MAX_TARGETS:
        raise InvalidInput(f"一次最多申请 {MAX_TARGETS} 件记录")
    targets = []
    for raw in raws:
        kind, pk = _parse_target(raw)
        _, label = grants.resolve_target(request.user, kind, pk)
        targets.append((raw, kind, pk, label))
    form = AccessRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    created = [grants.create_request(
                        requester=request.user, target_type=kind, target_id=pk,
                        actions=form.cleaned_data["actions"],
                        reason=form.cleaned_data["reason"],
                        wanted_from=form.cleaned_data["wanted_from"],
                        wanted_until=form.cleaned_data["wanted_until"])
                        for _raw, kind, pk, _label in targets]
            except LiuhenError as exc:
                form_error(form, exc)
            else:
                numbers = "、".join(r.number for r in created)
                messages.success(request, f"调阅申请 {numbers} 已提交，"
                                          "等待记录所属单位负责人审批")
                return redirect("access_mine")
        status = 400
    return render(request, "access/request_new.html",
                  {"form": form, "targets": targets, "target": targets[0][0],
                   "label": "、".join(t[3] for t in targets)}, status=status)


@login_required
@require_http_methods(["GET"])
@handles_errors
def inbox(request):
    """待审批的调阅申请: what waits for this unit head's decision."""
    pending = list(grants.pending_for(request.user).order_by("created_at", "id"))
    for item in pending:
        item.form = DecisionForm(initial={"actions": item.actions,
                                          "valid_until": item.wanted_until.date()})
    decided = (grants.AccessRequest.objects.filter(decided_by=request.user)
               .select_related("requester", "grant").order_by("-decided_at")[:50])
    return render(request, "access/inbox.html", {"pending": pending, "decided": decided})


@login_required
@require_POST
@handles_errors
def decide(request, pk: int):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "审批内容有误，请检查后重新提交")
        return redirect("access_inbox")
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            grant = grants.approve_request(approver=request.user, request_id=pk,
                                           actions=data["actions"] or None,
                                           valid_until=data["valid_until"], note=data["note"])
            messages.success(request, f"已批准，授权编号 {grant.number}")
        else:
            grants.refuse_request(approver=request.user, request_id=pk, reason=data["note"])
            messages.success(request, "已不予批准，理由已告知申请人")
    except LiuhenError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    return redirect("access_inbox")


@login_required
@require_http_methods(["GET"])
@handles_errors
def mine(request):
    """我的调阅申请与授权."""
    now = timezone.now()
    mine = list(grants.grants_of(request.user)[:100])
    for grant in mine:
        grant.state = ("revoked" if grant.revoked_at else "expired" if grant.valid_until <= now
                       else "active")
    return render(request, "access/mine.html", {
        "requests": grants.requests_of(request.user)[:100], "grants": mine})


@login_required
@require_POST
@handles_errors
def withdraw(request, pk: int):
    grants.withdraw_request(requester=request.user, request_id=pk)
    messages.success(request, "申请已撤回")
    return redirect("access_mine")


@login_required
@require_POST
@handles_errors
def revoke(request, pk: int):
    grant = grants.revoke_grant(actor=request.user, grant_id=pk,
                                reason=request.POST.get("reason", ""))
    messages.success(request, f"授权 {grant.number} 已撤销")
    return redirect("access_inbox" if request.POST.get("next") == "inbox" else "access_mine")
