"""The evidence admin is scoped and audited like the vault's pages (第二十六条 (二), (三)).

A staff user sees in /admin/ only the recordings, marks and fixity checks of the units their
role may see (``restrict(user, action)``, deny by default); opening one writes an audit entry;
nothing can be added, changed or deleted there, superusers included.
"""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import logged_in
from liuhen.audit.models import AuditEntry
from liuhen.evidence.choices import FixityOutcome, MarkLabel
from liuhen.evidence.models import FixityCheck, Mark

RECORDINGS = "/admin/evidence/recording/"
MARKS = "/admin/evidence/mark/"
CHECKS = "/admin/evidence/fixitycheck/"


def staff_client(officer) -> Client:
    user = officer.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def reads(action, user):
    return AuditEntry.objects.filter(action=action, actor_id=user.pk)


@pytest.fixture
def vault_rows(people, bureau, stored_recording):
    """A recording with a mark and a fixity check in team A and in team B, and an orphan."""
    rows = {}
    for team, officer in (("a", people["officer_a"]), ("b", people["officer_b"])):
        rec = stored_recording(actor=officer)
        assert rec.unit == bureau[f"team_{team}"]
        rows[f"rec_{team}"] = rec
        rows[f"mark_{team}"] = Mark.objects.create(
            recording=rec,
            offset_seconds=1.5,
            label=MarkLabel.CREDENTIALS_SHOWN,
            note=f"出示证件 {team}",
            created_by=officer.user,
        )
        rows[f"check_{team}"] = FixityCheck.objects.create(
            recording=rec,
            storage_key=rec.storage_key,
            outcome=FixityOutcome.OK,
            expected_sha256=rec.sha256,
            found_sha256=rec.sha256,
            tool_version="test",
        )
    rows["orphan"] = FixityCheck.objects.create(
        recording=None,
        storage_key="orphans/unknown.mp4",
        outcome=FixityOutcome.MISSING,
        tool_version="test",
    )
    return rows


def test_unit_head_sees_only_recordings_of_the_units_below(people, vault_rows):
    client = staff_client(people["head_a"])
    page = client.get(RECORDINGS)
    assert page.status_code == 200
    html = page.content.decode()
    assert vault_rows["rec_a"].sha256 in html and vault_rows["rec_b"].sha256 not in html
    # Another team's recording answers like a missing one: no page, no data.
    other = client.get(f"{RECORDINGS}{vault_rows['rec_b'].pk}/change/")
    assert other.status_code == 302 and vault_rows["rec_b"].sha256 not in other.content.decode()
    assert not reads("recording.viewed", people["head_a"].user).filter(
        outcome="succeeded").exists()
    # ... and the attempt is audited as refused, as on the pages (get_for).
    denied = reads("recording.viewed", people["head_a"].user).get(outcome="denied")
    assert denied.object_id == str(vault_rows["rec_b"].pk) and denied.detail == {"via": "admin"}


def test_opening_a_recording_in_the_admin_is_an_audited_read(people, vault_rows):
    client = staff_client(people["head_a"])
    rec = vault_rows["rec_a"]
    page = client.get(f"{RECORDINGS}{rec.pk}/change/")
    assert page.status_code == 200 and rec.sha256 in page.content.decode()
    # The submissions inline is shown to whoever may see the recording.
    assert rec.original_name in page.content.decode()
    entry = reads("recording.viewed", people["head_a"].user).get()
    assert (entry.object_type, entry.object_id) == ("evidence.recording", str(rec.pk))
    assert entry.detail == {"via": "admin"} and entry.outcome == "succeeded"


def test_bureau_wide_roles_see_every_unit_and_roles_without_recording_view_see_nothing(
    people, vault_rows, superuser_client
):
    html = staff_client(people["legal"]).get(RECORDINGS).content.decode()
    assert vault_rows["rec_a"].sha256 in html and vault_rows["rec_b"].sha256 in html
    # The device keeper manages devices; the system administrator manages accounts: neither
    # may see recordings (permission matrix), in the admin either.
    assert staff_client(people["device_keeper"]).get(RECORDINGS).status_code == 403
    assert superuser_client.get(RECORDINGS).status_code == 403
    rec = vault_rows["rec_a"]
    assert superuser_client.get(f"{RECORDINGS}{rec.pk}/change/").status_code == 403
    assert not AuditEntry.objects.filter(action="recording.viewed").exists()


def test_marks_follow_their_recording_and_opening_one_is_audited(people, vault_rows):
    client = staff_client(people["head_a"])
    html = client.get(MARKS).content.decode()
    assert f"{MARKS}{vault_rows['mark_a'].pk}/change/" in html
    assert f"{MARKS}{vault_rows['mark_b'].pk}/change/" not in html
    assert client.get(f"{MARKS}{vault_rows['mark_b'].pk}/change/").status_code == 302
    page = client.get(f"{MARKS}{vault_rows['mark_a'].pk}/change/")
    assert page.status_code == 200 and "出示证件 a" in page.content.decode()
    entry = reads("recording.mark_viewed", people["head_a"].user).get(outcome="succeeded")
    assert (entry.object_type, entry.object_id) == ("evidence.mark", str(vault_rows["mark_a"].pk))


def test_fixity_checks_scoped_like_the_fixity_page(people, vault_rows):
    head = staff_client(people["head_a"])
    html = head.get(CHECKS).content.decode()
    assert f"{CHECKS}{vault_rows['check_a'].pk}/change/" in html
    for other in ("check_b", "orphan"):
        assert f"{CHECKS}{vault_rows[other].pk}/change/" not in html
    assert head.get(f"{CHECKS}{vault_rows['check_b'].pk}/change/").status_code == 302
    assert head.get(f"{CHECKS}{vault_rows['check_a'].pk}/change/").status_code == 200
    entry = reads("fixity.viewed", people["head_a"].user).get(outcome="succeeded")
    assert reads("fixity.viewed", people["head_a"].user).get(outcome="denied").object_id == str(
        vault_rows["check_b"].pk)
    assert entry.object_id == str(vault_rows["check_a"].pk)
    # The legal office checks the whole bureau, orphans included; an officer has no
    # recording.fixity at all.
    html = staff_client(people["legal"]).get(CHECKS).content.decode()
    assert all(
        f"{CHECKS}{vault_rows[k].pk}/change/" in html for k in ("check_a", "check_b", "orphan")
    )
    assert staff_client(people["officer_a"]).get(CHECKS).status_code == 403


@pytest.mark.parametrize("path", [RECORDINGS, MARKS, CHECKS])
def test_nothing_is_added_changed_or_deleted_in_the_evidence_admin(people, vault_rows, path):
    """Originals are never modified (第二十六条 (二)), not even by a user who may see them."""
    client = staff_client(people["legal"])
    key = {RECORDINGS: "rec_a", MARKS: "mark_a", CHECKS: "check_a"}[path]
    obj = vault_rows[key]
    before = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    assert client.get(f"{path}add/").status_code == 403
    assert client.post(f"{path}add/", {"note": "x"}).status_code == 403
    assert (
        client.post(f"{path}{obj.pk}/change/", {"note": "改", "sha256": "0" * 64}).status_code
        == 403
    )
    assert client.post(f"{path}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(path, {"action": "delete_selected", "_selected_action": [obj.pk]})
    assert response.status_code in (200, 302)
    obj.refresh_from_db()
    assert {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields} == before
    assert not client.get(f"{path}{obj.pk}/change/").context["has_change_permission"]


@pytest.fixture
def superuser_client(superuser):
    return logged_in(superuser)


DEVICES = "/admin/devices/device/"


@pytest.fixture
def devices(bureau, make_device):
    return {name: make_device(bureau[name], number=f"DSJ-ADM-{name}")
            for name in ("team_a", "team_b", "levy")}


def test_device_keeper_manages_the_devices_of_the_units_below_only(people, devices):
    """第二十一条: the device keeper of the detachment registers and edits its teams' devices;
    the levy section's device is not theirs (404-like redirect, refusal audited)."""
    keeper = people["device_keeper"]
    client = staff_client(keeper)
    html = client.get(DEVICES).content.decode()
    assert "DSJ-ADM-team_a" in html and "DSJ-ADM-team_b" in html
    assert "DSJ-ADM-levy" not in html
    add = client.get(f"{DEVICES}add/").content.decode()
    assert "监察一大队" in add and "社会保险费征缴科" not in add  # units it may manage
    own = client.get(f"{DEVICES}{devices['team_a'].pk}/change/")
    assert own.status_code == 200 and 'name="_save"' in own.content.decode()
    assert reads("device.viewed", keeper.user).get(outcome="succeeded").object_id == str(
        devices["team_a"].pk)
    levy = client.get(f"{DEVICES}{devices['levy'].pk}/change/")
    assert levy.status_code == 302
    assert reads("device.viewed", keeper.user).get(outcome="denied").object_id == str(
        devices["levy"].pk)


def test_officer_sees_own_unit_devices_read_only(people, devices):
    client = staff_client(people["officer_a"])
    html = client.get(DEVICES).content.decode()
    assert "DSJ-ADM-team_a" in html and "DSJ-ADM-team_b" not in html
    assert client.get(f"{DEVICES}add/").status_code == 403
    page = client.get(f"{DEVICES}{devices['team_a'].pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = client.post(f"{DEVICES}{devices['team_a'].pk}/change/", {"status": "retired"})
    assert response.status_code == 403
    devices["team_a"].refresh_from_db()
    assert devices["team_a"].status == "in_service"
    assert client.post(f"{DEVICES}{devices['team_a'].pk}/delete/").status_code == 403
