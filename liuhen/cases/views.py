"""Pages for cases (to be completed by the UI work)."""

from django.http import Http404


def case_list(request):
    raise Http404


def case_create(request):
    raise Http404


def case_detail(request, pk):
    raise Http404


def case_move(request, pk):
    raise Http404
