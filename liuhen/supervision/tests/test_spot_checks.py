"""Spot checks (第二十三条): the draw is reproducible from the seed and the population, each
stratum gets its sample size, reviews score criteria held as data with findings on the
timeline, rectifications go to the unit and back, and the ledger exports as XLSX and PDF."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.supervision import sampling, spot_checks, tallies
from liuhen.supervision.tests.factories import make_recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(people, at_local):
    """Recordings of this month's first days: 7 of team A (5 video, 2 photo), 4 of team B."""
    made = []
    for day, (officer, kind, n) in enumerate([("officer_a", "video", 5), ("officer_a", "photo", 2),
                                              ("officer_b", "video", 4)]):
        for i in range(n):
            made.append(make_recording(officer=people[officer], kind=kind,
                                       captured=at_local(2 + day, 9 + i)))
    return made


def _period():
    today = timezone.localdate()
    return today - timedelta(days=10), today


def _open(people, seed="2026-Q4", strata="unit", per_stratum=3, **kwargs):
    start, end = _period()
    return spot_checks.open_spot_check(
        actor=people["legal"].user, title="第四季度音像记录抽查", period_start=start,
        period_end=end, population="recordings", strata=strata, per_stratum=per_stratum,
        seed=seed, **kwargs)


def test_same_seed_and_population_draw_the_same_sample(people, bureau, population):
    start, end = _period()
    args = dict(population="recordings", start=start, end=end, filters={}, strata="unit_kind",
                per_stratum=2)
    first = sampling.draw(seed="abc", **args)
    again = sampling.draw(seed="abc", **args)
    other = sampling.draw(seed="xyz", **args)
    assert first == again
    assert other.population_digest == first.population_digest
    assert first.population_size == 11
    a, b = bureau["team_a"].pk, bureau["team_b"].pk
    assert first.strata_sizes == {f"unit:{a}|kind:photo": 2, f"unit:{a}|kind:video": 5,
                                  f"unit:{b}|kind:video": 4}
    per = {}
    for stratum, _pk, _unit in first.sample:
        per[stratum] = per.get(stratum, 0) + 1
    assert per == {name: 2 for name in first.strata_sizes}  # every stratum gets its size
    drawn_ids = {pk for _s, pk, _u in first.sample}
    assert drawn_ids <= {r.pk for r in population}


@pytest.mark.parametrize("strata", ["unit", "kind", "unit_kind"])
def test_grouped_draw_matches_reading_every_id(people, bureau, population, monkeypatch, strata):
    """Method 2 (counts per id bucket, positions resolved by range queries) draws exactly what
    method 1 (every id read in order) draws, for many seeds; buckets of 2 ids make every
    stratum span several buckets, so the position → bucket → offset arithmetic is exercised."""
    monkeypatch.setattr(sampling, "BUCKET", 2)
    start, end = _period()
    args = dict(population="recordings", start=start, end=end, filters={}, strata=strata)
    for seed in ("a", "b", "c", "2026-Q4", "7"):
        for per_stratum in (1, 3, 6):
            grouped = sampling.draw(seed=seed, per_stratum=per_stratum, **args)
            every_id = sampling.draw(seed=seed, per_stratum=per_stratum, method=1, **args)
            assert grouped.method == 2 and every_id.method == 1
            assert grouped.sample == every_id.sample
            assert grouped.strata_sizes == every_id.strata_sizes
            assert grouped.population_size == every_id.population_size == 11
            # Strata sizes are met: per_stratum from each, all of a smaller stratum.
            per = {}
            for stratum, _pk, _unit in grouped.sample:
                per[stratum] = per.get(stratum, 0) + 1
            assert per == {name: min(per_stratum, n) for name, n in grouped.strata_sizes.items()}
            assert len({pk for _s, pk, _u in grouped.sample}) == len(grouped.sample)


def _not_counted_from_records(*args, **kwargs):
    raise AssertionError("the draw counted the records instead of reading the tallies")


def _tallied_draw(monkeypatch, **args):
    """The draw as a new spot check makes it: from the running tallies (proved by making the
    count from the records fail)."""
    with monkeypatch.context() as patched:
        patched.setattr(sampling, "_grouped", _not_counted_from_records)
        return sampling.draw(**args)


@pytest.fixture
def across_buckets(people, population, at_local):
    """Five more recordings whose ids straddle the boundaries of buckets of 4,096 ids, so
    that strata span several tally buckets (ids far above any other test's)."""
    base = tallies.BUCKET * 2500
    for i, pk in enumerate((base - 2, base - 1, base, base + 1, base + 3 * tallies.BUCKET + 5)):
        make_recording(id=pk, officer=people["officer_b" if i % 2 else "officer_a"],
                       kind=("video", "photo", "audio")[i % 3], captured=at_local(3, 10 + i))
    return population


@pytest.mark.parametrize("strata", ["unit", "kind", "unit_kind"])
def test_tallied_draw_is_the_counted_draw(people, bureau, across_buckets, monkeypatch, strata):
    """The running tallies kept by the database give exactly what counting the records gives
    (method 2 either way): the same strata, identity and sample, which is method 1's sample
    too (第二十三条: anyone redrawing gets the same)."""
    start, end = _period()
    args = dict(population="recordings", start=start, end=end, filters={}, strata=strata)
    for seed in ("a", "b", "2026-Q4"):
        for per_stratum in (1, 3, 6):
            tallied = _tallied_draw(monkeypatch, seed=seed, per_stratum=per_stratum, **args)
            counted = sampling.draw(seed=seed, per_stratum=per_stratum, recount=True, **args)
            assert tallied == counted
            assert tallied.population_size == 16
            every_id = sampling.draw(seed=seed, per_stratum=per_stratum, method=1, **args)
            assert tallied.sample == every_id.sample
            assert tallied.strata_sizes == every_id.strata_sizes
    kinds = dict(args, filters={"kinds": ["photo"], "units": [bureau["team_b"].pk]})
    tallied = _tallied_draw(monkeypatch, seed="k", per_stratum=2, **kinds)
    assert tallied == sampling.draw(seed="k", per_stratum=2, recount=True, **kinds)
    assert tallied.population_size == 1


def test_tallies_follow_the_records(people, bureau, population, monkeypatch, at_local):
    """A recording moved to another unit (a new primary case link), one disposed of (第十四条,
    through its permit), and recordings at the very bounds of the period are counted by the
    tallies as by the records; the tallies equal a recount from scratch."""
    from django.db import connection

    from liuhen.evidence.models import Recording, RecordingDisposal
    from liuhen.supervision.models import DrawTally

    start, end = _period()
    first = timezone.make_aware(datetime.combine(start, time.min))
    last = timezone.make_aware(datetime.combine(end, time.max))
    for captured in (first, last, first - timedelta(microseconds=1),
                     last + timedelta(microseconds=1)):
        make_recording(officer=people["officer_b"], captured=captured)
    args = dict(population="recordings", start=start, end=end, filters={}, strata="unit",
                per_stratum=3, seed="s")

    def both():
        tallied = _tallied_draw(monkeypatch, **args)
        assert tallied == sampling.draw(recount=True, **args)
        return tallied

    a, b = f"unit:{bureau['team_a'].pk}", f"unit:{bureau['team_b'].pk}"
    assert both().strata_sizes == {a: 7, b: 6}  # the two inside the bounds, not the others
    moved = population[0]
    Recording.objects.filter(pk=moved.pk).update(unit=bureau["team_b"])
    assert both().strata_sizes == {a: 6, b: 7}
    now = timezone.now()
    disposed = population[1]
    RecordingDisposal.objects.create(
        recording=disposed, register_number="XH-2026-9", proposed_by=people["keeper_a"].user,
        proposed_at=now, unit_head_approved_by=people["head_a"].user, unit_head_approved_at=now,
        legal_approved_by=people["legal"].user, legal_approved_at=now,
        executed_by=people["keeper_a"].user, executed_at=now)
    Recording.objects.filter(pk=disposed.pk).update(disposed_at=now,
                                                    disposal_register="XH-2026-9")
    assert both().strata_sizes == {a: 5, b: 7}
    kept = sorted(DrawTally.objects.filter(members__gt=0).values_list(
        "day", "unit_id", "kind", "bucket", "members", "id_sum", "square_sum"))
    tallies.rebuild(connection)
    assert sorted(DrawTally.objects.values_list(
        "day", "unit_id", "kind", "bucket", "members", "id_sum", "square_sum")) == kept
    # Bucket arithmetic of the triggers: the same key as the draw's GROUP BY.
    assert set(DrawTally.objects.values_list("bucket", flat=True)) == {
        pk // tallies.BUCKET
        for pk in Recording.objects.filter(disposed_at=None).values_list("id", flat=True)}


def test_a_redraw_counts_the_records_not_the_tallies(people, bureau, population):
    """The opening draw reads the tallies; the redraw counts the records themselves, so tallies
    that do not match the records are found out (第二十三条: the stored identity is proved)."""
    from django.db.models import F

    from liuhen.supervision.models import DrawTally

    assert spot_checks.redraw(actor=people["leader"].user, spot_check=_open(people))[
        "same_population"]
    DrawTally.objects.filter(unit_id=bureau["team_a"].pk).update(id_sum=F("id_sum") + 1)
    check = _open(people, seed="other")
    assert spot_checks.redraw(actor=people["leader"].user, spot_check=check) == {
        "same_population": False, "same_sample": True,
        "population_digest": sampling.draw(
            population="recordings", start=check.period_start, end=check.period_end,
            filters={}, strata="unit", per_stratum=3, seed="other",
            recount=True).population_digest}


def test_tallies_only_for_days_of_utc_plus_8(people, bureau, population, settings):
    """The tallies count capture days of UTC+8; under another time zone a period's bounds are
    not their midnights and the draw counts the records (the same method, the same result)."""
    start, end = _period()
    assert sampling._tallied("recordings", start, end, {}) is not None
    assert sampling._tallied("cases", start, end, {}) is None
    settings.TIME_ZONE = "Europe/Berlin"
    assert sampling._tallied("recordings", start, end, {}) is None
    args = dict(population="recordings", start=start, end=end, filters={}, strata="unit",
                per_stratum=3, seed="s")
    assert sampling.draw(**args).sample == sampling.draw(method=1, **args).sample


def test_population_identity_changes_with_its_members(people, bureau):
    """The identity is more than the counts: the same number of members with one swapped for
    another, or one moved to another unit, gives another identity (第二十三条)."""
    from liuhen.cases.models import Case
    from liuhen.cases.tests.factories import make_case

    cases = [make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                       officers=[people["officer_a"], people["officer_a2"]]) for _ in range(5)]
    start, end = _period()
    args = dict(population="cases", start=start, end=end, filters={}, strata="unit",
                per_stratum=2, seed="s")
    before = sampling.draw(**args)
    assert before.population_size == 5
    swapped = cases[2]
    Case.objects.filter(pk=swapped.pk).update(opened_on=start - timedelta(days=1))
    added = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                      officers=[people["officer_a"], people["officer_a2"]])
    after = sampling.draw(**args)
    assert after.strata_sizes == before.strata_sizes
    assert after.population_digest != before.population_digest
    Case.objects.filter(pk=added.pk).update(opened_on=start - timedelta(days=1))
    Case.objects.filter(pk=swapped.pk).update(opened_on=swapped.opened_on)
    assert sampling.draw(**args) == before  # back as it was: the same identity and sample
    Case.objects.filter(pk=swapped.pk).update(unit=bureau["team_b"])
    moved = sampling.draw(**args)
    assert moved.population_size == before.population_size
    assert moved.population_digest != before.population_digest


def test_a_check_drawn_by_method_one_is_redrawn_by_it(people, bureau, population):
    check = _open(people)
    assert check.draw_method == 2
    old = sampling.draw(population="recordings", start=check.period_start,
                        end=check.period_end, filters={}, strata="unit", per_stratum=3,
                        seed=check.seed, method=1)
    type(check).objects.filter(pk=check.pk).update(draw_method=1,
                                                   population_digest=old.population_digest)
    check.refresh_from_db()
    assert spot_checks.redraw(actor=people["leader"].user, spot_check=check) == {
        "same_population": True, "same_sample": True,
        "population_digest": old.population_digest}


def test_open_and_redraw(people, bureau, population, at_local):
    check = _open(people)
    assert check.items.count() == 6 and check.population_size == 11
    entry = AuditEntry.objects.get(action="spotcheck.opened")
    assert entry.detail["seed"] == "2026-Q4"
    assert entry.detail["population_digest"] == check.population_digest
    assert spot_checks.redraw(actor=people["leader"].user, spot_check=check) == {
        "same_population": True, "same_sample": True,
        "population_digest": check.population_digest}
    # A recording added to the period changes the population's identity: the redraw says so.
    make_recording(officer=people["officer_b"], captured=at_local(3, 15))
    result = spot_checks.redraw(actor=people["leader"].user, spot_check=check)
    assert result["same_population"] is False


def test_only_the_legal_office_opens_checks(people, population):
    with pytest.raises(Forbidden):
        _open(people | {"legal": people["head_a"]})
    assert AuditEntry.objects.filter(action="spotcheck.opened", outcome="denied").exists()
    with pytest.raises(InvalidInput):
        _open(people, per_stratum=0)


def _review(people, check):
    item = check.items.filter(unit=people["officer_a"].unit).first()
    spot_checks.review_item(
        actor=people["legal"].user, item=item,
        scores={"appearance": 10, "civility": 12, "prior_notice": 5},
        result="problems", comment="未事先告知录音录像",
        findings=[{"criterion": "prior_notice", "offset_seconds": 12.0,
                   "note": "开始执法时未告知当事人正在录音录像（第二十条）"},
                  {"criterion": "continuous", "offset_seconds": 95.5,
                   "note": "01:35 处记录中断约 20 秒"}])
    return item


def test_review_and_rectification(people, population):
    check = _open(people)
    item = _review(people, check)
    item.refresh_from_db()
    assert item.result == "problems" and sum(item.scores.values()) == 27
    assert [f.offset_seconds for f in item.findings.all()] == [12.0, 95.5]
    with pytest.raises(InvalidInput, match="0–10"):
        spot_checks.review_item(actor=people["legal"].user, item=item,
                                scores={"appearance": 11}, result="problems")
    with pytest.raises(InvalidInput, match="至少一项"):
        spot_checks.review_item(actor=people["legal"].user,
                                item=check.items.exclude(pk=item.pk).first(),
                                scores={}, result="failed")
    with pytest.raises(InvalidInput, match="晚于今天"):
        spot_checks.request_rectification(actor=people["legal"].user, item=item,
                                          request="组织学习第二十条", deadline=timezone.localdate())
    rect = spot_checks.request_rectification(
        actor=people["legal"].user, item=item, request="组织学习第二十条，逐一告知",
        deadline=timezone.localdate() + timedelta(days=10))
    assert rect.unit == people["officer_a"].unit
    with pytest.raises(IllegalTransition):
        spot_checks.verify_rectification(actor=people["legal"].user, rectification=rect)
    with pytest.raises(Forbidden):
        spot_checks.report_rectification(actor=people["officer_a"].user, rectification=rect,
                                         response="已学习")
    spot_checks.report_rectification(actor=people["head_a"].user, rectification=rect,
                                      response="已组织全队学习第二十条")
    spot_checks.verify_rectification(actor=people["legal"].user, rectification=rect)
    rect.refresh_from_db()
    assert rect.status == "verified" and rect.reported_by == people["head_a"].user


def test_pages_the_unit_head_sees_the_rectification(people, population):
    check = _open(people)
    item = _review(people, check)
    legal = Client()
    legal.force_login(people["legal"].user)
    page = legal.get(f"/supervision/spot-checks/items/{item.pk}/").content.decode()
    assert "事先告知录音录像" in page and "12 秒" in page and "发出限期整改" in page
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    legal.post(f"/supervision/spot-checks/items/{item.pk}/rectification/",
               {"request": "整改告知程序", "deadline": due})
    head = Client()
    head.force_login(people["head_a"].user)
    listed = head.get("/supervision/rectifications/").content.decode()
    assert "整改告知程序" in listed and "01:35 处记录中断" in listed
    other = Client()
    other.force_login(people["officer_b"].user)
    assert other.get("/supervision/rectifications/").status_code == 403
    # The bureau leader reads the items but does not ask for 整改: refused and audited before
    # the form is read, a malformed deadline included (第二十六条; unaudited before).
    leader = Client()
    leader.force_login(people["leader"].user)
    leader.post(f"/supervision/spot-checks/items/{item.pk}/rectification/",
                {"request": "", "deadline": "x"})
    denied = AuditEntry.objects.get(action="spotcheck.rectification_requested",
                                    outcome="denied")
    assert (denied.actor_id, denied.object_id) == (people["leader"].user.pk, str(item.pk))
    head_b = Client()
    head_b.force_login(people["head_detachment"].user)  # the detachment is above team A
    assert "整改告知程序" in head_b.get("/supervision/rectifications/").content.decode()
    assert head.get(f"/supervision/spot-checks/{check.pk}/").status_code in (403, 404)
    response = legal.post(f"/supervision/spot-checks/items/{item.pk}/",
                          {"result": "problems", "finding_criterion": "clarity",
                           "finding_at": "aa:bb", "finding_note": "模糊"}, follow=True)
    assert "时间点格式不正确" in response.content.decode()
    response = legal.post("/supervision/spot-checks/", {
        "title": "页面抽查", "period_start": _period()[0].isoformat(),
        "period_end": _period()[1].isoformat(), "population": "recordings",
        "strata": "unit", "per_stratum": "2", "seed": "s1"}, follow=True)
    assert "已抽取 4 项" in response.content.decode()
    assert "重新抽取结果一致" in legal.post(
        f"/supervision/spot-checks/{check.pk}/redraw/", follow=True).content.decode()


def test_ledger_exports(people, population, tmp_path):
    import openpyxl

    check = _open(people)
    _review(people, check)
    legal = Client()
    legal.force_login(people["legal"].user)
    html = legal.get("/supervision/ledger/", {"result": "problems"}).content.decode()
    assert "未告知当事人正在录音录像" in html
    response = legal.get("/supervision/ledger.xlsx", {"check": check.pk})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "抽查" and len(rows) == 1 + 6
    problem = [r for r in rows[1:] if r[8] == "存在问题"]
    assert len(problem) == 1 and "00:12 事先告知录音录像" in problem[0][9]
    pdf = legal.get("/supervision/ledger.pdf", {"check": check.pk})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "ledger.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "检查台帐" in text and "共 6 项" in text and "存在问题" in text.replace("\n", "")
    assert AuditEntry.objects.filter(action="spotcheck.ledger_exported").count() == 2
    officer = Client()
    officer.force_login(people["officer_a"].user)
    assert officer.get("/supervision/ledger.xlsx").status_code == 403


def test_sampled_cases_by_right(people, bureau):
    from liuhen.cases.tests.factories import make_case

    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    make_recording(officer=people["officer_a"], captured=timezone.now() - timedelta(days=2),
                   case=case)
    _open(people)
    assert spot_checks.sampled_case_ids(people["legal"].user) == {case.pk}
    assert spot_checks.sampled_case_ids(people["leader"].user) == set()


def test_the_legal_office_views_what_its_spot_check_drew_by_right(people, bureau):
    """access.use's by-right row "spot_check" (第二十三条) is answered by this app."""
    from liuhen.access.use import right_for
    from liuhen.cases.tests.factories import make_case

    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    recording = make_recording(officer=people["officer_a"],
                               captured=timezone.now() - timedelta(days=2), case=case)
    outside = make_recording(officer=people["officer_b"],
                             captured=timezone.now() - timedelta(days=40))
    _open(people, filters={"units": [bureau["team_a"].pk]})
    legal = people["legal"].user
    assert right_for(legal, recording, "view").right == "spot_check"
    assert right_for(legal, case, "view").right == "spot_check"
    assert right_for(legal, outside, "view") is None
