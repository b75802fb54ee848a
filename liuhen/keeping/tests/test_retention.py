"""Retention per record (第十二条, 第十四条): the table as data, computed from the facts.

Table-driven: case files by kind and outcome (permanent / 30 / 10 years from 1 January after
filing), the 6-month patrol minimum from capture, evidence = the case file's period, the
longest of several case links, open cases pending; changes of the defaults need a reason, are
audited and never go under the statutory minimum.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.evidence import links
from liuhen.keeping import retention, services
from liuhen.keeping.retention import Period
from liuhen.keeping.tests.conftest import reached_file_stage
from liuhen.records import services as record_services

pytestmark = pytest.mark.django_db


def _years_after_filing(years: int) -> date:
    """Disposal date of a file closed today: 1 January after this year, plus ``years``."""
    return date(timezone.localdate().year + 1 + years, 1, 1)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("6m", date(2026, 8, 31), date(2027, 2, 28)),   # no 31 February: the month's last day
    ("6m", date(2027, 8, 31), date(2028, 2, 29)),   # leap year
    ("10y", date(2027, 1, 1), date(2037, 1, 1)),
    ("18m", date(2026, 12, 3), date(2028, 6, 3)),
    ("permanent", date(2027, 1, 1), None),
])
def test_period_end(text, start, end):
    assert Period.parse(text).end(start) == end


@pytest.mark.parametrize("bad", ["", "0y", "7d", "forever", "-1m"])
def test_malformed_periods_are_refused(bad):
    with pytest.raises(retention.RetentionDataError):
        Period.parse(bad)


def test_the_shipped_table_covers_every_kind_and_cites_a_source():
    table = retention.load_table()
    assert {row.kind for row in table.group("case_file")} == {
        "penalty", "coercion", "levy", "fee", "inspection"}
    assert all(row.source for row in table.rows)
    patrol = table.by_id["recording.patrol"]
    assert patrol.period == Period(months=6) and "第十四条第一款" in patrol.source
    evidence = table.by_id["recording.evidence"]
    assert evidence.period.case_file and not evidence.changeable
    assert set(evidence.kinds) == {"penalty", "coercion"} and "第十四条第二款" in evidence.source


def test_a_malformed_table_names_the_row(tmp_path):
    bad = tmp_path / "retention.toml"
    bad.write_text('[[case_file]]\nid = "x"\ntitle = "x"\nsource = "x"\nkind = "penalty"\n'
                   'period = "case_file"\n', encoding="utf-8")
    with pytest.raises(retention.RetentionDataError, match="x"):
        retention.load_table.__wrapped__(bad)


# kind, facts given to the case, expected period label, expected years (None: permanent)
CASE_FILES = [
    ("penalty", {"decided_on": True}, "30年", 30, "case_file.penalty.decided"),
    ("penalty", {}, "10年", 10, "case_file.penalty.not_decided"),
    ("penalty", {"decided_on": True, "hearing_requested": True}, "永久", None,
     "case_file.penalty.major"),
    ("penalty", {"is_major_incident": True}, "永久", None, "case_file.penalty.major"),
    ("coercion", {"decided_on": True}, "30年", 30, "case_file.coercion.decided"),
    ("coercion", {}, "10年", 10, "case_file.coercion.not_decided"),
    ("levy", {}, "30年", 30, "case_file.levy"),
    ("fee", {"decided_on": True}, "10年", 10, "case_file.fee"),
    ("inspection", {"hearing_requested": True}, "10年", 10, "case_file.inspection"),
]


@pytest.mark.parametrize(("kind", "facts", "label", "years", "rule"), CASE_FILES)
def test_case_file_period_by_kind_and_outcome(people, new_case, kind, facts, label, years, rule):
    case = new_case(kind)
    today = timezone.localdate()
    changes = {k: (today if k == "decided_on" else v) for k, v in facts.items()}
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                    closed_on=today, **changes)
    got = services.case_file_retention(case)
    assert got.winner.row_id == rule and got.period_label == label
    assert got.winner.start == date(today.year + 1, 1, 1)
    if years is None:
        assert got.permanent and got.disposal_date is None and "永久" in got.disposal_label
    else:
        assert got.disposal_date == _years_after_filing(years)


def test_an_open_case_file_is_pending_until_filed(new_case):
    got = services.case_file_retention(new_case("penalty"))
    assert got.pending and got.disposal_date is None and got.disposal_label == "案件归档后起算"


def test_a_decision_document_makes_the_case_decided(people, new_case):
    case = new_case("penalty")
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                    closed_on=timezone.localdate())
    assert services.case_file_retention(case).winner.row_id == "case_file.penalty.not_decided"
    record_services.add_document(actor=people["officer_a"].user, case=case,
                                 doc_type="penalty_decision", number="罚字〔2026〕1号",
                                 date=timezone.localdate())
    # Recomputed from the facts: no stored period to go stale.
    assert services.case_file_retention(case).winner.row_id == "case_file.penalty.decided"


def test_patrol_recording_is_kept_six_months_from_capture(stored_recording):
    rec = stored_recording()
    captured = timezone.localtime(rec.captured_start).date()
    got = services.recording_retention(rec)
    assert got.winner.row_id == "recording.patrol" and got.period_label == "6个月"
    assert got.winner.start == captured
    assert got.disposal_date == Period(months=6).end(captured)
    assert got.disposal_date >= captured + timedelta(days=181)  # 第十四条: not less than 6 months


@pytest.mark.parametrize(("kind", "facts", "rule", "years"), [
    ("penalty", {"decided_on": True}, "recording.evidence", 30),       # 第十四条第二款
    ("penalty", {"is_major_incident": True}, "recording.evidence", None),
    ("coercion", {}, "recording.evidence", 10),
    ("levy", {}, "recording.other_case", 30),
    ("inspection", {}, "recording.other_case", 10),
])
def test_evidence_recording_is_kept_as_long_as_its_case_file(
        people, new_case, stored_recording, kind, facts, rule, years):
    case = new_case(kind)
    today = timezone.localdate()
    changes = {k: (today if k == "decided_on" else v) for k, v in facts.items()}
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case,
                                    closed_on=today, **changes)
    rec = stored_recording()
    links.add_case_link(actor=people["officer_a"].user, recording=rec, case=case,
                        reason="现场检查录像")
    got = services.recording_retention(rec)
    assert got.winner.row_id == rule and case.number in got.winner.note
    if years is None:
        assert got.permanent
    else:
        assert got.disposal_date == _years_after_filing(years)
    assert got.disposal_date == services.case_file_retention(case).disposal_date
    assert {b.row_id for b in got.considered} >= {"recording.patrol", rule}


def test_several_case_links_the_longest_wins_and_ended_links_do_not_count(
        people, new_case, stored_recording):
    actor = people["officer_a"].user
    today = timezone.localdate()
    short, long_, open_ = new_case("penalty"), new_case("penalty"), new_case("coercion")
    reached_file_stage(short)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=actor, case=short, closed_on=today)  # 10 years
    reached_file_stage(long_)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=actor, case=long_, closed_on=today,
                                    decided_on=today)  # 30 years
    rec = stored_recording()
    links.add_case_link(actor=actor, recording=rec, case=short, reason="同一次检查")
    link_long = links.add_case_link(actor=actor, recording=rec, case=long_, reason="涉及两家单位")
    assert services.recording_retention(rec).disposal_date == _years_after_filing(30)
    # A case still open: its file's period is not known yet, so nothing can be disposed of.
    link_open = links.add_case_link(actor=actor, recording=rec, case=open_, reason="后续强制")
    assert services.recording_retention(rec).pending
    links.end_case_link(actor=actor, link=link_open, reason="误关联")
    links.end_case_link(actor=actor, link=link_long, reason="误关联")
    got = services.recording_retention(rec)
    assert got.disposal_date == _years_after_filing(10) and short.number in got.winner.note


def test_documents_are_kept_with_their_case_file(people, new_case):
    case = new_case("penalty")
    today = timezone.localdate()
    document = record_services.add_document(actor=people["officer_a"].user, case=case,
                                            doc_type="penalty_decision", number="罚字1号",
                                            date=today)
    reached_file_stage(case)  # a closing date needs 案卷制作 (cases.dates)
    case_services.update_case_facts(actor=people["officer_a"].user, case=case, closed_on=today)
    got = services.document_retention(document)
    assert got.winner.row_id == "document.case_file" and got.disposal_date == \
        _years_after_filing(30)


def test_changing_a_default_needs_a_reason_and_is_audited(people, stored_recording):
    legal = people["legal"].user
    rec = stored_recording()
    captured = timezone.localtime(rec.captured_start).date()
    change = services.change_period(actor=legal, row_id="recording.patrol", period="12m",
                                    reason="局务会决定延长巡查录像保存期")
    assert (change.previous, change.period) == ("6m", "1y")
    assert services.recording_retention(rec).disposal_date == Period(months=12).end(captured)
    entry = AuditEntry.objects.filter(action="retention.changed").latest("seq")
    assert entry.reason == "局务会决定延长巡查录像保存期" and entry.detail["to"] == "1y"


@pytest.mark.parametrize(("who", "row_id", "period", "reason", "error", "message"), [
    ("legal", "recording.patrol", "3m", "缩短", InvalidInput, "法定最低期限"),   # 第十四条第一款
    ("legal", "recording.evidence", "1y", "缩短", InvalidInput, "不能修改"),      # 第十四条第二款
    ("legal", "case_file.fee", "20y", " ", InvalidInput, "理由"),
    ("legal", "case_file.fee", "case_file", "x", InvalidInput, "年限"),
    ("legal", "no.such.row", "1y", "x", InvalidInput, "没有该条目"),
    ("officer_a", "case_file.fee", "20y", "x", Forbidden, "无权"),
])
def test_changes_that_are_refused(people, who, row_id, period, reason, error, message):
    with pytest.raises(error) as caught:
        services.change_period(actor=people[who].user, row_id=row_id, period=period,
                               reason=reason)
    assert message in caught.value.message
    assert AuditEntry.objects.filter(action="retention.change_refused",
                                     outcome="denied").exists()
    defaults = {row.id: row.period for row in retention.load_table().rows}
    assert services.periods_in_force() == defaults  # nothing changed
