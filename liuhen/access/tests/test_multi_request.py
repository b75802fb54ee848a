"""Several records asked for at once (第十六条): ``?target=…&target=…`` makes one request per
record, each waiting for its own unit's head; one bad target refuses the whole submission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.access.models import AccessRequest
from liuhen.cases.tests.factories import make_case

pytestmark = pytest.mark.django_db


def test_one_form_two_cases_of_two_units(people, bureau):
    case_a = make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                       officers=[people["officer_a"], people["officer_a2"]])
    case_b = make_case(actor=people["officer_b"].user, unit=bureau["team_b"],
                       officers=[people["officer_b"], people["officer_b2"]])
    client = Client()
    client.force_login(people["head_detachment"].user)
    url = (f"/access/requests/new/?target=cases.case:{case_a.pk}"
           f"&target=cases.case:{case_b.pk}")
    form = client.get(url).content.decode()
    assert case_a.number in form and case_b.number in form and "共 2 件记录" in form
    today = timezone.localdate()
    data = {"actions": ["view"], "reason": "专项检查", "wanted_from": today,
            "wanted_until": today + timedelta(days=2)}
    done = client.post(url, data)
    assert done.status_code == 302
    made = AccessRequest.objects.order_by("target_id")
    assert [r.target_id for r in made] == sorted([str(case_a.pk), str(case_b.pk)])
    assert {r.unit_id for r in made} == {bureau["team_a"].pk, bureau["team_b"].pk}

    before = AccessRequest.objects.count()
    bad = client.post(f"{url}&target=cases.case:999999", data)
    assert bad.status_code == 404 and AccessRequest.objects.count() == before
