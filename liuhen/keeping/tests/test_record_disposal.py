"""Disposal of a case's file (卷宗: its written records and every case-file version) after its
period ended (第十二条, 第十四条): listed only when not held, proposed by the records keeper,
executed only with the unit head's and the legal affairs office's approvals, each row a
tombstone with its permit (digests, dates, approvals, register number) and the stored files
erased afterwards; ``liuhen verify --all`` then finds nothing missing and no orphan. The
database refuses a tombstone without a permit, and the deletion of a permit (issue 11)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import InvalidInput
from liuhen.evidence import disposal as originals
from liuhen.keeping import casefile, disposal, holds, services
from liuhen.keeping.choices import DisposalItemOutcome, DisposalStatus
from liuhen.keeping.models import CaseFile, CaseFileDisposal
from liuhen.keeping.pdf import register_pdf
from liuhen.records.models import Document, DocumentDisposal

pytestmark = pytest.mark.django_db


def _bound(people, case):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    return casefile.bind(actor=keeper, case_file=casefile.assemble(actor=officer, case=case))


def _expire(frozen_clock, case):
    """Move the clock past the case file's period (decided penalty: 30 years from 1 January
    after filing, 第十四条 and the bureau's table)."""
    ret = services.case_file_retention(case)
    assert ret.disposal_date is not None
    frozen_clock.shift(ret.disposal_date - timezone.localdate() + timedelta(days=2))


@pytest.fixture
def expired_case(people, filed_case, frozen_clock):
    """The filed penalty case with a bound case file, the clock moved past the file's period."""
    bound = _bound(people, filed_case)
    _expire(frozen_clock, filed_case)
    return filed_case, bound


def _approve_both(people, register):
    disposal.approve(actor=people["head_a"].user, register=register, opinion="同意")
    return disposal.approve(actor=people["legal"].user, register=register, opinion="经审核同意")


def _case_ids(found):
    return {c.case.pk for c in found}


def test_case_file_disposal_walk_tombstones_register_and_verify(
        people, expired_case, vault, django_capture_on_commit_callbacks):
    case, bound = expired_case
    keeper = people["keeper_a"].user
    docs = list(Document.objects.filter(case=case))
    scanned = [d for d in docs if d.storage_key]
    assert scanned and any(not d.storage_key for d in docs)  # a paper-only record too
    # Not yet past its date a day earlier: not listed.
    assert case.pk not in _case_ids(disposal.case_candidates(
        user=keeper, as_of=timezone.localdate() - timedelta(days=3)))
    found = {c.case.pk: c for c in disposal.case_candidates(user=keeper)}
    assert {d.pk for d, _ in found[case.pk].documents} == {d.pk for d in docs}
    assert [cf.pk for cf, _ in found[case.pk].case_files] == [bound.pk]

    register = disposal.propose(actor=keeper, case_ids=[case.pk], note="到期案卷")
    assert register.items.filter(document__isnull=False).count() == len(docs)
    assert register.items.get(case_file=bound).retention["disposal_date"]
    assert case.pk not in _case_ids(disposal.case_candidates(user=keeper))  # on a register
    register = _approve_both(people, register)
    with django_capture_on_commit_callbacks(execute=True):
        register = disposal.execute(actor=keeper, register=register)
    assert register.status == DisposalStatus.EXECUTED
    assert set(register.items.values_list("outcome", flat=True)) == {DisposalItemOutcome.DISPOSED}

    for doc in docs:
        doc.refresh_from_db()
        assert doc.disposed_at and doc.disposal_register == register.number
        permit = doc.disposal
        assert (permit.sha256, permit.sm3, permit.storage_key) == (doc.sha256, doc.sm3,
                                                                   doc.storage_key)
        assert permit.unit_head_approved_by == people["head_a"].user
        assert permit.legal_approved_by == people["legal"].user
        assert permit.object_erased_at is not None
        if doc.storage_key:
            assert not vault.path(doc.storage_key).exists()
    bound.refresh_from_db()
    assert bound.disposed_at and bound.disposal.sha256 == bound.sha256
    assert not vault.path(bound.storage_key).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"disposal.record_disposed", "disposal.record_object_erased"} <= actions
    # Nothing left to list; the case's row and facts stay (statistics, the audit chain).
    assert case.pk not in _case_ids(disposal.case_candidates(user=keeper))

    # 销毁清册 PDF: each written record and the case-file version with its digests.
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        register_pdf(register))).pages).replace("\n", "")
    assert "文字记录" in text and "卷宗" in text and bound.sha256 in text
    assert scanned[0].sm3 in text

    # liuhen verify --all: the tombstones' files are neither missing nor orphans.
    out, err = io.StringIO(), io.StringIO()
    call_command("verify", "--all", stdout=out, stderr=err)
    assert "孤立对象 0" in out.getvalue() and "异常 0" in out.getvalue()
    assert not err.getvalue()


def test_a_hold_keeps_the_case_file(people, expired_case, django_capture_on_commit_callbacks):
    case, bound = expired_case
    keeper, legal = people["keeper_a"].user, people["legal"].user
    hold = holds.place_hold(actor=legal, kind="lawsuit", reason="当事人提起行政诉讼",
                            reference="（2057）行初12号", case=case)
    assert case.pk not in _case_ids(disposal.case_candidates(user=keeper))
    with pytest.raises(InvalidInput, match="不在本月可销毁清单中"):
        disposal.propose(actor=keeper, case_ids=[case.pk])
    holds.release_hold(actor=legal, hold=hold, reason="判决生效，诉讼终结")
    register = _approve_both(people, disposal.propose(actor=keeper, case_ids=[case.pk]))
    # A hold placed after the approvals still keeps every item at execution.
    holds.place_hold(actor=legal, kind="review", reason="申请行政复议", case=case)
    with django_capture_on_commit_callbacks(execute=True):
        disposal.execute(actor=keeper, register=register)
    assert set(register.items.values_list("outcome", flat=True)) == {DisposalItemOutcome.SKIPPED}
    assert "已冻结" in register.items.first().outcome_note
    assert not Document.objects.filter(case=case, disposed_at__isnull=False).exists()
    bound.refresh_from_db()
    assert bound.disposed_at is None


def test_disposal_without_both_approvals_is_refused(people, expired_case):
    case, bound = expired_case
    keeper = people["keeper_a"].user
    register = disposal.propose(actor=keeper, case_ids=[case.pk])
    with pytest.raises(InvalidInput, match="双方批准"):
        disposal.execute(actor=keeper, register=register)
    disposal.approve(actor=people["head_a"].user, register=register, opinion="同意")
    with pytest.raises(InvalidInput, match="双方批准"):
        disposal.execute(actor=keeper, register=register)
    # The service itself: one person cannot give both approvals, nor a wrong role.
    head = originals.Approval(people["head_a"].user, timezone.now())
    for legal in (head, originals.Approval(people["officer_a"].user, timezone.now())):
        with pytest.raises(InvalidInput):
            disposal.dispose_record(actor=keeper, row=bound, register=register,
                                    unit_head=head, legal=legal, retention={})
    bound.refresh_from_db()
    assert bound.disposed_at is None and not CaseFileDisposal.objects.exists()
    assert AuditEntry.objects.filter(action="disposal.refused", outcome="denied").count() >= 4


def _refused(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_allows_a_tombstone_only_with_its_permit(
        people, expired_case, django_capture_on_commit_callbacks):
    case, bound = expired_case
    now = timezone.now()
    doc = Document.objects.filter(case=case).exclude(storage_key="").first()
    # No permit: neither a document nor a case-file version becomes a tombstone.
    _refused("UPDATE cases_document SET disposed_at = %s, disposal_register = %s WHERE id = %s",
             [now, "XH-FAKE-001", doc.pk])
    _refused("UPDATE keeping_casefile SET disposed_at = %s, disposal_register = %s "
             "WHERE id = %s", [now, "XH-FAKE-001", bound.pk])
    keeper = people["keeper_a"].user
    register = _approve_both(people, disposal.propose(actor=keeper, case_ids=[case.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        disposal.execute(actor=keeper, register=register)
    # A tombstone never changes again; a permit is never deleted nor rewritten.
    _refused("UPDATE cases_document SET disposed_at = NULL, disposal_register = '' "
             "WHERE id = %s", [doc.pk])
    _refused("UPDATE keeping_casefile SET disposal_register = 'XH-OTHER' WHERE id = %s",
             [bound.pk])
    _refused("DELETE FROM records_documentdisposal WHERE tombstone_id = %s", [doc.pk])
    _refused("DELETE FROM keeping_casefiledisposal WHERE tombstone_id = %s", [bound.pk])
    _refused("UPDATE records_documentdisposal SET sha256 = %s WHERE tombstone_id = %s",
             ["0" * 64, doc.pk])
    _refused("UPDATE keeping_casefiledisposal SET register_number = 'X' "
             "WHERE tombstone_id = %s", [bound.pk])
    assert DocumentDisposal.objects.get(tombstone=doc).sha256 == doc.sha256
    assert CaseFile.objects.get(pk=bound.pk).disposed_at is not None


def test_pages_walk_a_case_file_to_disposal(client, people, expired_case,
                                           django_capture_on_commit_callbacks):
    case, bound = expired_case
    client.force_login(people["keeper_a"].user)
    page = client.get("/keeping/disposal/").content.decode()
    assert f'data-case="{case.pk}"' in page and case.number in page
    response = client.post("/keeping/disposal/", {"case": [case.pk], "note": "到期案卷"})
    assert response.status_code == 302
    url = response["Location"]
    for who in ("head_a", "legal"):
        client.force_login(people[who].user)
        assert client.post(url, {"step": "approve", "opinion": "同意"}).status_code == 302
    client.force_login(people["keeper_a"].user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"step": "execute"}).status_code == 302
    page = client.get(url).content.decode()
    assert "已执行" in page and "文字记录" in page and "卷宗" in page
    client.force_login(people["officer_a"].user)
    records = client.get(f"/cases/{case.pk}/records/").content.decode()
    assert "已销毁" in records
    assert client.get(f"/cases/{case.pk}/").content.decode().count("已销毁") >= 1
    assert client.get(f"/keeping/case-files/{bound.pk}/pdf").status_code == 409


def test_a_scan_another_live_record_names_is_kept(people, filed_case, new_case, vault,
                                                  tmp_path, frozen_clock,
                                                  django_capture_on_commit_callbacks):
    """Scans are stored by content: the same scan filed in a case still kept must survive the
    disposal of the expired case's record (its tombstone says so), and verify finds it."""
    from liuhen.records import services as record_services

    case = filed_case
    _bound(people, case)
    doc = Document.objects.filter(case=case).exclude(storage_key="").exclude(
        media_type="application/pdf").first()
    copy = tmp_path / "同一扫描件.jpg"
    copy.write_bytes(vault.path(doc.storage_key).read_bytes())
    other = record_services.add_document(  # an open case: kept until its file is archived
        actor=people["officer_a"].user, case=new_case("penalty"), doc_type="filing_approval",
        file_path=copy, original_name=copy.name, date=timezone.localdate())
    assert other.storage_key == doc.storage_key
    _expire(frozen_clock, case)
    keeper = people["keeper_a"].user
    register = _approve_both(people, disposal.propose(actor=keeper, case_ids=[case.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        disposal.execute(actor=keeper, register=register)
    permit = DocumentDisposal.objects.get(tombstone=doc)
    assert permit.object_erased_at is not None and permit.erase_detail["removed"] == []
    assert "仍引用" in permit.erase_detail["kept"]
    assert vault.path(doc.storage_key).exists()
    out, err = io.StringIO(), io.StringIO()
    call_command("verify", "--all", stdout=out, stderr=err)
    assert "孤立对象 0" in out.getvalue() and "异常 0" in out.getvalue()


def test_every_permit_carries_the_same_approvals():
    """One abstract permit (evidence.models.DisposalApproval) for a recording's, a written
    record's and a case file's disposal: the 销毁清册 number, the proposal, both approvals
    (第十四条), the retention that ended, the execution and the erasure are the same fields."""
    from liuhen.evidence.models import DisposalApproval, RecordingDisposal

    names = [f.name for f in DisposalApproval._meta.fields]
    assert {"register_number", "unit_head_approved_by", "legal_approved_by"} <= set(names)
    for model in (RecordingDisposal, DocumentDisposal, CaseFileDisposal):
        assert issubclass(model, DisposalApproval), model
        for name in names:
            *_, kwargs = model._meta.get_field(name).deconstruct()
            *_, base = DisposalApproval._meta.get_field(name).deconstruct()
            if name == "object_erased_at":  # a recording's object is its original (原件)
                kwargs.pop("verbose_name"), base.pop("verbose_name")
            assert kwargs == base, (model, name)


def test_the_scheduler_retries_erasures_that_failed_after_commit(
        people, expired_case, vault, monkeypatch, django_capture_on_commit_callbacks):
    """第十四条: the tombstones committed but the storage refused to erase (a disk error, S3
    unreachable): the one scheduler's hourly job erases them later, a recording's original and
    a case's stored files alike, audited; a second run, or a retry that meets an object
    already erased, changes and records nothing."""
    from liuhen.evidence.models import RecordingDisposal
    from liuhen.web import schedule

    case, _bound_version = expired_case
    keeper = people["keeper_a"].user
    recordings = [c.recording.pk for c in disposal.candidates(user=keeper)]
    assert recordings  # the case's evidence, kept as long as its file (第十四条第二款)
    real = type(vault).erase_original

    def broken(self, key, *, permit):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(vault), "erase_original", broken)
    register = _approve_both(people, disposal.propose(
        actor=keeper, case_ids=[case.pk], recording_ids=recordings))
    with django_capture_on_commit_callbacks(execute=True):
        disposal.execute(actor=keeper, register=register)
    permits = [*RecordingDisposal.objects.all(), *DocumentDisposal.objects.exclude(
        storage_key=""), *CaseFileDisposal.objects.all()]
    keys = [p.tombstone.storage_key for p in permits]
    assert len(permits) >= 4 and all(vault.path(k).exists() for k in keys)
    assert all(p.object_erased_at is None for p in permits)

    job = {j.name: j for j in schedule.jobs()}["disposal-erasures"]
    assert job.every == timedelta(hours=1) and not job.inline
    job.enqueue()  # still refused: audited as failed, left for the next run
    tried = AuditEntry.objects.filter(action="disposal.erasures_retried").latest("seq")
    assert tried.outcome == "failed" and tried.actor_id is None
    assert tried.detail["objects_left"] == tried.detail["objects_pending"] >= len(permits)

    monkeypatch.setattr(type(vault), "erase_original", real)
    started = timezone.now()
    for other in schedule.jobs():  # the other jobs ran just now: only ours falls due
        if other.name != job.name:
            schedule.record_run(other.name, started + schedule.FIRST_DELAY)
    assert schedule.run_due(now=started + schedule.FIRST_DELAY, started=started) == [job.name]
    done = AuditEntry.objects.filter(action="disposal.erasures_retried").latest("seq")
    assert done.outcome == "succeeded" and done.detail["objects_left"] == 0
    assert done.detail["objects_erased"] == done.detail["objects_pending"]
    for permit in permits:
        permit.refresh_from_db()
        assert permit.object_erased_at is not None, permit
    assert not any(vault.path(k).exists() for k in keys)
    erased = AuditEntry.objects.filter(
        action__in=("recording.object_erased", "disposal.record_object_erased"),
        outcome="succeeded")
    assert erased.count() == len(set(
        (type(p), p.pk) for p in [*RecordingDisposal.objects.all(),
                                  *DocumentDisposal.objects.all(),
                                  *CaseFileDisposal.objects.all()]))

    # Idempotent: nothing pending, nothing done, nothing recorded; an erasure retried after
    # another run finished records no second entry.
    entries = AuditEntry.objects.count()
    job.enqueue()
    assert originals.erase_object(permits[0].pk) is True
    assert disposal.erase_record_object(permits[-1]) is True
    assert AuditEntry.objects.count() == entries
    out = io.StringIO()
    call_command("verify", "--all", stdout=out, stderr=io.StringIO())
    assert "孤立对象 0" in out.getvalue() and "异常 0" in out.getvalue()
