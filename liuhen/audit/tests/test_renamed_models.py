"""Models that changed app (issue 15) keep their audit trail: entries written under the old name
("cases.document") are found by the new one ("records.document") and the other way round, by
the audit log's filter (page, CSV, API) and by an object's own history. No entry is rewritten."""

from __future__ import annotations

import pytest
from django.db import transaction

from liuhen.audit.models import AuditEntry
from liuhen.audit.queries import (
    RENAMED_OBJECT_TYPES,
    AuditFilter,
    entries_about,
    object_type_names,
    search_entries,
)
from liuhen.audit.services import record, verify
from liuhen.devices.models import Device


def test_every_renamed_model_exists_under_its_new_name():
    from django.apps import apps

    for old, new in RENAMED_OBJECT_TYPES.items():
        app_label, model = new.split(".")
        assert apps.get_model(app_label, model)._meta.db_table.startswith(old.split(".")[0])
        assert object_type_names(old) == object_type_names(new) == [new, old]


def test_a_name_that_never_moved_stays_alone():
    assert object_type_names("cases.case") == ["cases.case"]


@pytest.fixture
def device_history(people):
    device = Device.objects.create(number="DSJ-HIST", unit=people["officer_a"].unit)
    with transaction.atomic():
        old = record(actor=None, actor_name="before issue 15", action="device.registered",
                     target=("evidence.device", str(device.pk), str(device)))
        new = record(actor=None, actor_name="after issue 15", action="device.changed",
                     target=device)
    return device, old, new


def test_history_finds_entries_under_the_old_and_the_new_name(device_history):
    device, old, new = device_history
    assert new.object_type == "devices.device" and old.object_type == "evidence.device"
    assert set(entries_about(device).values_list("seq", flat=True)) == {old.seq, new.seq}
    for name in ("devices.device", "evidence.device"):
        found = search_entries(AuditFilter(object_type=name, object_id=str(device.pk)))
        assert set(found.values_list("seq", flat=True)) == {old.seq, new.seq}
    # Found, not rewritten: the old entry keeps its name and the chain still verifies.
    assert AuditEntry.objects.get(seq=old.seq).object_type == "evidence.device"
    assert verify().ok


def test_audit_page_filter_uses_the_mapping(device_history, client, people):
    device, old, new = device_history
    client.force_login(people["legal"].user)
    response = client.get("/audit/", {"object_type": "evidence.device",
                                      "object_id": str(device.pk)})
    assert response.status_code == 200
    seqs = {entry.seq for entry in response.context["page"]["rows"]}
    assert {old.seq, new.seq} <= seqs
