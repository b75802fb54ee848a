"""The redaction plan: what an officer edits, an approver sees and the record quotes."""

from __future__ import annotations

import json

import pytest

from liuhen.redaction import FaceAnalysis, FaceTrack, MuteRange, PlanError, RedactionPlan


def _analysis() -> FaceAnalysis:
    track = FaceTrack("F1", [(0.0, (10, 10, 40, 40)), (1.0, (110, 10, 40, 40))])
    return FaceAnalysis(tracks=[track], every=5, hold=0.25, width=320, height=240)


def test_a_plan_survives_json_unchanged():
    plan = RedactionPlan(faces=_analysis(), mutes=[MuteRange(1, 2, reason="电话号码")])
    plan.add_manual(start=0, end=1.5, x=5, y=6, w=30, h=20, note="工牌")
    plan.suppress("F1", start=0.2, end=0.4, reason="执法人员本人")
    data = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    again = RedactionPlan.from_dict(data)
    assert again.to_dict() == plan.to_dict()
    for t in (0.0, 0.3, 0.5, 1.2, 1.4):
        assert again.boxes_at(t, 320, 240) == plan.boxes_at(t, 320, 240)


def test_boxes_are_interpolated_between_samples_and_held_past_the_ends():
    plan = RedactionPlan(faces=_analysis(), margin=0)
    assert plan.boxes_at(0.5, 320, 240) == [(60, 10, 40, 40)]
    assert plan.boxes_at(1.2, 320, 240) == [(110, 10, 40, 40)]  # held 0.25 s past the end
    assert plan.boxes_at(1.3, 320, 240) == []
    grown = RedactionPlan(faces=_analysis(), margin=0.25)
    assert grown.boxes_at(0.0, 320, 240) == [(0, 0, 60, 60)]  # grown, clipped at the edge


def test_suppression_and_manual_boxes_apply_in_their_ranges_only():
    plan = RedactionPlan(faces=_analysis(), margin=0)
    plan.suppress("F1", start=0.2, end=0.4)
    box = plan.add_manual(start=0.3, end=0.6, x=200, y=100, w=50, h=50)
    assert plan.boxes_at(0.1, 320, 240) == [(20, 10, 40, 40)]
    assert plan.boxes_at(0.3, 320, 240) == [(200, 100, 50, 50)]
    assert len(plan.boxes_at(0.5, 320, 240)) == 2
    assert plan.boxes_at(0.6, 320, 240) == [(70, 10, 40, 40)]  # end is exclusive
    plan.remove_manual(box.id)
    assert plan.boxes_at(0.3, 320, 240) == []
    assert plan.add_manual(start=0, end=1, x=0, y=0, w=4, h=4).id == "M1"


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda p: p.add_manual(start=2, end=1, x=0, y=0, w=9, h=9), "结束时间必须晚于开始时间"),
        (lambda p: p.add_manual(start=0, end=1, x=0, y=0, w=0, h=9), "位置或大小无效"),
        (lambda p: p.suppress("F9"), "没有编号为 F9 的自动检测框"),
        (lambda p: p.suppress("F1", start=1), "须同时给出"),
        (lambda p: p.remove_manual("M7"), "没有编号为 M7 的手动框"),
        (lambda p: RedactionPlan(style="swirl"), "遮挡方式"),
        (lambda p: RedactionPlan.from_dict({"mutes": [{"start": "x", "end": 1}]}), "秒数"),
    ],
)
def test_bad_edits_are_refused_in_chinese(build, message):
    plan = RedactionPlan(faces=_analysis())
    with pytest.raises(PlanError, match=message):
        build(plan)
    assert plan.suppressions == [] and plan.manual == []


def test_a_region_takes_off_the_automatic_boxes_centred_in_it_within_its_range():
    """第十七条第四款: an automatic box removed by hand (a poster on the wall): every box whose
    centre lies in the region, whatever its track id, between start and end."""
    plan = RedactionPlan(faces=_analysis(), margin=0)  # the box's x is 10 + 100 t
    region = plan.suppress_region(start=0.0, end=1.5, x=0, y=0, w=100, h=100, reason="海报")
    assert region.is_region and region.region() == (0, 0, 100, 100)
    assert plan.boxes_at(0.2, 320, 240) == []  # centre (50, 30): inside
    assert plan.boxes_at(0.6, 320, 240) == []  # centre (90, 30): inside
    assert plan.boxes_at(0.9, 320, 240) == [(100, 10, 40, 40)]  # centre (120, 30): outside
    assert plan.suppressed_regions_at(0.2, 320, 240) == [(0, 0, 100, 100)]
    assert plan.suppressed_regions_at(1.5, 320, 240) == []
    again = RedactionPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.suppressions == plan.suppressions
    plan.remove_suppression(0)
    assert plan.boxes_at(0.2, 320, 240) == [(30, 10, 40, 40)]  # blurred again
    with pytest.raises(PlanError, match="没有第 1 项取消"):
        plan.remove_suppression(0)
    timed = RedactionPlan(faces=_analysis(), margin=0)
    timed.suppress_region(start=0.1, end=0.3, x=0, y=0, w=320, h=240)
    assert timed.boxes_at(0.05, 320, 240) == [(15, 10, 40, 40)]
    assert timed.boxes_at(0.2, 320, 240) == []
    assert timed.boxes_at(0.3, 320, 240) == [(40, 10, 40, 40)]  # end is exclusive


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start": 0, "end": 1, "x": 0, "y": 0, "w": 1, "h": 9}, "区域位置或大小无效"),
        ({"start": None, "end": None, "x": 0, "y": 0, "w": 9, "h": 9}, "须给出起止时间"),
        ({"track": "F1", "x": 0, "y": 0, "w": 9, "h": 9}, "二者取一"),
        ({}, "二者取一"),
    ],
)
def test_a_suppression_is_a_track_or_a_region_with_a_time_range(kwargs, message):
    from liuhen.redaction import Suppression

    with pytest.raises(PlanError, match=message):
        Suppression(**kwargs)
