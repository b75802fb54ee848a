"""Retention on the case, recording and records pages (第十二条, 第十四条):
``{% case_retention_panel case %}``, ``{% recording_retention_panel recording %}``,
``{% document_retention_line case %}``. Shown to whoever may see the record itself."""

from __future__ import annotations

from django import template

from liuhen.keeping import holds, services

register = template.Library()


@register.inclusion_tag("keeping/_retention.html")
def case_retention_panel(case):
    return {"retention": services.case_file_retention(case), "what": "案卷（卷宗）",
            "anchor": "retention", "holds": list(holds.active_holds().filter(case=case))}


@register.inclusion_tag("keeping/_retention.html")
def recording_retention_panel(recording):
    if recording.disposed_at:
        return {"retention": None}
    return {"retention": services.recording_retention(recording), "what": "本音像资料",
            "anchor": "retention", "holds": holds.holds_on_recording(recording)}


@register.inclusion_tag("keeping/_retention_line.html")
def document_retention_line(case):
    document = case.documents.filter(is_current=True).first()
    if document is None:
        return {"retention": None}
    return {"retention": services.document_retention(document)}
