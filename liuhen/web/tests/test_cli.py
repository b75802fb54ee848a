"""The `liuhen` console command: demo data with the shape issue 2 describes, and bad
arguments answered with a clear message and exit status, never a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from liuhen.access.choices import Role
from liuhen.audit.services import verify
from liuhen.cases import stages
from liuhen.cases.choices import CaseKind, PartyKind, Stage
from liuhen.cases.models import Case, Party
from liuhen.cases.validators import id_card_error, uscc_error
from liuhen.org.models import Officer, Unit

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo_built(django_db_setup, django_db_blocker):
    """`liuhen demo` once for the module (it takes a while), rolled back afterwards."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_built, db):
    return demo_built


def test_demo_builds_the_bureau(demo):
    names = set(Unit.objects.values_list("name", flat=True))
    assert {
        "劳动保障监察支队",
        "监察一大队",
        "监察二大队",
        "监察三大队",
        "社会保险费征缴科",
        "财务结算中心",
        "政策法规处",
    } <= names
    detachment = Unit.objects.get(name="劳动保障监察支队")
    assert detachment.children.count() == 3
    officers = Officer.objects.all()
    assert 18 <= officers.count() <= 26
    roles = Counter(officers.values_list("role", flat=True))
    assert set(roles) == set(Role.values)
    expired = [
        o for o in officers if o.qualification_problem() and "过期" in o.qualification_problem()
    ]
    assert len(expired) == 2
    assert officers.filter(is_formal_staff=False).count() == 1
    assert "demo" not in demo.lower() or "演示账号" in demo
    assert "演示账号" in demo and "liuhen-demo-2026" in demo


def test_demo_has_devices_recordings_and_supervision(demo):
    """Issue 12: a newcomer's devices, recordings, spot check, violations, training and
    circular pages are populated (第十八、二十一至二十六条)."""
    from django.utils import timezone

    from liuhen.devices.models import Device
    from liuhen.evidence.models import Recording
    from liuhen.supervision.models import Circular, ReviewFinding, Violation
    from liuhen.supervision.training import standings

    devices = Device.objects.all()
    assert devices.filter(officer__isnull=False).count() >= 3
    assert devices.filter(status="faulty").count() == 1
    recordings = Recording.objects.filter(device__isnull=False)
    assert recordings.count() >= 4 and recordings.filter(case__isnull=False).exists()
    assert any("device_faulty" in r.flags for r in recordings)
    held = recordings.exclude(device__status="faulty").first()
    assert "device_unassigned" not in held.flags  # made by the device's holder
    video = recordings.filter(kind="video", video_codec="h264").first()
    # Real media, read by PyAV at ingest (the file itself lives in that test's storage folder).
    assert video.readable and video.width == 320
    hevc = recordings.get(video_codec="hevc")
    assert hevc.readable and hevc.width == 320
    corrupt = recordings.get(readable=False)  # cut short: stored, and flagged for a keeper
    assert "unreadable" in corrupt.flags and corrupt.is_flagged and corrupt.size > 0
    # The spare's whole life, each step audited (第二十一、二十二条).
    spare = Device.objects.get(number="DSJ-2026-0005")
    assert spare.status == "in_service"
    assert list(spare.transitions.order_by("at", "id").values_list("to_status", flat=True)) == [
        "registered", "in_service", "faulty", "under_repair", "in_service"]
    fault = spare.faults.get()
    assert fault.repairer == "孙建国" and fault.repaired_at is not None
    # Access across teams (第十六条): one request waits for team 1's head, one became a grant.
    from liuhen.access.grants import pending_for
    from liuhen.access.models import Grant

    head1 = Officer.objects.get(user__username="head1").user
    assert [r.requester.username for r in pending_for(head1)] == ["liu"]
    assert Grant.objects.filter(request__status="approved", user__username="chen",
                                granted_by=head1).exists()
    assert ReviewFinding.objects.filter(offset_seconds__isnull=False).count() >= 2
    assert Violation.objects.filter(status="measure_taken").exists()
    assert Violation.objects.filter(detector="outside_duty").exists()
    assert Circular.objects.filter(status="published").exclude(pdf=None).exists()
    legal = Officer.objects.get(user__username="legal1").user
    year = standings(legal, timezone.localdate().year)
    assert any(s.short for s in year) and any(not s.short for s in year)


def test_demo_cases_cover_kinds_stages_and_parties(demo):
    cases = Case.objects.all()
    assert 50 <= cases.count() <= 70
    kinds = Counter(cases.values_list("kind", flat=True))
    assert set(kinds) == set(CaseKind.values)
    for kind in CaseKind.values:
        reached = set(cases.filter(kind=kind).values_list("stage", flat=True))
        before_file = {
            s
            for s in stages.path(kind)
            if s not in (Stage.CASE_FILE, Stage.ARCHIVING, Stage.HEARING)
        }
        assert before_file <= reached, (kind, before_file - reached)
        assert reached & {Stage.CASE_FILE, Stage.ARCHIVING}, kind
    # Every stage of the machine is shown somewhere, a hearing and archived cases included.
    everywhere = set(cases.values_list("stage", flat=True))
    assert everywhere == set(Stage.values) - {Stage.PATROL}, everywhere
    assert not cases.filter(parties=None).exists()
    for case in cases.prefetch_related("officers"):
        assert all(o.is_qualified for o in case.officers.all())
        if case.kind in (CaseKind.PENALTY, CaseKind.COERCION):
            assert case.officers.count() >= 2
    assert len(set(cases.values_list("number", flat=True))) == cases.count()
    for party in Party.objects.all():
        check = id_card_error if party.kind == PartyKind.PERSON else uscc_error
        assert check(party.id_number) is None
    assert verify().ok


@pytest.mark.django_db
def test_demo_accounts_log_in_without_totp_even_where_their_role_needs_it(demo, settings):
    """Issue 16 item 6: TOTP is required of the admin and bureau-wide roles by default, yet a
    newcomer following the README gets into the demo at once: its accounts are exempt."""
    from django.test import Client
    from django.urls import reverse

    settings.OTP_REQUIRED_ROLES = ["admin", "bureau_leader", "legal_office"]
    for username in ("admin", "leader1", "legal1"):
        client = Client()
        response = client.post(reverse("login"), {"username": username,
                                                  "password": "liuhen-demo-2026"})
        assert response.status_code == 302, username
        assert client.get(reverse("dashboard")).status_code == 200, username


def test_demo_twice_refuses_clearly(demo):
    with pytest.raises(CommandError) as err:
        call_command("demo", stdout=io.StringIO())
    assert err.value.returncode == 1 and "--if-empty" in str(err.value)
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue()
    assert Case.objects.count() < 80


def _run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_TEST")}
    env.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings_test")
    return subprocess.run(
        [sys.executable, "-m", "liuhen", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_command_bad_arguments():
    """Usage errors exit 2 with argparse's message, not a traceback."""
    result = _run("audit", "delete")
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "invalid choice" in result.stderr
    for args in ([], ["verify", "--bogus"]):
        with pytest.raises(CommandError):
            call_command("audit", *args)


def test_demo_bad_arguments():
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("demo", "--seed", "abc")
