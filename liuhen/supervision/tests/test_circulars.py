"""Circulars and performance scores (第二十四条): each unit's score comes from its data by the
formula in data/scoring.toml (weights with their articles); a circular keeps the formula and the
inputs so a score can be recomputed; the published PDF has the ranked table and the charts
(read back with pypdf, pages rendered with pdftoppm); units read published circulars only."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.rules.models import CaseCompleteness
from liuhen.supervision import circulars
from liuhen.supervision.models import Circular, SpotCheck, SpotCheckItem, Violation
from liuhen.supervision.spot_checks import criteria
from liuhen.supervision.tests.factories import make_recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def period():
    """Last month but one… the month that contained the day 40 days before the frozen today."""
    day = timezone.localdate() - timedelta(days=40)
    start, end = circulars.period_bounds("month", day)
    at = timezone.make_aware(datetime.combine(start + timedelta(days=2), time(10)))
    return {"day": day, "start": start, "end": end, "at": at}


def _weights():
    return {c["id"]: c for c in circulars.formula()["component"]}


@pytest.fixture
def data(people, bureau, period):
    """Team A: 4 recordings (1 late), a case at 50 % completeness, one item reviewed at
    24/30 of the full marks with one finding. Team B: 2 recordings on time and one confirmed
    violation. Outside the period: a late recording of team B (not counted)."""
    at = period["at"]
    for n in range(4):
        make_recording(officer=people["officer_a"], captured=at + timedelta(hours=n),
                       late_hours=5 if n == 0 else 0)
    for n in range(2):
        make_recording(officer=people["officer_b"], captured=at + timedelta(hours=n))
    make_recording(officer=people["officer_b"], captured=at - timedelta(days=40), late_hours=9)
    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    Case.objects.filter(pk=case.pk).update(opened_on=period["start"] + timedelta(days=1))
    CaseCompleteness.objects.update_or_create(case=case, defaults={"ratio": 0.5,
                                                                  "missing_count": 1})
    check = SpotCheck.objects.create(
        title="抽查", period_start=period["start"], period_end=period["end"],
        population="recordings", strata="unit", per_stratum=1, seed="s",
        population_digest="0" * 64, opened_by=people["legal"].user)
    keys = list(criteria())[:2]
    full = sum(criteria()[k]["max"] for k in keys)
    item = SpotCheckItem.objects.create(
        spot_check=check, stratum="a", position=1, object_type="evidence.recording",
        object_id=1, unit=bureau["team_a"], scores={keys[0]: criteria()[keys[0]]["max"],
                                                     keys[1]: criteria()[keys[1]]["max"] - 6},
        result="problems", reviewer=people["legal"].user, reviewed_at=at)
    item.findings.create(criterion=keys[1], offset_seconds=12, note="未告知",
                         created_by=people["legal"].user)
    Violation.objects.create(item=5, detector="manual", fingerprint="t:1", title="x",
                             unit=bureau["team_b"], status="confirmed", detected_at=at)
    Violation.objects.create(item=5, detector="manual", fingerprint="t:2", title="y",
                             unit=bureau["team_b"], status="dismissed", detected_at=at)
    return {"review": (full - 6) / full}


def test_formula_is_data_with_articles_and_weights_adding_up():
    rule = circulars.formula()
    assert rule["article"] == "第二十四条"
    assert {c["id"]: c["article"] for c in rule["component"]} == {
        "completeness": "第五条至第十条", "timeliness": "第十三条", "review": "第二十三条",
        "violations": "第二十六条", "rectification": "第二十三条"}
    assert sum(c["weight"] for c in rule["component"]) == pytest.approx(1)


def test_periods():
    from datetime import date
    assert circulars.period_bounds("month", date(2028, 2, 10)) == (date(2028, 2, 1),
                                                                   date(2028, 2, 29))
    assert circulars.period_bounds("quarter", date(2026, 11, 3)) == (date(2026, 10, 1),
                                                                     date(2026, 12, 31))
    assert circulars.period_bounds("year", date(2027, 5, 5)) == (date(2027, 1, 1),
                                                                 date(2027, 12, 31))
    with pytest.raises(InvalidInput):
        circulars.period_bounds("week", date(2027, 5, 5))


def test_scores_follow_from_the_data(data, bureau, period):
    inputs = circulars.gather_inputs(period["start"], period["end"])
    assert set(inputs) == {bureau["detachment"].pk, bureau["team_a"].pk, bureau["team_b"].pk}
    a, b = inputs[bureau["team_a"].pk], inputs[bureau["team_b"].pk]
    assert (a["recordings"], a["late"], a["cases"], a["completeness"]) == (4, 1, 1, 0.5)
    assert (a["reviewed"], a["findings"]) == (1, 1)
    assert a["review_score"] == pytest.approx(data["review"], abs=1e-4)
    assert (b["recordings"], b["late"], b["violations"]) == (2, 0, 1)  # dismissed not counted
    w = _weights()
    rows = {r["unit_id"]: r for r in circulars.score_units(inputs, circulars.formula())}
    expected_a = (w["completeness"]["weight"] * 50 + w["timeliness"]["weight"] * 75
                  + w["review"]["weight"] * 100 * data["review"]
                  + w["violations"]["weight"] * 100 + w["rectification"]["weight"] * 100)
    expected_b = (w["completeness"]["weight"] * 100 + w["timeliness"]["weight"] * 100
                  + w["review"]["weight"] * 100
                  + w["violations"]["weight"] * (100 - w["violations"]["penalty"])
                  + w["rectification"]["weight"] * 100)
    assert rows[bureau["team_a"].pk]["total"] == pytest.approx(expected_a, abs=0.06)
    assert rows[bureau["team_b"].pk]["total"] == pytest.approx(expected_b, abs=0.06)
    # The detachment has no data: every component at its no-data score, ranked first.
    detachment = rows[bureau["detachment"].pk]
    assert detachment["total"] == 100 and detachment["rank"] == 1
    assert "本期无音像记录" in detachment["components"][1]["basis"]
    assert rows[bureau["team_b"].pk]["rank"] == 2 and rows[bureau["team_a"].pk]["rank"] == 3
    assert "4 条中逾期存储 1 条" in rows[bureau["team_a"].pk]["components"][1]["basis"]


def test_a_circular_keeps_formula_and_inputs_and_recomputes(data, people, bureau, period):
    circular = circulars.create_circular(actor=people["legal"].user, kind="month",
                                         day=period["day"], text="本月情况如下。")
    assert circular.title.endswith("执法全过程记录情况通报")
    assert circular.formula["version"] == circulars.formula()["version"]
    kept = [(r["unit_id"], r["total"]) for r in circular.rows]
    make_recording(officer=people["officer_a"], captured=period["at"], late_hours=50)
    circular.refresh_from_db()
    assert [(r["unit_id"], r["total"]) for r in circulars.recompute(circular)] == kept
    fresh = circulars.score_units(circulars.gather_inputs(period["start"], period["end"]),
                                  circulars.formula())
    assert [(r["unit_id"], r["total"]) for r in fresh] != kept  # the data moved on, not it
    assert AuditEntry.objects.filter(action="circular.created").count() == 1


def _pages_png(pdf: bytes, tmp_path) -> list:
    from PIL import Image

    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "p")],
                   check=True, timeout=60)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob("p*.png"))]


def _coloured(image) -> int:
    """Pixels of the charts' colours (text and rules are black or grey)."""
    import numpy

    pixels = numpy.asarray(image, dtype=numpy.int16)
    return int(((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum())


def test_published_pdf_has_table_text_and_charts(data, people, bureau, period, tmp_path):
    from pypdf import PdfReader

    draft = circulars.create_circular(actor=people["legal"].user, kind="month",
                                      day=period["day"])
    published = circulars.publish_circular(actor=people["legal"].user, circular=draft,
                                           text="一大队逾期存储一条，限期改正。")
    assert published.status == "published" and len(published.pdf_sha256) == 64
    reader = PdfReader(io.BytesIO(bytes(published.pdf)))
    text = "".join(page.extract_text() for page in reader.pages)
    for needed in ("执法全过程记录情况通报", "第二十四条", "监察一大队", "监察二大队",
                   "各单位总分排名", "各单位分项得分", "一大队逾期存储一条", "24小时内存储率"):
        assert needed in text, needed
    if shutil.which("pdftoppm"):
        assert max(_coloured(page) for page in _pages_png(bytes(published.pdf), tmp_path)) > 500
    with pytest.raises(IllegalTransition):
        circulars.publish_circular(actor=people["legal"].user, circular=published)
    entry = AuditEntry.objects.get(action="circular.published")
    assert entry.detail["sha256"] == published.pdf_sha256


def test_svg_charts_are_svg_with_bars(data, period):
    rows = circulars.score_units(circulars.gather_inputs(period["start"], period["end"]),
                                 circulars.formula())
    (t1, svg1), (t2, svg2) = circulars.charts(rows)
    assert svg1.lstrip().startswith("<?xml") and "<svg" in svg1 and "#2f6fab" in svg1
    assert "<svg" in svg2 and "matplotlib.org" not in svg1


def test_only_the_legal_office_makes_and_publishes(data, people, period):
    with pytest.raises(Forbidden):
        circulars.create_circular(actor=people["head_a"].user, kind="month", day=period["day"])
    assert AuditEntry.objects.filter(action="circular.created", outcome="denied").exists()
    draft = circulars.create_circular(actor=people["legal"].user, kind="month",
                                      day=period["day"])
    with pytest.raises(Forbidden):
        circulars.publish_circular(actor=people["leader"].user, circular=draft)
    with pytest.raises(InvalidInput):
        circulars.create_circular(actor=people["legal"].user, kind="month",
                                  day=timezone.localdate() + timedelta(days=62))
    # Units read published circulars only; an officer none.
    assert list(circulars.visible_circulars(people["head_a"].user)) == []
    assert list(circulars.visible_circulars(people["officer_a"].user)) == []
    circulars.publish_circular(actor=people["legal"].user, circular=draft)
    assert list(circulars.visible_circulars(people["head_a"].user)) == [draft]


def test_pages(data, people, period):
    import openpyxl

    legal = Client()
    legal.force_login(people["legal"].user)
    page = legal.get("/supervision/circulars/")
    assert page.status_code == 200 and "制作通报" in page.content.decode()
    assert legal.post("/supervision/circulars/", {"kind": "week", "day": "x"}).status_code == 400
    assert legal.post("/supervision/circulars/",
                      {"kind": "month", "day": "2026-02-30"}).status_code == 400
    made = legal.post("/supervision/circulars/", {"kind": "month",
                                                 "day": period["day"].isoformat()})
    circular = Circular.objects.get()
    assert made.status_code == 302 and made["Location"].endswith(f"/{circular.pk}/")
    detail = legal.get(f"/supervision/circulars/{circular.pk}/").content.decode()
    assert "data:image/svg+xml;base64," in detail and "监察一大队" in detail
    head = Client()
    head.force_login(people["head_a"].user)
    assert head.get(f"/supervision/circulars/{circular.pk}/").status_code == 404  # a draft
    assert legal.post(f"/supervision/circulars/{circular.pk}/publish/",
                      {"text": "通报正文"}).status_code == 302
    assert head.get(f"/supervision/circulars/{circular.pk}/").status_code == 200
    pdf = head.get(f"/supervision/circulars/{circular.pk}.pdf")
    assert pdf.content[:5] == b"%PDF-" and bytes(Circular.objects.get().pdf) == pdf.content
    xlsx = head.get(f"/supervision/circulars/{circular.pk}.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    rows = list(book["排名"].values)
    assert rows[0][:3] == ("名次", "单位", "总分") and len(rows) == 4
    assert {r[1] for r in rows[1:]} == {"劳动保障监察支队", "监察一大队", "监察二大队"}
    assert [r[1] for r in book["评分办法"].values][1] == "第五条至第十条"
    officer = Client()
    officer.force_login(people["officer_a"].user)
    assert officer.get("/supervision/circulars/").status_code == 403
    assert head.post(f"/supervision/circulars/{circular.pk}/publish/").status_code in (403, 409)
    assert legal.get("/supervision/circulars/999999/").status_code == 404
    assert AuditEntry.objects.filter(action="circular.exported").count() == 2


def test_api_makes_shows_and_publishes_with_the_page_services(data, people, period):
    """The API's circular operations (第二十四条) call the same services as the pages: the
    draft keeps its formula and scores, publishing stores the PDF once, units read it after."""
    legal, officer = Client(), Client()
    legal.force_login(people["legal"].user)
    officer.force_login(people["head_a"].user)  # a unit head reads published circulars
    made = legal.post("/api/circulars", {"kind": "month", "day": str(period["day"])},
                      content_type="application/json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "draft" and body["drafted_by_schedule"] is False
    assert body["period_start"] == str(period["start"])
    assert {r["unit_id"] for r in body["rows"]} >= {people["officer_a"].unit_id}
    assert body["formula"] == circulars.formula()
    circular = Circular.objects.get(pk=body["id"])
    assert circular.rows == body["rows"]
    assert AuditEntry.objects.filter(action="circular.created", object_id=str(circular.pk),
                                     actor_id=people["legal"].user.pk).exists()
    # A draft is the office's: a unit head neither lists nor opens it, nor makes or publishes.
    assert officer.get("/api/circulars").json() == []
    assert officer.get(f"/api/circulars/{circular.pk}").status_code == 404
    assert officer.post("/api/circulars", {"kind": "month", "day": str(period["day"])},
                        content_type="application/json").status_code == 403
    assert officer.post(f"/api/circulars/{circular.pk}/publish", {},
                        content_type="application/json").status_code == 403
    assert legal.post("/api/circulars", {"kind": "week", "day": str(period["day"])},
                      content_type="application/json").status_code == 400
    published = legal.post(f"/api/circulars/{circular.pk}/publish", {"text": "通报如下。"},
                           content_type="application/json")
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published" and published.json()["text"] == "通报如下。"
    circular.refresh_from_db()
    assert bytes(circular.pdf).startswith(b"%PDF")
    assert published.json()["pdf_sha256"] == circular.pdf_sha256
    again = legal.post(f"/api/circulars/{circular.pk}/publish", {"text": "改动"},
                       content_type="application/json")
    assert again.status_code == 409
    assert [c["id"] for c in officer.get("/api/circulars").json()] == [circular.pk]
    shown = officer.get(f"/api/circulars/{circular.pk}")
    assert shown.status_code == 200 and shown.json()["text"] == "通报如下。"
    assert AuditEntry.objects.filter(action="circular.viewed", object_id=str(circular.pk),
                                     actor_id=people["head_a"].user.pk).exists()


def test_the_scheduler_drafts_last_month_once_and_never_publishes(data, people, settings,
                                                                  tmp_path):
    """第二十四条 定期通报: the scheduler's monthly job drafts last month's circular, with its
    scores, for the legal affairs office to complete; it runs once per month whatever the
    number of runs or nodes, and leaves alone a month the office already made."""
    from liuhen.web import schedule

    settings.DATA_DIR = tmp_path
    settings.FIXITY_EVERY_HOURS = settings.VIOLATION_DETECT_EVERY_HOURS = 0
    settings.AUDIT_ANCHOR_EVERY_HOURS = 0
    settings.CIRCULAR_DRAFT_MONTHLY = True
    job = {j.name: j for j in schedule.jobs()}["circular-draft"]
    assert job.label == "每月通报草稿（上月）"
    started = timezone.now()
    assert "circular-draft" in schedule.run_due(now=started + schedule.FIRST_DELAY,
                                                started=started, node="a")
    last_month = circulars.period_bounds("month", timezone.localdate().replace(day=1)
                                         - timedelta(days=1))
    [draft] = Circular.objects.all()
    assert (draft.period_kind, draft.period_start, draft.period_end) == ("month", *last_month)
    assert draft.status == "draft" and draft.created_by is None and draft.text == ""
    assert draft.rows and draft.formula == circulars.formula()
    entry = AuditEntry.objects.get(action="circular.drafted")
    assert entry.actor_name == "system" and entry.object_id == str(draft.pk)
    # The next days' runs (this node or another) draft nothing more this month.
    for days in (1, 2):
        schedule.run_due(now=started + schedule.FIRST_DELAY + timedelta(days=days),
                         started=started, node="b")
    assert Circular.objects.count() == 1 and circulars.draft_last_month() is None
    # The office completes and publishes it; a page shows it was drafted by the schedule.
    legal = Client()
    legal.force_login(people["legal"].user)
    assert "系统（定期生成）" in legal.get(f"/supervision/circulars/{draft.pk}/").content.decode()
    circulars.publish_circular(actor=people["legal"].user, circular=draft, text="本月通报。")
    # A month the office made by hand is not drafted again.
    Circular.objects.all().delete()
    circulars.create_circular(actor=people["legal"].user, kind="month", day=last_month[0])
    assert circulars.draft_last_month() is None
    settings.CIRCULAR_DRAFT_MONTHLY = False
    assert "circular-draft" not in {j.name for j in schedule.jobs()}
