"""Every word the admin shows is the bureau's (issue 13 items 1 and 7): each field of each model
the admin holds has a Chinese name (``verbose_name``), and every column, form label, section,
filter and action the admin pages show reads in Chinese, ours and the third-party apps' alike.

A label may carry a term GLOSSARY.md keeps as it is (SHA-256, SM3, API, IP) but never consist
of nothing else: an ASCII-only label fails.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field
from django.test import RequestFactory
from django.utils import translation

CHINESE = re.compile(r"[\u3400-\u9fff]")


def _admins(request):
    """Every ModelAdmin admin.site holds, and their inlines: (model, admin)."""
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline in model_admin.get_inline_instances(request):
            yield inline.model, inline


@pytest.fixture
def request_(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    return request


def test_every_field_of_every_admin_model_has_a_chinese_name(request_):
    english = []
    for model, _ in _admins(request_):
        for field in model._meta.get_fields():
            if field.auto_created and (not field.concrete or field.primary_key):
                continue  # Django's own id (shown as 系统编号) and the reverse relations
            if not CHINESE.search(str(field.verbose_name)):
                english.append(f"{model._meta.label}.{field.name}: {field.verbose_name!r}")
    assert not english, english


def _shown_labels(model, model_admin, request, obj):
    """(where, label) of every column, form field, read-only field and section title."""
    form = (
        model_admin.get_form(request, obj)
        if hasattr(model_admin, "get_form")
        else model_admin.get_formset(request, obj).form
    )
    names = list(getattr(model_admin, "get_list_display", lambda r: ())(request))
    names += list(model_admin.get_readonly_fields(request, obj))
    for title, options in model_admin.get_fieldsets(request, obj):
        if title:
            yield "section", title
        for name in options["fields"]:
            names += list(name) if isinstance(name, (list, tuple)) else [name]
    for name in dict.fromkeys(names):
        if name in form.base_fields:
            yield name, form.base_fields[name].label
        else:
            yield name, label_for_field(name, model, model_admin, form=form)


def _filter_titles(model, model_admin, request):
    for item in model_admin.get_list_filter(request):
        path = item[0] if isinstance(item, (list, tuple)) else item
        if isinstance(path, str):
            yield path, get_fields_from_path(model, path)[-1].verbose_name
        else:
            yield path.__name__, path.title


def test_every_label_the_admin_shows_is_chinese(request_):
    english = []
    with translation.override("zh-hans"):
        for model, model_admin in _admins(request_):
            labels = [
                *_shown_labels(model, model_admin, request_, None),
                *_shown_labels(model, model_admin, request_, model()),
            ]
            if hasattr(model_admin, "get_list_filter"):
                labels += _filter_titles(model, model_admin, request_)
                labels += [
                    (name, description % {"verbose_name_plural": model._meta.verbose_name_plural})
                    for name, (_, _, description) in model_admin.get_actions(request_).items()
                ]
            english += [
                f"{model._meta.label} {where}: {label!r}"
                for where, label in labels
                if not CHINESE.search(str(label))
            ]
    assert not english, sorted(set(english))


def test_the_admin_shows_django_own_primary_key_as_system_number(request_):
    from liuhen.cases.models import Case

    model_admin = admin.site._registry[Case]
    assert "system_number" in model_admin.get_readonly_fields(request_)
    assert label_for_field("system_number", Case, model_admin) == "系统编号"


def test_login_attempts_read_in_chinese(settings):
    from axes.models import AccessAttempt

    model_admin = admin.site._registry[AccessAttempt]
    left = AccessAttempt(failures_since_start=settings.AXES_FAILURE_LIMIT - 2)
    assert model_admin.status(left) == "还可尝试 2 次"
    assert model_admin.status(AccessAttempt(failures_since_start=settings.AXES_FAILURE_LIMIT)) == (
        "已锁定"
    )


def test_every_field_of_every_liuhen_model_has_a_chinese_name():
    """Beyond the admin: a field's name also reaches people in form errors ("具有该 … 的 …
    已存在") and the pages built from the models, so no Liuhen model keeps an English one."""
    from django.apps import apps

    english = [
        f"{model._meta.label}.{field.name}: {field.verbose_name!r}"
        for model in apps.get_models()
        if model.__module__.startswith("liuhen.")
        for field in model._meta.get_fields()
        if not (field.auto_created and (not field.concrete or field.primary_key))
        and not CHINESE.search(str(field.verbose_name))
    ]
    assert not english, english
