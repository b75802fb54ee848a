"""Audit pages (to be completed by the UI work)."""

from django.http import Http404


def audit_list(request):
    raise Http404


def audit_export(request):
    raise Http404
