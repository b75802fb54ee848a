"""The redaction plan reaches the party copy (第十七条第四款): a recording marked 个人隐私 with a
face crossing the picture and a tone on the audio; the plan "自动人脸" + "静音 …" makes a copy
whose face region is blurred in the frames and whose muted range is silent (RMS), while the
original in the vault is unchanged."""

from __future__ import annotations

import hashlib
import shutil

import av
import numpy as np
import pytest

from liuhen.disclosure import marks, services
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.storage import get_storage
from liuhen.redaction.tests.conftest import audio_samples, detail, rms
from liuhen.redaction.tests.media import face_box, make_face_video

pytestmark = pytest.mark.django_db


def _frames(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def test_plan_blurs_the_face_and_mutes_the_range(people, vault, tmp_path):
    source = make_face_video(tmp_path / "DSJ_人脸.mp4", seconds=2.0, fps=15)
    recording = ingest_recording(source_path=source, original_name=source.name,
                                 actor=people["officer_a"].user, channel="web").recording
    marks.set_mark(actor=people["head_a"].user, target=recording, level="privacy",
                   reason="画面中有案外人")
    officer = people["officer_a"].user
    copy = services.register_party_copy(actor=officer, recording=recording,
                                        recipient_name="王某", identity_check="id_card",
                                        reason="诉讼")
    services.set_redaction_plan(actor=officer, copy_id=copy.pk,
                                text="自动人脸\n静音 0.5 1.2 第三人姓名")
    services.approve_party_copy(approver=people["leader"].user, copy_id=copy.pk)
    made = services.make_party_copy(actor=officer, copy_id=copy.pk)

    storage = get_storage()
    out = tmp_path / "copy.mp4"
    with storage.open(made.copy_key) as fh, open(out, "wb") as dst:
        shutil.copyfileobj(fh, dst)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == made.copy_sha256
    with storage.open(recording.storage_key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == recording.sha256  # original untouched

    original, copied = _frames(source), _frames(out)
    assert len(copied) == len(original)
    height, width = original[0].shape
    ratios = [detail(c, face_box(i, len(original), width, height))
              / max(detail(o, face_box(i, len(original), width, height)), 1e-6)
              for i, (o, c) in enumerate(zip(original, copied, strict=True))]
    assert np.median(ratios) < 0.5, ratios  # the face lost its detail

    samples, rate = audio_samples(out)
    before, _ = audio_samples(source)
    assert rms(before, rate, 0.6, 1.1) > 0.1  # the tone was there
    assert rms(samples, rate, 0.6, 1.1) < 0.01  # and is silent in the copy
    assert rms(samples, rate, 1.4, 1.8) > 0.1  # outside the range it stays
