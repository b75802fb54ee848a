"""Bad input found by the security test answers a clear 4xx JSON error, never a 500
(issue 16 item 12): ids past 64 bits in list filters, null for facts that cannot be empty."""

from __future__ import annotations

import pytest

from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case

pytestmark = pytest.mark.django_db

PAST_64_BITS = [str(2**63), str(2**64), "9" * 40]


@pytest.mark.parametrize("value", PAST_64_BITS)
@pytest.mark.parametrize(("path", "param"), [
    ("/api/officers", "unit"), ("/api/devices", "unit"), ("/api/recordings", "officer"),
])
def test_ids_past_64_bits_in_filters_are_4xx_json(people, api, path, param, value):
    """The three filters the security test found answering 500 (OverflowError)."""
    response = api(people["legal"]).get(path, **{param: value})
    assert 400 <= response.status_code < 500, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid_input" and body["message"]


@pytest.mark.parametrize("value", PAST_64_BITS)
@pytest.mark.parametrize(("path", "param"), [
    ("/api/cases", "unit"), ("/api/cases", "officer"), ("/api/recordings", "case"),
    ("/api/deadlines", "unit"), ("/api/rules/report", "unit"),
])
def test_other_id_filters_past_64_bits_match_nothing(people, api, path, param, value):
    """Filters that already treat an impossible id as matching nothing keep doing so."""
    response = api(people["legal"]).get(path, **{param: value})
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response.json()["code"] == "invalid_input"


@pytest.fixture
def case_a(people, bureau):
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]], summary="原摘要")


@pytest.mark.parametrize("field", ["summary", "is_random_inspection", "is_disputed",
                                   "is_major_incident", "hearing_requested", "cause"])
def test_patch_null_for_a_fact_that_cannot_be_empty_is_a_400(people, api, case_a, field):
    before = {f: getattr(case_a, f) for f in (field, "updated_at")}
    response = api(people["officer_a"]).patch(f"/api/cases/{case_a.pk}", {field: None})
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid_input" and body["detail"] == {"field": field}
    case = Case.objects.get(pk=case_a.pk)
    assert {f: getattr(case, f) for f in before} == before


def test_patch_null_clears_a_date_that_may_be_empty(people, api, case_a):
    response = api(people["officer_a"]).patch(f"/api/cases/{case_a.pk}",
                                              {"complaint_received_on": None})
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("content_type", [
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
])
@pytest.mark.parametrize("path", ["/api/cases", "/api/cases/{case}/documents"])
def test_a_multipart_body_without_a_boundary_is_a_400_and_logs_no_traceback(
        people, api, case_a, path, content_type, caplog):
    """A form upload whose Content-Type names no boundary (a hand-made client, a broken proxy)
    is the client's mistake: a JSON 400 with its code, and no "Internal Server Error"
    traceback in the server's log, which would page an operator for nothing."""
    client = api(people["legal"])
    with caplog.at_level("WARNING"):
        response = client.client.generic("POST", path.format(case=case_a.pk), b"--x\r\n\r\n",
                                         content_type=content_type, headers=client.headers)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "invalid_input"
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_a_page_form_without_a_boundary_gets_the_error_card(people, client, caplog):
    """The same on a page (a form post): the error card in Chinese, not Django's bare 400."""
    client.force_login(people["officer_a"].user)
    with caplog.at_level("WARNING"):
        response = client.generic("POST", "/cases/new/", b"--x\r\n\r\n",
                                  content_type="multipart/form-data")
    assert response.status_code == 400
    assert "multipart 表单缺少有效的 boundary" in response.content.decode()
    assert not [r for r in caplog.records if r.exc_info]
