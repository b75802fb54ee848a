"""The 第二十六条 detectors run on their own: `liuhen scheduler` queues them like fixity, and
running them again (the next day, or the button and the job at once) lists nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.supervision import services
from liuhen.supervision.models import Violation, ViolationStep
from liuhen.supervision.tests.factories import make_recording
from liuhen.web import schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def state(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    return {}


def test_the_job_follows_its_setting(settings):
    settings.VIOLATION_DETECT_EVERY_HOURS = 6
    job = {job.name: job for job in schedule.jobs()}["violations"]
    assert job.every == timedelta(hours=6) and job.label == "第二十六条违规检测"
    settings.VIOLATION_DETECT_EVERY_HOURS = 0
    assert "violations" not in {job.name for job in schedule.jobs()}


def test_scheduler_runs_the_detectors_when_due_and_only_then(settings, state, people,
                                                             at_local):
    settings.VIOLATION_DETECT_EVERY_HOURS, settings.FIXITY_EVERY_HOURS = 24, 0  # no fixity alert
    night = make_recording(officer=people["officer_a"], captured=at_local(1, 23, 30))
    started = timezone.now()
    assert "violations" not in schedule.run_due(now=started, started=started)
    assert not Violation.objects.exists()
    later = started + schedule.FIRST_DELAY
    assert "violations" in schedule.run_due(now=later, started=started)
    [violation] = Violation.objects.all()
    assert violation.detector == "outside_duty" and violation.item == 5
    assert night.pk in violation.evidence["recordings"]
    # An hour on it is not due; a day on it runs again and lists the same finding once.
    assert "violations" not in schedule.run_due(now=later + timedelta(hours=1),
                                                started=started)
    assert "violations" in schedule.run_due(now=later + timedelta(hours=24),
                                            started=started)
    assert Violation.objects.count() == 1
    assert ViolationStep.objects.filter(violation=violation).count() == 1
    runs = AuditEntry.objects.filter(action="violation.detected").order_by("seq")
    assert [e.detail["created"] for e in runs] == [1, 0]
    assert runs.first().actor_name == "system"


def test_a_run_racing_another_lists_each_finding_once(people, at_local, monkeypatch):
    """A second run that read the violations before the first one stored them tries to insert
    the same fingerprints: they are skipped, and no second step is written."""
    make_recording(officer=people["officer_a"], captured=at_local(1, 23, 30))
    services.detect_violations()
    real_filter = Violation.objects.filter

    def stale(*args, **kwargs):  # what the racing run saw: nothing yet
        if "fingerprint__in" in kwargs and "steps__isnull" not in kwargs:
            return Violation.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Violation.objects, "filter", stale)
    summary = services.detect_violations()
    monkeypatch.undo()
    assert summary["created"] == 0
    assert Violation.objects.count() == 1 and ViolationStep.objects.count() == 1
