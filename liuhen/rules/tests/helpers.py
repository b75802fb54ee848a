"""Helpers for the rules tests: a case walked to a stage, records added through the services."""

from __future__ import annotations

from pathlib import Path

from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.records import services as rs
from liuhen.records.choices import SignatureStatus

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def write_pdf(tmp_path: Path, name: str = "scan.pdf", salt: str = "") -> Path:
    path = tmp_path / name
    path.write_bytes(PDF + salt.encode())
    return path


def penalty_case(people, *, kind=CaseKind.PENALTY, **facts) -> Case:
    officer = people["officer_a"]
    party = make_party(actor=officer.user, unit=officer.unit)
    return make_case(
        actor=officer.user,
        unit=officer.unit,
        officers=[officer, people["officer_a2"]],
        kind=kind,
        parties=[party],
        **facts,
    )


def walk(case: Case, to_stage: str, actor) -> Case:
    """Move a case forward along its lawful steps up to ``to_stage`` (no archiving): each move
    is the one ``stages.allowed_next`` offers (steps that do not apply are passed over)."""
    from liuhen.cases import stages

    order = stages.path(case.kind)
    while order.index(case.stage) < order.index(to_stage):
        options = stages.allowed_next(case)
        assert options, f"no lawful move from {case.stage} towards {to_stage}"
        case = case_services.move_case(actor=actor, case=case, to_stage=options[0])
    return case


def doc(case, people, doc_type, *, signature=SignatureStatus.SIGNED, **kwargs):
    return rs.add_document(
        actor=people["officer_a"].user, case=case, doc_type=doc_type, signature=signature, **kwargs
    )


def approve(case, people, action, *, requirement_code="", reason=""):
    approval = rs.request_approval(
        actor=people["officer_a"].user,
        case=case,
        action=action,
        requirement_code=requirement_code,
        reason=reason,
    )
    return rs.decide_approval(
        actor=approver_for(people, action).user, approval=approval, approve=True, opinion="同意"
    )


def approver_for(people, action):
    """Who the law lets approve ``action`` (approvals.toml): the unit head where a unit head
    may, else the bureau leader (行政机关负责人), or the legal office for 法制审核."""
    roles = rs.approval_authority()[action]
    if "unit_head" in roles:
        return people["head_a"]
    if "bureau_leader" in roles:
        return people["leader"]
    return people["legal"]


def statuses(case) -> dict[str, str]:
    from liuhen.rules.models import CaseCompleteness

    snap = CaseCompleteness.objects.get(case=case)
    return {item["id"]: item["status"] for item in snap.items}


# --- fixtures (imported by the test modules that need them) ------------------------------

import itertools  # noqa: E402
from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402

_photo_counter = itertools.count(1)


def add_recording(case, actor, tmp_path, *labels):
    """A real JPEG (made by PyAV/Pillow) stored through the vault's ingest with the case, and
    marked with ``labels`` through the vault's mark service."""
    from liuhen.evidence.services import add_mark, ingest_recording
    from liuhen.evidence.tests import mediafactory

    n = next(_photo_counter)
    path = mediafactory.make_jpeg_with_exif(
        tmp_path / f"IMG_{n}.jpg", taken_at=timezone.now() - timedelta(hours=1, seconds=n)
    )
    recording = ingest_recording(
        source_path=path, original_name=path.name, actor=actor, channel="web", case=case
    ).recording
    for label in labels:
        add_mark(actor=actor, recording=recording, offset_seconds=0, label=label)
    return recording
