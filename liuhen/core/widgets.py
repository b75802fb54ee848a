"""Widgets written out in Python rather than through Django's templates (issue 9 item 3).

Django renders every widget, and every option of a select, through a template of its own
(``input.html`` with ``attrs.html``; ``select.html`` with one ``select_option.html`` per
option). On the lists the filter form's selects cost more than the table beneath them; on the
recording page the eight fields of its small forms (a mark, a link, another case) were a tenth
of the page's CPU under load. These write the same elements and attributes (attributes in
``flatatt``'s order); ``evidence.tests.test_widgets`` compares them with Django's own, parsed.
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


class QuickInput:
    """Mixin for a ``forms.Input`` subclass: ``render`` without a template."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return mark_safe(format_html('<input type="{}" name="{}"', widget["type"], name)
                         + shown + flatatt(widget["attrs"]) + ">")


class QuickTextInput(QuickInput, forms.TextInput):
    pass


class QuickNumberInput(QuickInput, forms.NumberInput):
    pass


class QuickSelect(forms.Select):
    """A flat ``<select>`` written out in Python rather than one template per option, its
    options kept for a minute per process.

    The case and recording lists draw one per filter on every request, with every unit and
    officer in scope; Django's per-option templates cost more than the table of 50 cases
    beneath them, and even written out here the 322 officers of the pages bench took 50 ms
    per list (a query, a model and two ``format_html`` per officer). So the options of a
    model choice are kept, escaped, under their query (which carries the user's scope) for
    ``settings.FILTER_OPTIONS_SECONDS`` (LIUHEN_FILTER_OPTIONS_SECONDS, 60; the test suite:
    0): a unit or officer added appears in the filters within a minute;
    what the filter finds is decided by the restricted query, never by this list (issue 9
    item 3). The markup is the same; option groups are not supported (no filter uses them).
    """

    _kept: dict = {}  # (field class, query) -> (deadline, [(value, label), ...])

    def render(self, name, value, attrs=None, renderer=None):
        chosen = self.format_value(value)
        options = []
        for option_value, label in self._options():
            selected = option_value in chosen
            if selected:
                chosen = ()  # like Select: only the first matching option is selected
            options.append(f'<option value="{option_value}"'
                           f'{" selected" if selected else ""}>{label}</option>')
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return mark_safe(format_html('<select name="{}"{}>', name, attrs) + "".join(options)
                         + "</select>")

    def _options(self) -> list[tuple[str, str]]:
        """(value, label) of each option, both escaped."""
        queryset = getattr(self.choices, "queryset", None)  # a ModelChoiceIterator
        seconds = settings.FILTER_OPTIONS_SECONDS
        key = None
        now = time.time()
        if queryset is not None and seconds:
            field = self.choices.field
            key = (type(field), field.empty_label, str(queryset.query))
            kept = self._kept.get(key)
            if kept is not None and now < kept[0]:
                return kept[1]
        options = [("" if v is None else escape(str(v)), escape(str(label)))
                   for v, label in self.choices]
        if key is not None:
            if len(self._kept) > 500:  # scopes x fields: a handful; never grow without bound
                self._kept.clear()
            self._kept[key] = (now + seconds, options)
        return options
