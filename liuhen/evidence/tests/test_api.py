"""The vault's JSON API: every protected endpoint in pairs (refused + audited, allowed +
audited), 第十八条 classification, 第二十六条 (三) reads leave a trace."""

from __future__ import annotations

import pytest

from liuhen.audit.models import AuditEntry
from liuhen.devices.models import Device
from liuhen.evidence.models import Mark


def _entries(action, outcome=None):
    qs = AuditEntry.objects.filter(action=action)
    return qs.filter(outcome=outcome) if outcome else qs


@pytest.fixture
def rec(stored_recording):
    return stored_recording()


def test_show_recording_pair(api, people, rec):
    response = api(people["officer_b"]).get(f"/api/recordings/{rec.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "sha256" not in response.content.decode()
    assert _entries("recording.viewed", "denied").count() == 1

    response = api(people["officer_a"]).get(f"/api/recordings/{rec.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["sha256"], body["sm3"], body["size"]) == (rec.sha256, rec.sm3, rec.size)
    assert body["marks"] == [] and body["capture_time_source"] == "metadata"
    entry = _entries("recording.viewed", "succeeded").get()
    assert entry.actor_id == people["officer_a"].user.pk and entry.object_id == str(rec.pk)


def test_legal_office_sees_every_unit(api, people, rec):
    assert api(people["legal"]).get(f"/api/recordings/{rec.pk}").status_code == 200


def test_list_recordings(api, people, rec):
    body = api(people["officer_a"]).get("/api/recordings").json()
    assert [item["id"] for item in body["items"]] == [rec.pk]
    assert api(people["officer_b"]).get("/api/recordings").json()["items"] == []
    response = api(people["device_keeper"]).get("/api/recordings")
    assert response.status_code == 403
    assert _entries("recording.listed", "denied").exists()


def test_by_digest(api, people, rec):
    response = api(people["officer_a"]).get(f"/api/recordings/by-digest/{rec.sha256}")
    assert response.json() == {
        "sha256": rec.sha256,
        "stored": True,
        "id": rec.pk,
        "sm3": rec.sm3,
        "size": rec.size,
    }
    # Another unit learns only that the bytes are stored, not where or what.
    response = api(people["officer_b"]).get(f"/api/recordings/by-digest/{rec.sha256}")
    assert response.json() == {
        "sha256": rec.sha256,
        "stored": True,
        "id": None,
        "sm3": None,
        "size": None,
    }
    assert api(people["officer_a"]).get(f"/api/recordings/by-digest/{'0' * 64}").status_code == 404
    assert api(people["officer_a"]).get("/api/recordings/by-digest/xyz").status_code == 400
    response = api(people["device_keeper"]).get(f"/api/recordings/by-digest/{rec.sha256}")
    assert response.status_code == 404
    assert _entries("recording.digest_queried", "denied").count() == 1
    assert _entries("recording.digest_queried", "succeeded").count() == 3


def test_add_mark_pair(api, people, rec):
    url = f"/api/recordings/{rec.pk}/marks"
    data = {"offset_seconds": 0.5, "label": "credentials_shown", "note": "出示执法证"}
    response = api(people["officer_b"]).post(url, data)
    assert response.status_code == 404 and not Mark.objects.exists()
    assert _entries("recording.marked", "denied").exists()

    response = api(people["officer_a"]).post(url, data)
    assert response.status_code == 201, response.content
    assert response.json()["label_display"] == "表明身份出示证件"
    entry = _entries("recording.marked", "succeeded").get()
    assert entry.detail["label"] == "credentials_shown"
    marks = api(people["officer_a"]).get(f"/api/recordings/{rec.pk}").json()["marks"]
    assert [m["label"] for m in marks] == ["credentials_shown"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"offset_seconds": 0, "label": "dancing"}, "规定的项目"),
        ({"offset_seconds": -1, "label": "documents_read"}, "负数"),
        ({"offset_seconds": 999, "label": "documents_read"}, "时长"),
        ({"offset_seconds": 0, "label": "other"}, "说明"),
    ],
)
def test_bad_mark_is_a_clear_error(api, people, rec, data, message):
    response = api(people["officer_a"]).post(f"/api/recordings/{rec.pk}/marks", data)
    assert response.status_code == 400 and message in response.json()["message"]


def test_link_to_case_pair(api, people, bureau, stored_recording):
    from liuhen.cases.tests.factories import make_case, make_party

    rec = stored_recording(actor=people["keeper_a"], officer=people["officer_a"])
    actor = people["officer_a"].user
    party = make_party(actor=actor, unit=bureau["team_a"])
    case = make_case(
        actor=actor, unit=bureau["team_a"], officers=[people["officer_a"], people["officer_a2"]]
    )
    case.parties.add(party)
    url = f"/api/recordings/{rec.pk}/links"
    response = api(people["officer_b"]).post(url, {"case_id": case.pk})
    assert response.status_code == 404
    assert _entries("recording.linked", "denied").exists()

    response = api(people["officer_a"]).post(url, {"case_id": case.pk, "party_id": party.pk})
    assert response.status_code == 200, response.content
    rec.refresh_from_db()
    assert (rec.case, rec.party, rec.unit) == (case, party, case.unit)
    entry = _entries("recording.linked", "succeeded").get()
    assert entry.detail["changes"]["case"] == [None, case.pk]

    other = make_case(
        actor=actor, unit=bureau["team_a"], officers=[people["officer_a"], people["officer_a2"]]
    )
    response = api(people["officer_a"]).post(url, {"case_id": other.pk})
    assert response.status_code == 400 and "当事人不属于" in response.json()["message"]
    other.parties.add(party)
    response = api(people["officer_a"]).post(url, {"case_id": other.pk})
    assert response.status_code == 409 and "理由" in response.json()["message"]
    response = api(people["officer_a"]).post(url, {"case_id": other.pk, "reason": "错关联更正"})
    assert response.status_code == 200


def test_link_to_invisible_case_is_refused(api, people, bureau, rec):
    from liuhen.cases.tests.factories import make_case

    case_b = make_case(
        actor=people["officer_b"].user,
        unit=bureau["team_b"],
        officers=[people["officer_b"], people["officer_b2"]],
    )
    response = api(people["officer_a"]).post(
        f"/api/recordings/{rec.pk}/links", {"case_id": case_b.pk}
    )
    assert response.status_code == 404
    rec.refresh_from_db()
    assert rec.case is None


def test_submissions(api, people, rec, stored_recording):
    from liuhen.evidence.services import ingest_recording
    from liuhen.evidence.storage import get_storage

    with get_storage().open(rec.storage_key) as fh, open("/dev/null", "wb"):
        data = fh.read()
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".mp4") as copy:
        copy.write(data)
        copy.flush()
        ingest_recording(
            source_path=copy.name,
            original_name="again.mp4",
            channel="station",
            actor=people["keeper_a"].user,
        )
    body = api(people["officer_a"]).get(f"/api/recordings/{rec.pk}/submissions").json()
    assert [(s["original_name"], s["was_duplicate"]) for s in body][1] == ("again.mp4", True)
    assert api(people["officer_b"]).get(f"/api/recordings/{rec.pk}/submissions").status_code == 404


def test_register_device_pair(api, people, bureau):
    data = {
        "number": "DSJ-A-001",
        "kind": "body_camera",
        "unit_id": bureau["team_a"].pk,
        "officer_id": people["officer_a"].pk,
    }
    response = api(people["officer_a"]).post("/api/devices", data)
    assert response.status_code == 403 and not Device.objects.exists()
    assert _entries("device.registered", "denied").exists()

    response = api(people["device_keeper"]).post("/api/devices", data)
    assert response.status_code == 201, response.content
    assert response.json()["kind_label"] == "执法记录仪"
    assert _entries("device.registered", "succeeded").get().detail["number"] == "DSJ-A-001"
    response = api(people["device_keeper"]).post("/api/devices", data)
    assert response.status_code == 409 and "已登记" in response.json()["message"]
    response = api(people["device_keeper"]).post(
        "/api/devices", {**data, "number": "X", "unit_id": bureau["levy"].pk}
    )
    assert response.status_code == 403  # the levy section is outside the detachment's tree


def test_show_and_list_devices(api, people, bureau, make_device):
    dev_a = make_device(bureau["team_a"])
    dev_b = make_device(bureau["team_b"])
    response = api(people["officer_a"]).get(f"/api/devices/{dev_b.pk}")
    assert response.status_code == 404
    assert _entries("device.viewed", "denied").exists()
    response = api(people["officer_a"]).get(f"/api/devices/{dev_a.pk}")
    assert response.status_code == 200 and response.json()["number"] == dev_a.number
    assert _entries("device.viewed", "succeeded").exists()
    numbers = [d["number"] for d in api(people["officer_a"]).get("/api/devices").json()]
    assert numbers == [dev_a.number]


def test_fixity_list_pair(api, people, rec):
    from liuhen.evidence.fixity import verify_recordings

    verify_recordings(scope="all")
    response = api(people["officer_a"]).get("/api/fixity-checks")
    assert response.status_code == 403
    response = api(people["legal"]).get("/api/fixity-checks")
    assert response.status_code == 200
    assert [c["outcome"] for c in response.json()] == ["ok"]
    assert _entries("fixity.listed", "succeeded").exists()
