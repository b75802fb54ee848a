"""第十七条 on the recording and case pages: ``{% recording_disclosure_panel recording %}`` and
``{% case_disclosure_panel case %}`` show the confidentiality marks in force (第十七条第四款: the
level, who set it, when and why — a recording's own and those of its cases, the strictest of
which applies) and the ways on where the user may take them: register a party copy
(第十七条第二款), register a supply to a review body or a court (第十七条第三款), ask for a copy
or export grant (第十六条), change the mark. What each link leads to still checks its own
rule; the panel only spares the user a search."""

from __future__ import annotations

from django import template
from django.db.models import Q
from django.urls import reverse

from liuhen.access.choices import UseAction
from liuhen.access.querysets import unit_allowed
from liuhen.access.use import right_for
from liuhen.disclosure import marks
from liuhen.disclosure.choices import Confidentiality
from liuhen.disclosure.models import ConfidentialityMark, PartyCopy
from liuhen.records.models import current_documents

register = template.Library()


def _in_force(*where, **fields):
    return list(ConfidentialityMark.objects.filter(*where, is_current=True, **fields)
                .exclude(level=Confidentiality.NONE).select_related("set_by", "case"))


@register.inclusion_tag("disclosure/_panel.html", takes_context=True)
def recording_disclosure_panel(context, recording):
    user = context["request"].user
    level = marks.effective_mark(recording)
    case_ids = set(recording.active_case_ids())
    if recording.case_id:
        case_ids.add(recording.case_id)
    # One query for the recording's own marks and its cases' (listed in that order).
    in_force = sorted(_in_force(Q(recording=recording) | Q(case_id__in=case_ids)),
                      key=lambda mark: mark.recording_id != recording.pk)
    secret = level == Confidentiality.STATE_SECRET
    may_copy = (not secret and recording.disposed_at is None
                and unit_allowed(user, "disclosure.register", recording.unit))
    copies = recording.party_copies.restrict(user, "disclosure.view").order_by("-pk")[:20]
    return {
        "what": "本音像记录", "level": level, "level_label": marks.label(level),
        "in_force": in_force, "secret": secret, "notice": marks.STATE_SECRET_NOTICE,
        "copy_url": f"{reverse('disclosure_copy_new')}?recording={recording.pk}"
        if may_copy else "",
        "grant_url": f"{reverse('access_request_new')}?target=evidence.recording:{recording.pk}"
        if not secret and recording.disposed_at is None else "",
        "mark_url": f"{reverse('disclosure_marks')}?recording_id={recording.pk}"
        if unit_allowed(user, "confidentiality.mark", recording.unit) else "",
        "copies": copies, "supplies": [],
    }


@register.inclusion_tag("disclosure/_panel.html", takes_context=True)
def case_disclosure_panel(context, case):
    user = context["request"].user
    level = marks.effective_mark(case)
    secret = level == Confidentiality.STATE_SECRET
    return {
        "what": "本案（含其文字记录和音像记录）", "level": level, "level_label": marks.label(level),
        "in_force": _in_force(case=case), "secret": secret,
        "notice": marks.STATE_SECRET_NOTICE,
        "supply_url": f"{reverse('disclosure_supply_new')}?case_number={case.number}"
        if unit_allowed(user, "disclosure.register", case.unit) else "",
        "grant_url": "",
        # 第十六条: the holder of an export grant on this case exports from here.
        "export_url": f"{reverse('use_export_new')}?grant={export.grant.pk}"
        if (export := right_for(user, case, UseAction.EXPORT)) and export.grant else "",
        "mark_url": f"{reverse('disclosure_marks')}?case_number={case.number}"
        if unit_allowed(user, "confidentiality.mark", case.unit) else "",
        # 第十七条第二款: a party may ask for copies of the case's documents (文书) too.
        "document_copies": [
            (doc, f"{reverse('disclosure_copy_new')}?document={doc.pk}")
            for doc in [d for d in current_documents(case)
                        if d.disposed_at is None and d.storage_key][:50]]
        if not secret and unit_allowed(user, "disclosure.register", case.unit) else [],
        "copies": PartyCopy.objects.filter(document__case=case)
        .restrict(user, "disclosure.view").order_by("-pk")[:20],
        "supplies": case.supplies.restrict(user, "disclosure.view").order_by("-pk")[:20],
    }
