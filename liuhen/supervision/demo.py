"""Demo data of devices and supervision for `liuhen demo` (called once at the end of the build):
body cameras with holders, a pre-use check, a faulty one, a spare with a whole fault → repair →
back-in-service history (第二十二条); a few real recordings made with PyAV on those devices and
linked to cases, one HEVC and one corrupt (cut short as by a power loss: stored and flagged
unreadable); access requests of another team (one waiting, one approved into a grant,
第十六条); a spot check with a reviewed item, two timestamped
findings and a rectification; the 第二十六条 detectors run and one violation confirmed; a
training with its attendance; a circular of last month, published. Small on purpose: the demo
stays fast (a few seconds for the media)."""

from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from django.utils import timezone

from liuhen.access import grants
from liuhen.cases.choices import Stage
from liuhen.cases.models import Case
from liuhen.devices import services as devices
from liuhen.devices.choices import DeviceKind, DeviceStatus
from liuhen.devices.models import Device, DeviceHolding, DeviceTransition, FaultReport
from liuhen.evidence.services import ingest_recording
from liuhen.org.models import Officer
from liuhen.supervision import circulars, services, spot_checks, training
from liuhen.supervision.choices import Measure


def _at(days_ago: int, hour: int, minute: int = 0):
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _media(folder: Path, name: str, captured, *, form: str = "h264") -> Path:
    # Real media, encoded with PyAV/Pillow by the same factory the tests use.
    from liuhen.evidence.tests import mediafactory

    if form == "photo":
        return mediafactory.make_jpeg_with_exif(folder / name, taken_at=captured)
    if form == "hevc":
        return mediafactory.make_hevc_mp4(folder / name, seconds=1, creation_time=captured)
    if form == "corrupt":  # an H.264 MP4 cut to half its size: no moov atom, unreadable
        return mediafactory.make_truncated_mp4(folder / name)
    return mediafactory.make_h264_mp4(folder / name, seconds=1, creation_time=captured)


def add_supervision(*, officers: dict[str, Officer]) -> None:
    keeper, legal = officers["devices1"].user, officers["legal1"].user
    # Devices (第十八、二十一、二十二条): issued to officers, one checked before use, one faulty.
    cams = {}
    for n, (username, kind) in enumerate([("zhang", DeviceKind.BODY_CAMERA),
                                          ("wang", DeviceKind.BODY_CAMERA),
                                          ("liu", DeviceKind.BODY_CAMERA),
                                          ("chen", DeviceKind.CAMERA)], start=1):
        officer = officers[username]
        cams[username] = devices.register_device(
            actor=keeper, number=f"DSJ-2026-{n:04d}", kind=kind, unit=officer.unit,
            officer=officer, model_name="DSJ-V9" if kind == DeviceKind.BODY_CAMERA else "EOS")
    spare = devices.register_device(actor=keeper, number="DSJ-2026-0005",
                                    kind=DeviceKind.BODY_CAMERA, unit=officers["head1"].unit,
                                    status=DeviceStatus.REGISTERED, model_name="DSJ-V9",
                                    notes="备用机")
    # A history: registered and issued two months ago, so the recordings below were made by
    # devices their makers held (a recording from a device nobody held is flagged).
    since = _at(60, 9)
    Device.objects.update(registered_at=since)
    DeviceTransition.objects.update(at=since)
    DeviceHolding.objects.update(started_at=since)
    devices.record_check(actor=officers["zhang"].user, device=cams["zhang"], battery_percent=92,
                         free_storage_mb=48_000, device_clock=timezone.now())
    fault = devices.report_fault(actor=officers["liu"].user, device=cams["liu"],
                                 description="开机后画面花屏，无法正常录像")
    # Reported three days ago: the night recording below was made on a faulty device.
    FaultReport.objects.filter(pk=fault.pk).update(reported_at=_at(3, 8))
    DeviceTransition.objects.filter(device=cams["liu"], to_status="faulty").update(at=_at(3, 8))
    # The spare's whole life (第二十一、二十二条): registered → in service → faulty → under
    # repair by a named professional repairer (no self-repair) → back in service.
    devices.put_in_service(actor=keeper, device=spare, reason="备用机验收合格，投入使用")
    devices.report_fault(actor=keeper, device=spare, description="电池无法充满，录像约十分钟后自动关机")
    devices.start_repair(actor=keeper, device=spare, repairer="孙建国",
                         organisation="某某数码科技有限公司售后服务部")
    devices.finish_repair(actor=keeper, device=spare,
                          done="更换电池组并校准电量计，连续录像两小时测试正常")

    # Recordings: real short media on those devices, linked to the officers' open cases.
    def case_of(officer):
        return (Case.objects.filter(officers=officer).exclude(stage=Stage.ARCHIVING)
                .order_by("-opened_on").first())

    plan = [("zhang", "DSJ_0001_现场检查.mp4", _at(2, 10), "h264"),
            ("zhang", "DSJ_0001_询问.mp4", _at(1, 15, 30), "h264"),
            ("zhang", "DSJ_0001_断电.mp4", _at(1, 16, 40), "corrupt"),  # stored, flagged
            ("wang", "DSJ_0002_送达.mp4", _at(3, 9, 15), "h264"),
            ("wang", "DSJ_0002_复查.mp4", _at(2, 14, 20), "hevc"),  # newer cameras' codec
            ("chen", "IMG_0004_工资台账.jpg", _at(2, 11), "photo"),
            ("liu", "DSJ_0003_夜间.mp4", _at(1, 23, 10), "h264")]  # faulty device, night
    made = {}
    with tempfile.TemporaryDirectory(prefix="liuhen-demo-") as tmp:
        for username, name, captured, form in plan:
            officer = officers[username]
            path = _media(Path(tmp), name, captured, form=form)
            made[name] = ingest_recording(
                source_path=path, original_name=name, actor=officer.user, channel="web",
                device=cams[username], officer=officer,
                case=case_of(officer) if username != "liu" else None, captured_at=captured)

    # Access across teams (第十六条): team 2 asks for team 1's material; team 1's head decides.
    seen = made["DSJ_0001_现场检查.mp4"].recording
    grants.create_request(
        requester=officers["liu"].user, target_type="evidence.recording", target_id=seen.pk,
        actions=["view"], reason="同一用人单位在本队另有投诉，需比对现场检查情况",
        wanted_until=timezone.localdate() + timedelta(days=7))
    wanted = case_of(officers["wang"])
    if wanted is not None:
        asked = grants.create_request(
            requester=officers["chen"].user, target_type="cases.case", target_id=wanted.pk,
            actions=["view"], reason="联合检查需要查阅该案调查材料",
            wanted_until=timezone.localdate() + timedelta(days=10))
        grants.approve_request(approver=officers["head1"].user, request_id=asked.pk)

    # A spot check of the last month's recordings (第二十三条) with one reviewed item.
    today = timezone.localdate()
    check = spot_checks.open_spot_check(
        actor=legal, title=f"{today:%Y年%m月}音像记录抽查", period_start=today - timedelta(days=30),
        period_end=today, population="recordings", strata="unit", per_stratum=1, seed="demo")
    item = check.items.order_by("position").first()
    if item is not None:
        scores = {key: c["max"] for key, c in spot_checks.criteria().items()}
        scores["prior_notice"] = scores["prior_notice"] - 8
        scores["appearance"] = scores["appearance"] - 3
        spot_checks.review_item(
            actor=legal, item=item, scores=scores, result="problems",
            comment="执法过程基本规范，开始录像时未告知当事人。",
            findings=[{"criterion": "prior_notice", "offset_seconds": 0.2,
                       "note": "开始执法时未告知当事人全程录音录像（第二十条）"},
                      {"criterion": "appearance", "offset_seconds": 0.6,
                       "note": "一名执法人员未按规定着装"}])
        spot_checks.request_rectification(
            actor=legal, item=item, request="组织全队学习第二十条，执法开始时先行告知并录入告知过程",
            deadline=today + timedelta(days=15))

    # 第二十六条: the detectors run (the night recording on the faulty device is listed);
    # a hand-entered one (六) is confirmed and given a measure.
    services.detect_violations(actor=legal)
    manual = services.report_violation(
        actor=legal, unit=officers["yang"].unit, officer=officers["yang"],
        description="未取得执法证件的人员单独持执法记录仪外出检查")
    services.confirm(actor=legal, violation=manual, reason="经核实，当日无执法任务")
    services.take_measure(actor=legal, violation=manual, measure=Measure.CRITICISM,
                          note="由所在大队负责人谈话提醒")

    # Training (第二十五条): one session this year; those not attending are short of hours.
    session = training.add_session(
        actor=legal, topic="执法全过程记录制度与执法记录仪使用", held_on=max(
            today - timedelta(days=20), today.replace(month=1, day=1)),
        hours=training.rule()["hours_by_role"]["officer"], trainer="周法明",
        materials="《人力资源社会保障行政执法全过程记录制度》第五条至第二十六条讲义")
    training.record_attendance(
        actor=legal, session=session,
        officer_ids=[o.pk for key, o in officers.items()
                     if key in ("zhang", "wang", "head1", "liu", "chen", "head2")])

    # A circular of last month (第二十四条), published.
    last_month = today.replace(day=1) - timedelta(days=1)
    circular = circulars.create_circular(
        actor=legal, kind="month", day=last_month,
        text="各单位能够按要求开展执法全过程记录。个别单位存在逾期存储、未事先告知的问题，"
             "请于十五日内整改。")
    circulars.publish_circular(actor=legal, circular=circular)

