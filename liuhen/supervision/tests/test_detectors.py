"""Each detector of 第二十六条 (一)–(五): a case that triggers it and one that does not. The
thresholds come from data/detectors.toml, so the tests read them from there too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case
from liuhen.rules.models import CaseCompleteness
from liuhen.supervision import detectors
from liuhen.supervision.tests.factories import make_fixity, make_recording

pytestmark = pytest.mark.django_db


def run(detector_id):
    return detectors.DETECTORS[detector_id](detectors.rules()[detector_id], timezone.now())


def _case(people, bureau, stage, missing):
    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    Case.objects.filter(pk=case.pk).update(stage=stage)
    CaseCompleteness.objects.update_or_create(case=case, defaults={
        "missing_count": len(missing), "missing": missing, "ratio": 0.5 if missing else 1.0})
    return case


def test_missing_records_at_service_triggers(people, bureau):
    case = _case(people, bureau, "case_file", ["penalty.service_receipt"])
    [finding] = run("missing_records")
    assert finding.item == 1 and finding.subject_id == str(case.pk)
    assert finding.unit_id == bureau["team_a"].pk
    assert finding.evidence["missing"] == ["penalty.service_receipt"]


def test_missing_records_during_investigation_or_complete_does_not(people, bureau):
    _case(people, bureau, "investigation", ["penalty.site_record"])  # still being gathered
    _case(people, bureau, "archiving", [])
    assert run("missing_records") == []


def test_late_uploads_beyond_the_threshold_trigger(people, at_local):
    hours = detectors.rules()["late_uploads"]["hours_beyond_deadline"]
    late = make_recording(officer=people["officer_a"], captured=at_local(5, 9),
                          late_hours=hours + 1)
    [finding] = run("late_uploads")
    assert finding.officer_id == people["officer_a"].pk and finding.item == 1
    assert finding.evidence["recordings"] == [late.pk] and finding.evidence["count"] == 1


def test_late_uploads_within_the_threshold_do_not(people, at_local):
    hours = detectors.rules()["late_uploads"]["hours_beyond_deadline"]
    make_recording(officer=people["officer_a"], captured=at_local(5, 9), late_hours=hours - 1,
                   case=None)
    make_recording(officer=people["officer_a"], captured=at_local(5, 10))  # on time
    assert run("late_uploads") == []


def test_refused_modification_of_an_original_triggers(people):
    record_denied(actor=people["officer_a"].user, action="recording.modification_refused",
                  target=("evidence.recording", "42", "DSJ_42.mp4"),
                  reason="音像记录原件不可删除（第二十六条）")
    [finding] = run("modification_refused")
    assert finding.item == 2 and finding.officer_id == people["officer_a"].pk
    assert finding.subject_id == "42" and "不可删除" in finding.evidence["reason"]


def test_other_refusals_are_not_modification(people):
    record_denied(actor=people["officer_a"].user, action="recording.viewed",
                  target=("evidence.recording", "42", "x"), reason="无权")
    record(actor=people["officer_a"].user, action="recording.modification_refused",
           target=("evidence.recording", "43", "x"))  # not a refusal
    assert run("modification_refused") == []


@pytest.mark.parametrize(("detector_id", "outcome", "item"), [
    ("digest_mismatch", "mismatch", 2), ("fixity_lost", "missing", 4),
    ("fixity_lost", "error", 4),
])
def test_fixity_failures_trigger(people, at_local, detector_id, outcome, item):
    recording = make_recording(officer=people["officer_a"], captured=at_local(3, 9))
    make_fixity(recording, outcome)
    make_fixity(recording, outcome)  # the next pass finds it again: still one finding
    [finding] = run(detector_id)
    assert finding.item == item and finding.subject_id == str(recording.pk)
    assert finding.evidence["checks"] == 2 and finding.unit_id == recording.unit_id


@pytest.mark.parametrize("detector_id", ["digest_mismatch", "fixity_lost"])
def test_fixity_ok_does_not(people, at_local, detector_id):
    make_fixity(make_recording(officer=people["officer_a"], captured=at_local(3, 9)), "ok")
    assert run(detector_id) == []


def _denied_reads(user, n):
    for i in range(n):
        record_denied(actor=user, action="recording.viewed",
                      target=("evidence.recording", str(100 + i), "x"), reason="无权查看")


def test_repeated_refused_reads_trigger(people):
    need = detectors.rules()["access_refused"]["min_count"]
    _denied_reads(people["officer_b"].user, need)
    [finding] = run("access_refused")
    assert finding.item == 3 and finding.officer_id == people["officer_b"].pk
    assert finding.unit_id == people["officer_b"].unit_id
    assert finding.evidence["count"] == need and len(finding.evidence["audit_seqs"]) == need


def test_a_few_refused_reads_do_not(people):
    need = detectors.rules()["access_refused"]["min_count"]
    _denied_reads(people["officer_b"].user, need - 1)
    _denied_reads(people["officer_a"].user, need - 1)  # two people, below it each
    assert run("access_refused") == []


def _downloads(user, n):
    for i in range(n):
        record(actor=user, action="recording.downloaded",
               target=("evidence.recording", str(i), "x"))


def test_unusual_download_volume_triggers(people):
    most = detectors.rules()["download_volume"]["max_per_day"]
    _downloads(people["legal"].user, most + 1)
    [finding] = run("download_volume")
    assert finding.item == 3 and finding.evidence["count"] == most + 1


def test_ordinary_download_volume_does_not(people):
    most = detectors.rules()["download_volume"]["max_per_day"]
    _downloads(people["legal"].user, most)
    assert run("download_volume") == []


def test_unlinked_old_recordings_trigger(people, at_local):
    after = detectors.rules()["unlinked_recordings"]["after_days"]
    old = make_recording(officer=people["officer_a"], captured=at_local(after + 2, 10))
    [finding] = run("unlinked_recordings")
    assert finding.item == 5 and finding.evidence["recordings"] == [old.pk]


def test_recent_or_linked_recordings_do_not(people, bureau, at_local):
    after = detectors.rules()["unlinked_recordings"]["after_days"]
    make_recording(officer=people["officer_a"], captured=at_local(after - 2, 10))
    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    make_recording(officer=people["officer_a"], captured=at_local(after + 2, 10), case=case)
    assert run("unlinked_recordings") == []


def test_capture_outside_duty_hours_triggers(people, at_local):
    night = make_recording(officer=people["officer_a"], captured=at_local(1, 23, 30))
    [finding] = run("outside_duty")
    assert finding.item == 5 and finding.evidence["recordings"] == [night.pk]


def test_capture_within_duty_hours_does_not(people, bureau, at_local):
    make_recording(officer=people["officer_a"], captured=at_local(1, 10))
    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    # At night, but for a case: an enforcement action (第二十六条 (五) is about other use).
    make_recording(officer=people["officer_a"], captured=at_local(1, 23, 30), case=case)
    assert run("outside_duty") == []


def test_rules_are_data_with_articles():
    for rule_id, rule in detectors.rules().items():
        assert rule_id in detectors.DETECTORS
        assert rule["article"].startswith("第二十六条") and 1 <= rule["item"] <= 5
    assert set(detectors.DETECTORS) == set(detectors.rules())
    assert timedelta(days=detectors.rules()["unlinked_recordings"]["after_days"]) > timedelta(0)


def test_evidence_lists_the_first_recordings_of_each_group(people, at_local, monkeypatch):
    """A group's evidence is its first EVIDENCE_SAMPLE recordings by capture time, per officer
    and month (ranked in one statement for every group)."""
    monkeypatch.setattr(detectors, "EVIDENCE_SAMPLE", 3)
    mine = [make_recording(officer=people["officer_a"], captured=at_local(1, 22, m))
            for m in (50, 10, 40, 20, 30)]
    other = make_recording(officer=people["officer_b"], captured=at_local(1, 23, 5))
    found = {f.officer_id: f for f in run("outside_duty")}
    first = sorted(mine, key=lambda r: r.captured_start)[:3]
    assert found[people["officer_a"].pk].evidence["recordings"] == [r.pk for r in first]
    assert found[people["officer_a"].pk].evidence["count"] == 5
    assert found[people["officer_b"].pk].evidence["recordings"] == [other.pk]
