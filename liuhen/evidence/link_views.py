"""The recording page's case links: a recording may be evidence in several cases (第十四条,
第十八条). Add a link (case number and why) or end one (why); both through
``evidence.links``, audited there. Errors come back as a Chinese message on the recording page,
with nothing changed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from liuhen.access.services import get_for
from liuhen.cases.models import Case
from liuhen.core import limits
from liuhen.core.errors import LiuhenError, NotFound
from liuhen.core.pages import handles_errors
from liuhen.core.widgets import QuickTextInput
from liuhen.evidence import events, links
from liuhen.evidence.models import CaseLink, Recording


class CaseLinkForm(forms.Form):
    """One more case this recording is evidence in, and why."""

    case_number = forms.CharField(label="案件编号", max_length=limits.SEARCH,
                                  help_text="例如 冀人社监〔2026〕12号", widget=QuickTextInput)
    reason = forms.CharField(label="关联理由", max_length=limits.NOTE,
                             help_text="为什么这条音像记录也是该案件的证据",
                             widget=QuickTextInput)


class EndLinkForm(forms.Form):
    reason = forms.CharField(label="解除理由", max_length=limits.NOTE)


def links_context(request, recording: Recording) -> dict:
    """What the recording page shows of its case links (ended ones too, with who and why):
    the active ones first (the primary link first), then the ended ones as they ended. NULLS
    FIRST said outright: PostgreSQL sorts NULL last in ascending order, SQLite first, so the
    ended links came first on PostgreSQL."""
    return {
        "case_links": list(recording.case_links.select_related("case", "linked_by__officer",
                                                               "ended_by__officer")
                           .order_by(F("ended_at").asc(nulls_first=True), "-is_primary",
                                     "linked_at", "id")),
        "case_link_form": CaseLinkForm(),
        "end_link_form": EndLinkForm(),
    }


def _first_error(form) -> str:
    for errors in form.errors.values():
        return f"{errors[0]}"
    return "输入有误"


def _back(pk: int):
    return redirect(reverse("recording_detail", args=[pk]) + "#case-links")


@login_required
@require_POST
@handles_errors
def recording_case_link(request, pk: int):
    """关联到另一案件."""
    recording = get_for(request.user, "recording.link", Recording.objects, pk,
                        denied_event=events.event_recording_case_linked)
    try:
        form = CaseLinkForm(request.POST)
        if not form.is_valid():
            raise LiuhenError(_first_error(form))
        case = (Case.objects.restrict(request.user, "recording.link")
                .filter(number=form.cleaned_data["case_number"].strip()).first())
        if case is None:
            raise LiuhenError("没有这个案件编号，或无权关联到该案件")
        links.add_case_link(actor=request.user, recording=recording, case=case,
                            reason=form.cleaned_data["reason"])
        messages.success(request, f"已关联到案件 {case.number}")
    except LiuhenError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    return _back(pk)


@login_required
@require_POST
@handles_errors
def recording_case_unlink(request, pk: int, link_id: int):
    """解除与某案件的关联 (kept, with who, when and why)."""
    recording = get_for(request.user, "recording.link", Recording.objects, pk,
                        denied_event=events.event_recording_case_unlinked)
    link = get_for(request.user, "recording.link",
                   CaseLink.objects.filter(recording=recording).select_related("case"),
                   link_id, denied_event=events.event_recording_case_unlinked)
    try:
        form = EndLinkForm(request.POST)
        if not form.is_valid():
            raise LiuhenError("解除关联须填写理由")
        links.end_case_link(actor=request.user, link=link, reason=form.cleaned_data["reason"])
        messages.success(request, f"已解除与案件 {link.case.number} 的关联")
    except LiuhenError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    return _back(pk)
