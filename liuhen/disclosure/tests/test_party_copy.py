"""Party copies (第十七条第二款): registered with the identity check, approved by the leader in
charge (never the registrar), made as a watermarked derived file with its own digests, handed
over; the original is untouched; every step and every refusal audited."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import av
import pytest

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liuhen.core.testing import TEST_NOW
from liuhen.disclosure import events, services
from liuhen.disclosure.models import PartyCopy
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.tests import mediafactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def vault(vault):
    """Every test its own evidence and upload folders (the root conftest's ``vault``)."""
    return vault


def _store(people, path):
    return ingest_recording(source_path=path, original_name=path.name,
                            actor=people["officer_a"].user, channel="web").recording


@pytest.fixture
def video(people, tmp_path):
    path = mediafactory.make_h264_mp4(tmp_path / "DSJ_现场.mp4", seconds=1,
                                      creation_time=TEST_NOW - timedelta(hours=2))
    return _store(people, path)


def _register(people, recording, **kwargs):
    return services.register_party_copy(
        actor=people["officer_a"].user, recording=recording, recipient_name="某某建筑公司",
        recipient_number="91130100MA0000000X", identity_check="business_licence",
        reason="申请行政复议需要", **kwargs)


def _sha256(storage, key) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_register_approve_make_and_hand_over_a_watermarked_copy(people, video, vault):
    copy = _register(people, video)
    assert copy.number.startswith("复制〔") and copy.status == "registered"
    assert copy.recipient_number != "91130100MA0000000X"  # kept masked

    with pytest.raises(Forbidden):  # 第十七条第二款: the leader in charge, not a unit head
        services.approve_party_copy(approver=people["head_a"].user, copy_id=copy.pk)
    denied = AuditEntry.objects.get(action=events.event_copy_approved, outcome="denied")
    assert denied.actor_id == people["head_a"].user.pk
    with pytest.raises(Conflict):  # nothing is made before approval
        services.make_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)

    services.approve_party_copy(approver=people["leader"].user, copy_id=copy.pk, note="同意")
    made = services.make_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)
    assert made.status == "made" and made.copy_sha256 != video.sha256
    assert _sha256(vault, made.copy_key) == made.copy_sha256  # what is stored is what is recorded
    assert _sha256(vault, video.storage_key) == video.sha256  # the original is untouched
    assert made.copy_description["source"]["sha256"] == video.sha256
    # Burnt in: who received it, when, under which register number.
    described = json.dumps(made.copy_description, ensure_ascii=False)
    assert made.number in described and "某某建筑公司" in described
    with vault.open(made.copy_key) as fh, av.open(fh) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    entry = AuditEntry.objects.get(action=events.event_copy_made)
    assert entry.detail["sha256"] == made.copy_sha256 and entry.detail["sm3"] == made.copy_sm3

    handed = services.hand_over_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)
    assert handed.status == "handed_over" and handed.handed_over_at is not None


def test_the_registrar_may_not_approve_and_a_refusal_needs_a_reason(people, video):
    """第十七条第二款: the leader in charge decides; registering, making and handing over are the
    registrar's side (disclosure.register for the recording's unit), which the leader is not."""
    leader = people["leader"].user
    with pytest.raises(NotFound):
        services.register_party_copy(actor=leader, recording=video, recipient_name="张某",
                                     identity_check="id_card", reason="本人被拍摄")
    assert AuditEntry.objects.filter(action=events.event_copy_registered, outcome="denied",
                                     actor_id=leader.pk).exists()
    copy = _register(people, video)
    # Were a leader ever the registrar (a row of before this rule), he still may not approve it.
    PartyCopy.objects.filter(pk=copy.pk).update(registered_by=leader)
    with pytest.raises(Forbidden):
        services.approve_party_copy(approver=leader, copy_id=copy.pk)
    PartyCopy.objects.filter(pk=copy.pk).update(registered_by=people["officer_a"].user)
    services.approve_party_copy(approver=leader, copy_id=copy.pk)
    for step, event in ((services.make_party_copy, events.event_copy_made),
                        (services.hand_over_party_copy, events.event_copy_handed_over)):
        with pytest.raises(NotFound):  # approving is not making or handing over
            step(actor=leader, copy_id=copy.pk)
        assert AuditEntry.objects.filter(action=event, outcome="denied",
                                         actor_id=leader.pk).exists()
    other = _register(people, video)
    with pytest.raises(InvalidInput):
        services.refuse_party_copy(approver=people["leader"].user, copy_id=other.pk, reason="")
    refused = services.refuse_party_copy(approver=people["leader"].user, copy_id=other.pk,
                                         reason="涉及他人隐私（第十七条第四款）")
    assert refused.status == "refused"
    with pytest.raises(Conflict):
        services.make_party_copy(actor=people["officer_a"].user, copy_id=other.pk)


def test_out_of_scope_and_bad_input_are_refused(people, video):
    with pytest.raises(NotFound):
        _register({"officer_a": people["officer_b"]}, video)
    assert AuditEntry.objects.filter(action=events.event_copy_registered, outcome="denied",
                                     actor_id=people["officer_b"].user.pk).exists()
    with pytest.raises(InvalidInput):
        services.register_party_copy(actor=people["officer_a"].user, recording=video,
                                     recipient_name="张某", identity_check="guess", reason="x")


def test_a_photo_copy_is_a_watermarked_photo(people, tmp_path, vault):
    path = mediafactory.make_jpeg_with_exif(tmp_path / "IMG_1.jpg",
                                            taken_at=TEST_NOW - timedelta(hours=1))
    photo = _store(people, path)
    copy = _register(people, photo)
    services.approve_party_copy(approver=people["leader"].user, copy_id=copy.pk)
    made = services.make_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)
    assert made.copy_key.endswith(".jpg") and made.copy_sha256 != photo.sha256
    assert _sha256(vault, made.copy_key) == made.copy_sha256
