"""API of lawful disposal (第十四条): the monthly list, the records keeper's proposal, the unit
head's and the legal affairs office's approvals (or refusal), the execution through the
tombstone path, the registers and the 销毁清册 PDF, with every refusal of the pages: a record not
on the list, a role that may not act, the proposer approving, a second approval by the same
office, execution before both approvals, a register of another unit. The same services as the
pages: the audit entries prove it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from conftest import last_entry
from liuhen.evidence.models import Recording
from liuhen.keeping import holds

pytestmark = pytest.mark.django_db

URL = "/api/keeping/disposal"


@pytest.fixture
def old_recordings(stored_recording, frozen_clock):
    """Factory: ``n`` recordings stored now, then the clock moved 200 days on (第十四条: a
    patrol recording's six months have passed)."""

    def make(n=1):
        recs = [stored_recording() for _ in range(n)]
        frozen_clock.shift(timedelta(days=200))
        return recs

    return make


def test_disposal_walk_through_the_api(people, api, old_recordings, vault,
                                       django_capture_on_commit_callbacks):
    rec_a, rec_b, held = old_recordings(3)
    holds.place_hold(actor=people["legal"].user, kind="review", reason="当事人申请行政复议",
                     recording=held)
    keeper, head, legal = api(people["keeper_a"]), api(people["head_a"]), api(people["legal"])

    listed = keeper.get(f"{URL}/candidates")
    assert listed.status_code == 200, listed.content
    found = {c["recording_id"]: c for c in listed.json()["recordings"]}
    assert {rec_a.pk, rec_b.pk} <= set(found) and held.pk not in found  # 冻结的不列入
    assert found[rec_a.pk]["retention"]["rule"] == "recording.patrol"
    assert last_entry("disposal.listed").actor_id == people["keeper_a"].user.pk

    # Not on the list (held): refused, audited, nothing created.
    refused = keeper.post(f"{URL}/registers", {"recording_ids": [rec_a.pk, held.pk]})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_input"
    assert "不在本月可销毁清单中" in refused.json()["message"]
    assert last_entry("disposal.refused").outcome == "denied"
    assert keeper.get(f"{URL}/registers").json() == []
    # Nothing chosen; ids that are no ids.
    assert keeper.post(f"{URL}/registers", {}).status_code == 400
    assert keeper.post(f"{URL}/registers", {"recording_ids": [0]}).status_code == 422

    created = keeper.post(f"{URL}/registers", {"recording_ids": [rec_a.pk, rec_b.pk],
                                               "note": "到期巡查录像"})
    assert created.status_code == 201, created.content
    register = created.json()
    rid = register["id"]
    assert register["status"] == "proposed" and register["status_label"] == "已提出，待批准"
    assert sorted(i["recording_id"] for i in register["items"]) == sorted([rec_a.pk, rec_b.pk])
    assert {i["kind"] for i in register["items"]} == {"recording"}
    assert last_entry("disposal.proposed").object_id == str(rid)

    # Execution before both approvals: refused; an officer does not even see the register
    # (404, as for a missing one); the proposer (a records keeper) is no approver; a refusal
    # needs an opinion.
    assert keeper.post(f"{URL}/registers/{rid}/execute").status_code == 400
    assert api(people["officer_a"]).post(f"{URL}/registers/{rid}/decision",
                                         {"decision": "approve"}).status_code == 404
    assert keeper.post(f"{URL}/registers/{rid}/decision",
                       {"decision": "approve"}).status_code == 403
    assert head.post(f"{URL}/registers/{rid}/decision",
                     {"decision": "reject"}).status_code == 400
    assert head.post(f"{URL}/registers/{rid}/decision",
                     {"decision": "maybe"}).status_code == 422

    one = head.post(f"{URL}/registers/{rid}/decision", {"decision": "approve", "opinion": "同意"})
    assert one.status_code == 200 and one.json()["status"] == "proposed"
    assert one.json()["head_by_id"] == people["head_a"].user.pk
    assert keeper.post(f"{URL}/registers/{rid}/execute").status_code == 400  # one of two
    both = legal.post(f"{URL}/registers/{rid}/decision",
                      {"decision": "approve", "opinion": "经审核同意"})
    assert both.status_code == 200 and both.json()["status"] == "approved"
    # No longer awaiting approval: 409.
    again = legal.post(f"{URL}/registers/{rid}/decision", {"decision": "approve"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"

    with django_capture_on_commit_callbacks(execute=True):
        done = keeper.post(f"{URL}/registers/{rid}/execute")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "executed"
    assert {i["outcome"] for i in done.json()["items"]} == {"disposed"}
    for rec in (rec_a, rec_b):
        rec = Recording.objects.get(pk=rec.pk)
        assert rec.disposed_at and rec.disposal_register == register["number"]
        assert not vault.path(rec.storage_key).exists()
    assert last_entry("disposal.executed").detail["tally"]["disposed"] == 2
    executed_again = keeper.post(f"{URL}/registers/{rid}/execute")
    assert executed_again.status_code == 409

    detail = head.get(f"{URL}/registers/{rid}")
    assert detail.status_code == 200 and detail.json()["legal_opinion"] == "经审核同意"
    assert last_entry("disposal.register_viewed").actor_id == people["head_a"].user.pk
    assert [r["id"] for r in legal.get(f"{URL}/registers").json()] == [rid]
    pdf = keeper.get(f"{URL}/registers/{rid}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "销毁清册" in text and register["number"] in text
    assert last_entry("disposal.register_printed").outcome == "succeeded"


def test_refusals_of_roles_and_units(people, api, old_recordings):
    (rec,) = old_recordings(1)
    keeper = api(people["keeper_a"])
    rid = keeper.post(f"{URL}/registers", {"recording_ids": [rec.pk]}).json()["id"]
    # An officer neither lists, proposes nor executes; the legal office does not propose.
    officer = api(people["officer_a"])
    assert officer.get(f"{URL}/candidates").status_code == 403
    assert officer.post(f"{URL}/registers", {"recording_ids": [rec.pk]}).status_code == 403
    assert api(people["legal"]).post(f"{URL}/registers",
                                     {"recording_ids": [rec.pk]}).status_code == 403
    assert last_entry("disposal.refused").outcome == "denied"
    # An officer sees no register (404, as for a missing one); a missing register is 404 too.
    assert api(people["officer_b"]).get(f"{URL}/registers/{rid}").status_code == 404
    assert keeper.get(f"{URL}/registers/{rid + 1000}").status_code == 404
    # Without a session or token: 401.
    assert api().get(f"{URL}/registers").status_code == 401


def test_a_refused_register_cannot_be_approved_or_executed(people, api, old_recordings):
    (rec,) = old_recordings(1)
    keeper, legal = api(people["keeper_a"]), api(people["legal"])
    rid = keeper.post(f"{URL}/registers", {"recording_ids": [rec.pk]}).json()["id"]
    no = legal.post(f"{URL}/registers/{rid}/decision",
                    {"decision": "reject", "opinion": "证据尚在复核"})
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    assert no.json()["rejected_by_id"] == people["legal"].user.pk
    assert api(people["head_a"]).post(f"{URL}/registers/{rid}/decision",
                                      {"decision": "approve"}).status_code == 409
    assert keeper.post(f"{URL}/registers/{rid}/execute").status_code == 400
    assert Recording.objects.get(pk=rec.pk).disposed_at is None
