"""Retention on the case, recording and records pages (第十二条, 第十四条):
``{% case_retention_panel case %}``, ``{% recording_retention_panel recording %}``,
``{% document_retention_line case %}``, shown to whoever may see the record itself; the case
file panel ``{% case_file_panel case %}`` (第十二条)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from liuhen.access.querysets import unit_allowed
from liuhen.keeping import holds, longterm, services
from liuhen.keeping.casefile import CASE_FILE_STAGES
from liuhen.keeping.choices import LongTermReason

register = template.Library()


def _long_term(context, target, *, marks, suggestions, url):
    """The 第十五条 part of a panel: marks in force, what the facts suggest, the form."""
    user = context["request"].user
    return {"long_term_marks": marks, "suggestions": suggestions, "mark_url": url,
            "may_mark": unit_allowed(user, "longterm.mark", target.unit),
            "reasons": LongTermReason.choices, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("keeping/_retention.html", takes_context=True)
def case_retention_panel(context, case):
    return {"retention": services.case_file_retention(case), "what": "案卷（卷宗）",
            "anchor": "retention", "holds": list(holds.active_holds().filter(case=case)),
            **_long_term(context, case, marks=list(case.long_term_marks.all()),
                         suggestions=longterm.case_suggestions(case),
                         url=reverse("keeping_case_long_term", args=[case.pk]))}


@register.inclusion_tag("keeping/_retention.html", takes_context=True)
def recording_retention_panel(context, recording):
    if recording.disposed_at:
        return {"retention": None}
    return {"retention": services.recording_retention(recording), "what": "本音像资料",
            "anchor": "retention", "holds": holds.holds_on_recording(recording),
            **_long_term(context, recording, marks=longterm.marks_on_recording(recording),
                         suggestions=longterm.recording_suggestions(recording),
                         url=reverse("keeping_recording_long_term", args=[recording.pk]))}


@register.inclusion_tag("keeping/_retention_line.html")
def document_retention_line(case):
    document = case.documents.filter(is_current=True).first()
    if document is None:
        return {"retention": None}
    return {"retention": services.document_retention(document)}


@register.inclusion_tag("keeping/_case_file.html", takes_context=True)
def case_file_panel(context, case):
    """卷宗 on the case page: its versions, and assemble / bind for who may (第十二条)."""
    user = context["request"].user
    return {
        "case": case,
        "versions": list(case.case_files.select_related("assembled_by", "checked_by")),
        "at_file_stage": case.stage in CASE_FILE_STAGES,
        "may_assemble": unit_allowed(user, "casefile.assemble", case.unit),
        "may_bind": unit_allowed(user, "casefile.bind", case.unit),
        "csrf_token": context.get("csrf_token"),
    }
