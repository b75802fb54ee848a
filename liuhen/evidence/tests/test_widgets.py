"""The recording page's small forms write their inputs in Python (``core.widgets``, and
``QuickSelect`` for the mark's label; issue 9 item 3): the markup must be Django's own, for
an empty form, a filled one and one with errors, with values that need escaping (compared
as parsed HTML, as ``assertHTMLEqual`` does)."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from liuhen.core.widgets import QuickInput
from liuhen.evidence.forms import LinkForm, MarkForm
from liuhen.evidence.link_views import CaseLinkForm

TRICKY = '"><script>alert(1)</script>&amp; 冀人社监〔2026〕12号'


def _django_widget(widget):
    """Django's own widget of the same kind, with the same attributes and choices."""
    base = next(cls for cls in type(widget).__mro__
                if cls.__module__ == "django.forms.widgets" and cls is not forms.Widget)
    plain = base(attrs=dict(widget.attrs))
    plain.is_required = widget.is_required
    if isinstance(widget, forms.Select):
        plain.choices = list(widget.choices)
    return plain


def _pairs(form):
    """(name, ours, Django's) per field, parsed: the same elements, attributes and text
    (attribute order and the whitespace between options aside)."""
    for bound in form:
        django_markup = bound.as_widget(widget=_django_widget(bound.field.widget))
        yield bound.name, parse_html(str(bound)), parse_html(django_markup)


@pytest.mark.parametrize("make", [
    lambda: MarkForm(duration=60),
    lambda: MarkForm({"offset_seconds": "12.5", "label": "signature_refused", "note": TRICKY},
                     duration=60),
    lambda: MarkForm({"offset_seconds": "-1", "label": "nonsense", "note": "x" * 5000},
                     duration=60),
    lambda: CaseLinkForm(),
    lambda: CaseLinkForm({"case_number": TRICKY, "reason": ""}),
])
def test_quick_inputs_write_djangos_markup(make):
    form = make()
    form.is_valid() if form.is_bound else None
    compared = 0
    for name, quick, django_markup in _pairs(form):
        assert quick == django_markup, name
        compared += 1
    assert compared == len(form.fields)
    assert any(isinstance(f.widget, QuickInput) for f in form.fields.values())


@pytest.mark.django_db
def test_the_link_forms_inputs_too(people):
    for data in (None, {"case_number": TRICKY, "reason": "改为 <b>"}):
        form = LinkForm(data, user=people["officer_a"].user, recording=None)
        if data:
            form.is_valid()
        for name, quick, django_markup in _pairs(form):
            assert quick == django_markup, name
