"""Models and choices of the vault: the regulation's items as mark labels, access follows
the owning unit (第十八条, 第六条, 第八条, 第二十条, 第五条)."""

from __future__ import annotations

from liuhen.evidence.choices import MarkLabel, RecordingFlag
from liuhen.evidence.models import Mark, Recording


def test_mark_labels_cover_the_regulation_items():
    assert len(MarkLabel.values) == 15
    for value, label in (
        ("credentials_shown", "表明身份出示证件"),
        ("recording_notice", "告知当事人正在录音录像"),
        ("service_public_notice", "公告送达"),
        ("inspection_conduct", "检查行为实施"),
    ):
        assert MarkLabel(value).label == label


def test_restrict_follows_the_unit(people, stored_recording):
    rec = stored_recording()
    Mark.objects.create(
        recording=rec,
        offset_seconds=0,
        label="other",
        note="x",
        created_by=people["officer_a"].user,
    )
    for who, visible in (
        ("officer_a", True),
        ("officer_a2", True),
        ("head_a", True),
        ("head_detachment", True),
        ("officer_b", False),
        ("legal", True),
        ("device_keeper", False),
    ):
        user = people[who].user
        assert Recording.objects.restrict(user, "recording.view").exists() is visible, who
        assert Mark.objects.restrict(user, "recording.view").exists() is visible, who


def test_str_and_flag_labels(stored_recording):
    rec = stored_recording("truncated")
    assert rec.sha256[:12] in str(rec)
    assert rec.flag_labels == [RecordingFlag.UNREADABLE.label, RecordingFlag.TIME_UNKNOWN.label]
