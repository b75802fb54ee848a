"""Long-term keeping (第十五条): four reasons, (四) with an explanation; facts suggest the
mark; a marked recording (or one of a marked case) is kept permanently and never listed for
disposal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.evidence import links
from liuhen.evidence.models import Mark
from liuhen.keeping import disposal, longterm, services
from liuhen.keeping.choices import LongTermReason
from liuhen.keeping.tests.conftest import reached_file_stage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("facts", "expected"), [
    ({"source": "complaint"}, ["objection"]),
    ({"source": "patrol", "is_disputed": True}, ["objection"]),
    ({"source": "patrol", "is_major_incident": True}, ["incident"]),
    ({"source": "patrol", "hearing_requested": True}, ["objection"]),
    ({"source": "patrol"}, []),
])
def test_case_facts_suggest_a_reason(people, new_case, facts, expected):
    facts = dict(facts)
    case = new_case("penalty", source=facts.pop("source"))
    if facts:
        case = case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                               **facts)
    assert [s.reason for s in longterm.case_suggestions(case)] == expected


def test_a_refused_signature_on_a_recording_suggests_obstruction(people, stored_recording):
    rec = stored_recording()
    assert longterm.recording_suggestions(rec) == []
    Mark.objects.create(recording=rec, offset_seconds=0.5, label="signature_refused",
                        created_by=people["officer_a"].user)
    assert [s.reason for s in longterm.recording_suggestions(rec)] == ["obstruction"]


def test_marking_keeps_recordings_permanently_and_out_of_disposal(
        people, new_case, stored_recording, frozen_clock):
    keeper = people["keeper_a"].user
    own, via_case, plain = (stored_recording() for _ in range(3))
    case = new_case("inspection", source="patrol")
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                    closed_on=timezone.localdate())
    links.add_case_link(actor=people["officer_a"].user, recording=via_case, case=case,
                        reason="检查录像")
    longterm.mark(actor=keeper, reason=LongTermReason.OBSTRUCTION, recording=own,
                  note="当事人阻挠检查")
    longterm.mark(actor=keeper, reason=LongTermReason.INCIDENT, case=case)
    for rec in (own, via_case):
        got = services.recording_retention(rec)
        assert got.permanent and got.winner.row_id == "recording.long_term"
        assert "第十五条" in got.winner.source
    assert not services.recording_retention(plain).permanent
    frozen_clock.shift(timedelta(days=200))
    found = {c.recording.pk for c in disposal.candidates(user=keeper)}
    assert plain.pk in found and not found & {own.pk, via_case.pk}
    assert AuditEntry.objects.filter(action="longterm.marked").count() == 2


def test_refusals(people, stored_recording):
    rec = stored_recording()
    with pytest.raises(InvalidInput, match="第十五条第四项"):
        longterm.mark(actor=people["keeper_a"].user, reason="other", recording=rec)
    with pytest.raises(InvalidInput):
        longterm.mark(actor=people["keeper_a"].user, reason="whim", recording=rec)
    with pytest.raises(Forbidden):
        longterm.mark(actor=people["officer_a"].user, reason="objection", recording=rec)
    assert AuditEntry.objects.filter(action="longterm.refused", outcome="denied").exists()
    # Who may mark is asked before the form is read: a refused attempt with a malformed form
    # is refused as such and audited too (第二十六条); it was an unaudited 400 before.
    with pytest.raises(Forbidden):
        longterm.mark(actor=people["officer_a"].user, reason="whim", recording=rec)
    assert AuditEntry.objects.filter(action="longterm.refused", outcome="denied").count() == 2


def test_pages_show_suggestions_and_mark(client, people, new_case, stored_recording):
    case = new_case("penalty", source="complaint")
    rec = stored_recording()
    links.add_case_link(actor=people["officer_a"].user, recording=rec, case=case, reason="证据")
    client.force_login(people["keeper_a"].user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="long-term-suggestions"' in page and "（一）当事人" in page
    client.post(f"/keeping/cases/{case.pk}/long-term/", {"reason": "objection",
                                                          "note": "当事人投诉"})
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert "已标记长期保存" in page and "永久" in page
    response = client.post(f"/keeping/recordings/{rec.pk}/long-term/", {"reason": "other"})
    assert response.status_code == 302 and rec.long_term_marks.count() == 0
