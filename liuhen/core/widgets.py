"""Inputs written out in Python rather than through templates (issue 9 item 3).

Django renders every widget through a template of its own (``input.html``, which includes
``attrs.html``): on the recording page the eight fields of its small forms (a mark, a link,
another case) were a tenth of the page's CPU under load. These write the same markup: the type,
the name, the value when there is one, then each attribute in order (``True`` bare, ``False``
left out). ``evidence.tests.test_widgets`` compares them with Django's own, value by value.
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}" if value is True
                     else f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


class QuickInput:
    """Mixin for a ``forms.Input`` subclass: ``render`` without a template."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return mark_safe(format_html('<input type="{}" name="{}"', widget["type"], name)
                         + shown + _attrs(widget["attrs"]) + ">")


class QuickTextInput(QuickInput, forms.TextInput):
    pass


class QuickNumberInput(QuickInput, forms.NumberInput):
    pass
