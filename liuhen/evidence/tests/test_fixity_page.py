"""原件校验 page: a damaged or missing original is shown to the records keeper until a later
check passes; scoped like every read (第二十六条 (二); 第二十三条 supervision)."""

from __future__ import annotations

import pytest

from conftest import logged_in as _client
from liuhen.audit.models import AuditEntry
from liuhen.evidence import events
from liuhen.evidence.fixity import verify_recordings
from liuhen.evidence.tests.test_fixity import _flip_byte


@pytest.fixture
def damaged(people, stored_recording, vault):
    good = stored_recording()
    bad = stored_recording()
    other_unit = stored_recording(actor=people["officer_b"])
    original_byte = _flip_byte(vault.path(bad.storage_key))
    _flip_byte(vault.path(other_unit.storage_key))
    verify_recordings(scope="all")
    return good, bad, other_unit, original_byte


def _open_problems(html: str) -> str:
    return html.split('id="open-problems"', 1)[1].split("</section>", 1)[0]


def test_keeper_sees_the_damaged_original_of_own_unit_only(people, damaged):
    good, bad, other_unit, _ = damaged
    response = _client(people["keeper_a"]).get("/recordings/fixity/")
    assert response.status_code == 200
    html = response.content.decode()
    problems = _open_problems(html)
    assert f"/recordings/{bad.pk}/" in problems and "不一致" in problems
    assert f"/recordings/{good.pk}/" not in problems
    assert f"/recordings/{other_unit.pk}/" not in html  # team B: not this keeper's
    assert bad.sm3 in html  # expected digest beside the one found
    assert AuditEntry.objects.filter(action=events.event_fixity_listed,
                                     actor_id=people["keeper_a"].user.pk).exists()
    assert "原件校验" in _client(people["keeper_a"]).get("/").content.decode()  # in the menu


def test_legal_office_sees_every_unit_and_a_restored_original_leaves_the_list(
    people, damaged, vault
):
    good, bad, other_unit, original_byte = damaged
    legal = _client(people["legal"])
    problems = _open_problems(legal.get("/recordings/fixity/").content.decode())
    assert f"/recordings/{bad.pk}/" in problems and f"/recordings/{other_unit.pk}/" in problems
    # The administrator restores the file from a backup; the next check passes.
    with open(vault.path(bad.storage_key), "r+b") as fh:
        fh.seek(100)
        fh.write(original_byte)
    verify_recordings(scope="all")
    html = legal.get("/recordings/fixity/").content.decode()
    problems = _open_problems(html)
    assert f"/recordings/{bad.pk}/" not in problems and f"/recordings/{other_unit.pk}/" in problems
    # The history still shows the failed check of the restored file.
    assert f"/recordings/{bad.pk}/" in html.split('id="open-problems"', 1)[1]
    everything = legal.get("/recordings/fixity/?show=all").content.decode()
    assert f"/recordings/{good.pk}/" in everything


def test_officer_is_refused_and_the_refusal_audited(people, damaged):
    response = _client(people["officer_a"]).get("/recordings/fixity/")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=events.event_fixity_listed, outcome="denied",
                                     actor_id=people["officer_a"].user.pk).exists()
    assert "原件校验" not in _client(people["officer_a"]).get("/").content.decode()
