"""The completeness checklist on the case page (第十条): ``{% completeness_panel case %}``."""

from __future__ import annotations

from django import template

from liuhen.access.querysets import unit_allowed
from liuhen.rules import services

register = template.Library()


@register.inclusion_tag("rules/_checklist.html", takes_context=True)
def completeness_panel(context, case):
    user = context["request"].user
    if not unit_allowed(user, "rules.view", case.unit):
        return {"visible": False}
    snap = services.completeness_for(case)
    items = services.describe(snap)
    order = {"missing": 0, "waived": 1, "met": 2, "not_applicable": 3}
    items.sort(key=lambda i: order[i["status"]])
    return {
        "visible": True,
        "case": case,
        "snap": snap,
        "items": items,
        "may_add": unit_allowed(user, "document.create", case.unit) and not case.archived_at,
    }
