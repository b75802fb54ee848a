"""Names instead of codes in templates (issue 13 item 1): ``{% load liuhen_display %}`` then
``{{ entry.action|action_label }}``, ``{{ code|code_label }}``, ``{{ type|object_type_label }}``."""

from django import template

from liuhen.core import display

register = template.Library()


@register.filter
def action_label(code):
    return display.action_label(str(code or ""))


@register.filter
def code_label(code):
    return display.code_label(str(code or ""))


@register.filter
def object_type_label(object_type):
    return display.object_type_label(str(object_type or ""))


@register.filter
def detail_text(detail, object_type=""):
    return display.detail_text(detail, object_type or "")
