"""Legal holds and lawful disposal (第十四条): the monthly list (past the date, not held), the
destruction register proposed by the records keeper and approved by the unit head and the
legal affairs office, executed through the vault's tombstone path; ``liuhen verify --all``
afterwards reports no orphan and nothing missing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.evidence import links
from liuhen.evidence.models import Recording
from liuhen.keeping import disposal, holds
from liuhen.keeping.choices import DisposalItemOutcome, DisposalStatus
from liuhen.keeping.pdf import register_pdf

pytestmark = pytest.mark.django_db

PAST_SIX_MONTHS = timedelta(days=200)


@pytest.fixture
def old_recordings(stored_recording, frozen_clock):
    """Factory: ``n`` recordings stored now, then the clock moved 200 days on (第十四条: a
    patrol recording's 6 months have passed)."""

    def make(n=1):
        recs = [stored_recording() for _ in range(n)]
        frozen_clock.shift(PAST_SIX_MONTHS)
        return recs

    return make


def _ids(found):
    return {c.recording.pk for c in found}


def _approve_both(people, register):
    disposal.approve(actor=people["head_a"].user, register=register, opinion="同意")
    return disposal.approve(actor=people["legal"].user, register=register, opinion="经审核同意")


def test_monthly_list_leaves_out_held_recent_and_linked_to_open_cases(
        people, new_case, stored_recording, old_recordings):
    keeper = people["keeper_a"].user
    free, held, on_held_case, evidence = old_recordings(4)
    # Captured after the clock moved: its 6 months are not over.
    recent = stored_recording(captured=timezone.now() - timedelta(hours=2))
    hold = holds.place_hold(actor=people["legal"].user, kind="review", reason="当事人申请行政复议",
                            reference="复议〔2027〕3号", recording=held)
    case = new_case("penalty")
    links.add_case_link(actor=people["officer_a"].user, recording=on_held_case, case=case,
                        reason="证据")
    holds.place_hold(actor=keeper, kind="lawsuit", reason="行政诉讼", case=case)
    open_case = new_case("coercion")
    links.add_case_link(actor=people["officer_a"].user, recording=evidence, case=open_case,
                        reason="证据")  # 第十四条第二款: kept with a file not yet archived
    found = _ids(disposal.candidates(user=keeper))
    assert free.pk in found
    assert not found & {held.pk, on_held_case.pk, evidence.pk, recent.pk}
    with pytest.raises(InvalidInput, match="不在本月可销毁清单中"):
        disposal.propose(actor=keeper, recording_ids=[held.pk])
    with pytest.raises(InvalidInput, match="理由"):
        holds.release_hold(actor=keeper, hold=hold, reason=" ")
    holds.release_hold(actor=people["legal"].user, hold=hold, reason="复议维持，程序终结")
    assert held.pk in _ids(disposal.candidates(user=keeper))
    # An officer's role may not propose; the records keeper of another unit does not see it.
    assert AuditEntry.objects.filter(action="hold.released").exists()


def test_hold_needs_reason_and_scope(people, stored_recording):
    rec = stored_recording()
    with pytest.raises(InvalidInput):
        holds.place_hold(actor=people["legal"].user, kind="review", reason="", recording=rec)
    with pytest.raises(InvalidInput):
        holds.place_hold(actor=people["legal"].user, kind="vacation", reason="x", recording=rec)
    with pytest.raises(Forbidden):
        holds.place_hold(actor=people["officer_a"].user, kind="review", reason="x",
                         recording=rec)
    assert AuditEntry.objects.filter(action="hold.refused", outcome="denied").exists()


def test_disposal_walk_register_pdf_and_verify(people, old_recordings, vault,
                                               django_capture_on_commit_callbacks):
    keeper = people["keeper_a"].user
    rec_a, rec_b = old_recordings(2)
    register = disposal.propose(actor=keeper, recording_ids=[rec_a.pk, rec_b.pk],
                                note="2027年6月清理")
    assert register.number.startswith(f"XH-{timezone.localdate():%Y%m}-")
    assert register.items.get(recording=rec_a).retention["rule"] == "recording.patrol"
    # Already on an open register: not listed again.
    assert not _ids(disposal.candidates(user=keeper)) & {rec_a.pk, rec_b.pk}
    with pytest.raises(Forbidden):
        disposal.approve(actor=people["officer_a"].user, register=register)
    register = _approve_both(people, register)
    assert register.status == DisposalStatus.APPROVED
    with pytest.raises(Conflict):
        disposal.approve(actor=people["legal"].user, register=register)
    with django_capture_on_commit_callbacks(execute=True):
        register = disposal.execute(actor=keeper, register=register)
    assert register.status == DisposalStatus.EXECUTED
    for rec in (rec_a, rec_b):
        rec.refresh_from_db()
        assert rec.disposed_at is not None and rec.disposal_register == register.number
        assert rec.disposal.legal_approved_by == people["legal"].user
        assert rec.disposal.retention["rule"] == "recording.patrol"
        assert not vault.path(rec.storage_key).exists()
    assert set(register.items.values_list("outcome", flat=True)) == {DisposalItemOutcome.DISPOSED}
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"disposal.proposed", "disposal.approved", "disposal.executed",
            "recording.disposed", "recording.object_erased"} <= actions

    # 销毁清册 PDF: read back, CJK text extractable, digests of every item in it.
    reader = PdfReader(io.BytesIO(register_pdf(register)))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "销毁清册" in text and register.number in text and "第十四条" in text
    compact = text.replace("\n", "")
    assert rec_a.sha256 in compact and rec_b.sm3 in compact

    # liuhen verify --all: the tombstones are neither orphans nor missing.
    out, err = io.StringIO(), io.StringIO()
    call_command("verify", "--all", stdout=out, stderr=err)
    assert "孤立对象" not in err.getvalue() and "缺失" not in err.getvalue()


def test_execution_without_both_approvals_is_refused(people, old_recordings):
    keeper = people["keeper_a"].user
    (rec,) = old_recordings(1)
    register = disposal.propose(actor=keeper, recording_ids=[rec.pk])
    with pytest.raises(InvalidInput, match="双方批准"):
        disposal.execute(actor=keeper, register=register)
    disposal.approve(actor=people["head_a"].user, register=register, opinion="同意")
    with pytest.raises(InvalidInput, match="双方批准"):
        disposal.execute(actor=keeper, register=register)
    rec.refresh_from_db()
    assert rec.disposed_at is None
    assert AuditEntry.objects.filter(action="disposal.refused", outcome="denied").count() == 2
    with pytest.raises(Forbidden):
        disposal.execute(actor=people["officer_a"].user, register=register)


def test_a_rejected_register_cannot_be_executed(people, old_recordings):
    keeper = people["keeper_a"].user
    (rec,) = old_recordings(1)
    register = disposal.propose(actor=keeper, recording_ids=[rec.pk])
    with pytest.raises(InvalidInput):
        disposal.reject(actor=people["legal"].user, register=register, opinion="")
    disposal.reject(actor=people["legal"].user, register=register, opinion="涉及未结信访")
    with pytest.raises(InvalidInput):
        disposal.execute(actor=keeper, register=register)
    # Off the open registers: listed again next month.
    assert rec.pk in _ids(disposal.candidates(user=keeper))


def test_a_hold_placed_after_approval_keeps_the_item(people, old_recordings,
                                                     django_capture_on_commit_callbacks):
    keeper = people["keeper_a"].user
    rec_a, rec_b = old_recordings(2)
    register = _approve_both(people, disposal.propose(actor=keeper,
                                                      recording_ids=[rec_a.pk, rec_b.pk]))
    holds.place_hold(actor=people["legal"].user, kind="complaint", reason="当事人投诉",
                     recording=rec_b)
    with django_capture_on_commit_callbacks(execute=True):
        disposal.execute(actor=keeper, register=register)
    item = register.items.get(recording=rec_b)
    assert item.outcome == DisposalItemOutcome.SKIPPED and "已冻结" in item.outcome_note
    assert Recording.objects.get(pk=rec_b.pk).disposed_at is None
    assert Recording.objects.get(pk=rec_a.pk).disposed_at is not None


def test_pages_walk(client, people, old_recordings, django_capture_on_commit_callbacks):
    (rec,) = old_recordings(1)
    client.force_login(people["officer_a"].user)
    assert client.get("/keeping/disposal/").status_code == 403
    client.force_login(people["keeper_a"].user)
    page = client.get("/keeping/disposal/").content.decode()
    assert f'data-recording="{rec.pk}"' in page and "第十四条第一款" in page
    response = client.post("/keeping/disposal/", {"recording": [rec.pk], "note": "月度清理"})
    assert response.status_code == 302
    url = response["Location"]
    for who in ("head_a", "legal"):
        client.force_login(people[who].user)
        assert "批准" in client.get(url).content.decode()
        assert client.post(url, {"step": "approve", "opinion": "同意"}).status_code == 302
    client.force_login(people["keeper_a"].user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"step": "execute"}).status_code == 302
    page = client.get(url).content.decode()
    assert "已执行" in page and "已销毁" in page
    pdf = client.get(f"{url}pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="disposal.register_printed").exists()


def test_holds_page_place_and_release(client, people, new_case):
    case = new_case("penalty")
    client.force_login(people["legal"].user)
    response = client.post("/keeping/holds/", {"kind": "lawsuit", "case_number": case.number,
                                               "reason": "当事人提起行政诉讼",
                                               "reference": "（2027）冀01行初5号"})
    assert response.status_code == 302
    hold = case.legal_holds.get()
    page = client.get("/keeping/holds/").content.decode()
    assert "当事人提起行政诉讼" in page and case.number in page
    assert "已冻结（行政诉讼" in client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(f"/keeping/holds/{hold.pk}/release/", {"reason": ""})
    assert response.status_code == 400 and "解除冻结须写明理由" in response.content.decode()
    client.post(f"/keeping/holds/{hold.pk}/release/", {"reason": "判决生效"})
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.release_reason == "判决生效"
    response = client.post("/keeping/holds/", {"kind": "lawsuit", "case_number": "不存在",
                                               "reason": "x"})
    assert response.status_code == 404 and "没有找到该案件编号" in response.content.decode()
