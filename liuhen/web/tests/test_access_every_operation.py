"""Every API operation × every role: allowed or refused as the permission matrix says
(第三条, 第十六条, 第二十六条 (三); issue 16 item 17).

The operations are enumerated from the served NinjaAPI — every module, not a hand list — and
each must have a row in ``NEEDS`` naming the permission it needs; an operation added without a
row fails ``test_every_operation_has_a_row``. Each role's actor then calls each operation on
objects of team A, where every role that holds the permission at all has it (unit-scoped roles
sit in team A, tree-scoped ones above it, bureau-wide ones at the top):

- a role without the permission is refused — 403, or 404 where the object is hidden — the body
  is the error alone, and the refusal is audited as denied naming the actor;
- a role with it is not refused (no 401/403/404 on its own unit's object; a body the service
  then finds wrong may still answer 400/409/422), and never gets a 5xx.

Party copies and supplies (第十七条) are in the matrix with their real rules: the register is
read with ``disclosure.view``; registering, the redaction plan, making, handing over, building
and downloading what leaves the bureau need ``disclosure.register`` for the records' unit; the
decision is the leader in charge's alone (``LEADER_IN_CHARGE``, no matrix row: 第十七条第二款、
第三款, disclosure.decisions). The world holds a made party copy and a built supply of team A, so
every one of these operations meets a real object (and a download returns its bytes).

The finer rules (own unit vs. other unit with audit entries, grants and copies, device
states, the registrar never deciding their own) are tested beside each app; ``access/tests/test_permissions_matrix.py`` keeps its
own-unit/other-unit rows for the foundation endpoints.
"""

from __future__ import annotations

import functools
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import module_world
from liuhen.access.choices import Role
from liuhen.access.permissions import scope_for
from liuhen.audit.models import AuditEntry
from liuhen.core.testing import TEST_TODAY
from liuhen.org.choices import UnitKind
from liuhen.web.api import api as ninja_api

SIGNED_IN = None  # any signed-in user: what they reach is their own (tokens, requests)
USE_DEVICE = ("device.use", "device.manage")  # a device keeper may do what its users do


class Roles(frozenset):
    """A rule that names roles instead of a matrix permission."""


# 第十七条第二款 (经主管负责人批准) and 第十七条第三款: only the leader in charge decides a party copy
# or a supply; not a unit head, not the legal affairs office, not who registered it.
LEADER_IN_CHARGE = Roles({Role.BUREAU_LEADER})

# Roles that hold the permission but are refused by a finer rule, which is tested beside it.
FINER: dict[str, dict[str, str]] = {
    "liuhen_cases_records_api_post_decision": {
        Role.BUREAU_LEADER: "立案 is approved by the unit head (approvals.toml, 第五条第四款)",
        Role.LEGAL_OFFICE: "法制审核 only (行政处罚法第五十八条); 立案 is the unit head's",
    },
    "liuhen_supervision_api_show_violation": {
        Role.OFFICER: "an officer sees violations once confirmed, and his own (第二十六条)",
        Role.UNIT_HEAD: "a unit head sees violations once confirmed (第二十六条)",
    },
}
# Allowed roles may meet a 404 for an object named in the body, not in the path.
BODY_NAMES_MISSING = {
    "liuhen_cases_records_api_post_service": "document_id: the case has no document yet",
}
# Operations whose answer is a file (第十七条): the made party copy, the kept evidence package.
DOWNLOADS = ("liuhen_disclosure_api_copy_download", "liuhen_disclosure_api_supply_package")
# Field values that make a body well formed beyond its type.
FIELD_VALUES = {"to": "investigation"}

# operationId → the permission (access/permissions.py ACTIONS) a role needs for it.
NEEDS: dict[str, str | None] = {
    # org and access
    "liuhen_org_api_me": SIGNED_IN,
    "liuhen_org_api_list_units": SIGNED_IN,
    "liuhen_org_api_list_officers": "officer.view",
    "liuhen_org_api_list_tokens": SIGNED_IN,
    "liuhen_org_api_create_token": SIGNED_IN,
    "liuhen_org_api_revoke_token": SIGNED_IN,
    "liuhen_access_grant_api_my_grants": SIGNED_IN,
    "liuhen_access_grant_api_revoke": SIGNED_IN,
    "liuhen_access_grant_api_inbox": SIGNED_IN,
    "liuhen_access_grant_api_my_requests": SIGNED_IN,
    "liuhen_access_grant_api_create_request": SIGNED_IN,
    "liuhen_access_grant_api_decide": SIGNED_IN,
    "liuhen_access_grant_api_withdraw": SIGNED_IN,
    # internal copies and exports (复制、拷贝/导出, 第十六条): any role may hold a grant; what a
    # user reaches is their own, and the grant rules are tested in disclosure/tests
    # (test_use_copies.py, test_exports.py)
    "liuhen_disclosure_use_api_create_copy": SIGNED_IN,
    "liuhen_disclosure_use_api_my_copies": SIGNED_IN,
    "liuhen_disclosure_use_api_copy_detail": SIGNED_IN,
    "liuhen_disclosure_use_api_copy_download": SIGNED_IN,
    "liuhen_disclosure_use_api_create_export": SIGNED_IN,
    "liuhen_disclosure_use_api_my_exports": SIGNED_IN,
    "liuhen_disclosure_use_api_export_detail": SIGNED_IN,
    "liuhen_disclosure_use_api_export_package": SIGNED_IN,
    # party copies (第十七条第二款): the register is read with disclosure.view; the registrar's side
    # (disclosure.register for the recording's unit) registers, plans the redaction (第十七条第四款),
    # makes, hands over and downloads the copy; the leader in charge decides
    "liuhen_disclosure_api_copies": "disclosure.view",
    "liuhen_disclosure_api_copy_detail": "disclosure.view",
    "liuhen_disclosure_api_register_copy": "disclosure.register",
    "liuhen_disclosure_api_decide": LEADER_IN_CHARGE,
    "liuhen_disclosure_api_plan": "disclosure.register",
    "liuhen_disclosure_api_make": "disclosure.register",
    "liuhen_disclosure_api_hand_over": "disclosure.register",
    "liuhen_disclosure_api_copy_download": "disclosure.register",
    # supplies to a review body or a court (第十七条第三款): the same split; checking the kept
    # package against the register (复制留存) is open to whoever reads the register
    "liuhen_disclosure_api_supplies": "disclosure.view",
    "liuhen_disclosure_api_supply_detail": "disclosure.view",
    "liuhen_disclosure_api_check_supply": "disclosure.view",
    "liuhen_disclosure_api_register_supply": "disclosure.register",
    "liuhen_disclosure_api_decide_supply": LEADER_IN_CHARGE,
    "liuhen_disclosure_api_build_supply": "disclosure.register",
    "liuhen_disclosure_api_supplied": "disclosure.register",
    "liuhen_disclosure_api_supply_package": "disclosure.register",
    # cases
    "liuhen_cases_api_list_cases": "case.view",
    "liuhen_cases_api_create_case": "case.create",
    "liuhen_cases_api_get_case": "case.view",
    "liuhen_cases_api_update_case": "case.change",
    "liuhen_cases_api_transition_case": "case.transition",
    "liuhen_cases_api_list_parties": "party.view",
    "liuhen_cases_api_create_party": "party.create",
    "liuhen_cases_api_get_party": "party.view",
    "liuhen_cases_api_list_patrols": "patrol.view",
    "liuhen_cases_api_create_patrol": "patrol.create",
    "liuhen_cases_api_get_patrol": "patrol.view",
    "liuhen_cases_api_case_from_patrol": "case.create",
    # written records
    "liuhen_cases_records_api_list_documents": "document.view",
    "liuhen_cases_records_api_post_document": "document.create",
    "liuhen_cases_records_api_post_service": "document.create",
    "liuhen_cases_records_api_list_approvals": "case.view",
    "liuhen_cases_records_api_post_approval": "case.change",
    "liuhen_cases_records_api_post_decision": "approval.decide",
    # deadlines and rules
    "liuhen_rules_deadline_api_list_deadlines": "case.view",
    "liuhen_rules_deadline_api_get_case_deadlines": "case.view",
    "liuhen_rules_deadline_api_post_deadline_fact": "document.create",
    "liuhen_cases_records_api_get_completeness": "rules.view",
    "liuhen_rules_api_list_rules": "rules.view",
    "liuhen_rules_api_get_report": "report.view",
    # recordings
    "liuhen_evidence_api_list_recordings": "recording.view",
    "liuhen_evidence_api_show_recording": "recording.view",
    "liuhen_evidence_api_recording_by_digest": "recording.view",
    "liuhen_evidence_api_list_submissions": "recording.view",
    "liuhen_evidence_api_list_fixity_checks": "recording.fixity",
    "liuhen_evidence_api_add_mark": "recording.mark",
    "liuhen_evidence_api_link_recording": "recording.link",
    "liuhen_evidence_api_list_case_links": "recording.view",
    "liuhen_evidence_api_add_case_link": "recording.link",
    "liuhen_evidence_api_end_case_link": "recording.link",
    # devices
    "liuhen_evidence_api_list_devices": "device.view",
    "liuhen_evidence_api_register_device": "device.manage",
    "liuhen_evidence_api_show_device": "device.view",
    "liuhen_evidence_api_device_history": "device.view",
    "liuhen_evidence_api_device_assign": "device.manage",
    "liuhen_evidence_api_device_check_out": USE_DEVICE,
    "liuhen_evidence_api_device_return": USE_DEVICE,
    "liuhen_evidence_api_device_check": USE_DEVICE,
    "liuhen_evidence_api_device_report_fault": USE_DEVICE,
    "liuhen_evidence_api_device_maintain": "device.manage",
    "liuhen_evidence_api_device_start_repair": "device.manage",
    "liuhen_evidence_api_device_finish_repair": "device.manage",
    "liuhen_evidence_api_device_put_in_service": "device.manage",
    "liuhen_evidence_api_device_retire": "device.manage",
    # audit and supervision
    "liuhen_audit_api_list_entries": "audit.view",
    "liuhen_audit_api_verify_chain": "audit.view",
    "liuhen_supervision_api_list_violations": "violation.view",
    "liuhen_supervision_api_show_violation": "violation.view",
    "liuhen_supervision_api_report_violation": "violation.handle",
    "liuhen_supervision_api_detect": "violation.handle",
    "liuhen_supervision_api_confirm": "violation.handle",
    "liuhen_supervision_api_dismiss": "violation.handle",
    "liuhen_supervision_api_take_measure": "violation.handle",
    "liuhen_supervision_api_close": "violation.handle",
    # circulars (第二十四条): every role reads published ones; the legal affairs office makes them
    "liuhen_supervision_api_list_circulars": "circular.view",
    "liuhen_supervision_api_show_circular": "circular.view",
    "liuhen_supervision_api_create_circular": "circular.manage",
    "liuhen_supervision_api_publish_circular": "circular.manage",
    # disposal (第十四条): the records keeper proposes and executes, the unit head and the legal
    # affairs office approve
    "liuhen_keeping_api_candidates": "disposal.propose",
    "liuhen_keeping_api_registers": "disposal.view",
    "liuhen_keeping_api_propose": "disposal.propose",
    "liuhen_keeping_api_register_detail": "disposal.view",
    "liuhen_keeping_api_decide": "disposal.approve",
    "liuhen_keeping_api_execute": "disposal.execute",
    "liuhen_keeping_api_register_pdf_download": "disposal.view",
}

ACTOR_UNIT = {Role.OFFICER: "team_a", Role.UNIT_HEAD: "team_a", Role.RECORDS_KEEPER: "team_a",
              Role.DEVICE_KEEPER: "detachment", Role.BUREAU_LEADER: "bureau",
              Role.LEGAL_OFFICE: "bureau", Role.ADMIN: "bureau"}


@functools.cache
def _document():
    return ninja_api.get_openapi_schema(path_prefix="api/")


def _operations():
    return [(operation["operationId"], method, path, operation)
            for path, operations in _document()["paths"].items()
            for method, operation in operations.items()]


OPERATIONS = _operations()


def test_every_operation_has_a_row():
    """Enumerated from the router: a new operation needs a row in NEEDS (and so this matrix)."""
    found = {op_id for op_id, *_ in OPERATIONS}
    assert found == set(NEEDS), found ^ set(NEEDS)
    from liuhen.access.permissions import ACTIONS

    needed = set()
    for need in NEEDS.values():
        if isinstance(need, Roles):
            assert need <= set(Role), need
            continue
        needed |= set(need if isinstance(need, tuple) else (need,) if need else ())
    assert needed <= set(ACTIONS)


def _holds(role, need) -> bool:
    if isinstance(need, Roles):
        return role in need
    return any(scope_for(role, action) for action in (need if isinstance(need, tuple) else (need,)))


# ---------------------------------------------------------------- the bureau, built once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from liuhen.access import grants
    from liuhen.access.services import create_token
    from liuhen.cases import services as cases
    from liuhen.cases.tests.factories import make_case, make_party
    from liuhen.devices import services as devices
    from liuhen.disclosure import decisions as disclosure_decisions
    from liuhen.disclosure import services as disclosure
    from liuhen.disclosure import supply as supplies
    from liuhen.disclosure.choices import CopyStatus, SupplyStatus
    from liuhen.disclosure.models import PartyCopy, Supply
    from liuhen.evidence import links
    from liuhen.evidence.digests import digest_file
    from liuhen.evidence.storage import derived_key, get_storage
    from liuhen.keeping.models import DisposalList
    from liuhen.org.tests.factories import OfficerFactory, UnitFactory
    from liuhen.records import services as records
    from liuhen.records.choices import ApprovalAction
    from liuhen.supervision import circulars
    from liuhen.supervision import services as supervision
    from liuhen.supervision.tests.factories import make_recording

    with module_world(django_db_blocker, tmp_path_factory.mktemp("every-operation")) as folder:
        top = UnitFactory(name="全接口测试局", kind=UnitKind.BUREAU, case_number_prefix="全人社")
        detachment = UnitFactory(name="监察支队", parent=top)
        units = {"bureau": top, "detachment": detachment,
                 "team_a": UnitFactory(name="一大队", parent=detachment, kind=UnitKind.TEAM)}
        actors = {role: OfficerFactory(unit=units[ACTOR_UNIT[role]], role=role) for role in Role}
        officer = actors[Role.OFFICER]
        colleague = OfficerFactory(unit=units["team_a"])
        party = make_party(actor=officer.user, unit=units["team_a"])
        case = make_case(actor=officer.user, unit=units["team_a"], officers=[officer, colleague],
                         parties=[party])
        patrol = cases.create_patrol(actor=officer.user, unit=units["team_a"], date=TEST_TODAY,
                                     area="开发区", officer_ids=[officer.pk, colleague.pk])
        device = devices.register_device(actor=actors[Role.DEVICE_KEEPER].user, number="DSJ-全-1",
                                         kind="body_camera", unit=units["team_a"])
        recording = make_recording(officer=officer, captured=timezone.now() - timedelta(days=1))
        link = links.add_case_link(actor=officer.user, recording=recording, case=case,
                                   reason="本案现场")
        violation = supervision.report_violation(actor=actors[Role.LEGAL_OFFICE].user,
                                                 unit=units["team_a"], description="测试事项")
        circular = circulars.publish_circular(
            actor=actors[Role.LEGAL_OFFICE].user, text="通报正文",
            circular=circulars.create_circular(actor=actors[Role.LEGAL_OFFICE].user,
                                               kind="month", day=TEST_TODAY))
        approval = records.request_approval(actor=officer.user, case=case,
                                            action=ApprovalAction.FILING)
        access_request = grants.create_request(
            requester=actors[Role.OFFICER].user, target_type="cases.case", target_id=case.pk,
            actions=["view"], reason="办案需要",
            wanted_until=TEST_TODAY + timedelta(days=3))
        register = DisposalList.objects.create(
            number="XH-全-1", unit=units["team_a"], as_of=TEST_TODAY,
            proposed_by=actors[Role.RECORDS_KEEPER].user)
        tokens = {role: create_token(user=actor.user, name="测试")[0]
                  for role, actor in actors.items()}
        # 第十七条第二款: a party copy registered by the officer, approved by the leader in charge,
        # made (its watermarked file in the vault), not yet handed over.
        party_copy = disclosure.register_party_copy(
            actor=officer.user, recording=recording, recipient_name="王某",
            identity_check="id_card", reason="当事人申请复制")
        disclosure_decisions.decide(kind=disclosure_decisions.PARTY_COPY,
                                    approver=actors[Role.BUREAU_LEADER].user, pk=party_copy.pk,
                                    approve=True)
        made = folder / "copy.mp4"
        made.write_bytes(b"watermarked copy " * 256)
        storage = get_storage()
        staged = storage.stage(made)
        copy_key = derived_key(recording.sha256, f"party-copy-{party_copy.pk}.mp4")
        storage.commit(staged, copy_key)
        staged.discard()
        made_digests = digest_file(made)
        PartyCopy.objects.filter(pk=party_copy.pk).update(
            status=CopyStatus.MADE, copy_key=copy_key, copy_sha256=made_digests.sha256,
            copy_sm3=made_digests.sm3, copy_size=made_digests.size, made_at=timezone.now(),
            made_by=officer.user)
        # 第十七条第三款: a supply registered by the officer, approved, built (its kept ZIP in
        # place), not yet handed to the court.
        supplied = supplies.register_supply(
            actor=officer.user, case=case, body_kind="court", body_name="某区人民法院",
            letter_number="（2026）测行初1号", received_on=TEST_TODAY)
        disclosure_decisions.decide(kind=disclosure_decisions.SUPPLY,
                                    approver=actors[Role.BUREAU_LEADER].user, pk=supplied.pk,
                                    approve=True)
        package_id = f"SUPPLY-{supplied.pk:06d}-TEST"
        kept = folder / "supplied" / f"{package_id}.zip"
        kept.write_bytes(b"PK kept package " * 64)
        kept_digests = digest_file(kept)
        Supply.objects.filter(pk=supplied.pk).update(
            status=SupplyStatus.BUILT, package_id=package_id,
            package_path=str(folder / "supplied" / package_id), zip_sha256=kept_digests.sha256,
            zip_sm3=kept_digests.sm3, zip_size=kept_digests.size, built_at=timezone.now(),
            built_by=officer.user)
        ids = {"case_id": case.pk, "party_id": party.pk, "patrol_id": patrol.pk,
               "device_id": device.pk, "recording_id": recording.pk, "link_id": link.pk,
               "violation_id": violation.pk, "circular_id": circular.pk,
               "approval_id": approval.pk, "register_id": register.pk,
               "request_id": access_request.pk, "grant_id": 2_000_000_000,
               "sha256": recording.sha256, "unit_id": units["team_a"].pk,
               "officer_id": officer.pk, "holder_id": officer.pk, "copy_id": party_copy.pk,
               "supply_id": supplied.pk, "export_id": 2_000_000_000}
        yield {"actors": actors, "ids": ids, "tokens": tokens, "case": case, "party": party,
               "officer_ids": [officer.pk, colleague.pk], "evidence_dir": folder / "evidence",
               "downloads": dict(zip(DOWNLOADS, (made.read_bytes(), kept.read_bytes()),
                                     strict=True))}


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _value(name: str, schema: dict, world, components):
    """A well-formed value of a body field, pointing at team A's objects where it names one."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _value(name, options[0], world, components)
    if "enum" in schema:
        return schema["enum"][0]
    if name in FIELD_VALUES and schema.get("type") == "string":
        return FIELD_VALUES[name]
    kind = schema.get("type")
    if kind == "array":
        return [_value(name.removesuffix("s"), schema.get("items", {}), world, components)]
    if kind == "object":
        return {key: _value(key, sub, world, components)
                for key, sub in schema.get("properties", {}).items()
                if key in schema.get("required", ())}
    if kind == "integer":
        key = name if name.endswith("_id") else f"{name}_id"
        if name in ("officer_id", "officer_ids", "officer"):
            return world["officer_ids"][0]
        return world["ids"].get(key, 1)
    if kind == "boolean":
        return True
    if kind == "number":
        return 1
    if schema.get("format") == "date":
        return str(TEST_TODAY)
    if schema.get("format") == "date-time":
        return timezone.now().isoformat()
    return "测试"[: schema.get("maxLength", 2)]


def _path_ids(world, role) -> dict:
    return dict(world["ids"], token_id=world["tokens"][role].pk)


def _call(client, method, path, operation, world, role):
    ids = _path_ids(world, role)
    url = path
    for key, value in ids.items():
        url = url.replace("{" + key + "}", str(value))
    document = _document()
    components = document["components"]["schemas"]
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        from django.core.files.uploadedfile import SimpleUploadedFile

        schema = _resolve(content["multipart/form-data"]["schema"], components)
        data = {key: _value(key, sub, world, components)
                for key, sub in schema.get("properties", {}).items()
                if key in schema.get("required", ())}
        data = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
        data["file"] = SimpleUploadedFile("记录.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        return client.post(url, data=data)
    if "application/json" in content:
        body = _value("body", content["application/json"]["schema"], world, components)
        return getattr(client, method)(url, data=body, content_type="application/json")
    return getattr(client, method)(url)


@pytest.mark.parametrize(("op_id", "method", "path", "operation"), OPERATIONS,
                         ids=[op_id.removeprefix("liuhen_") for op_id, *_ in OPERATIONS])
def test_every_role_on_every_operation(world, db, settings, op_id, method, path, operation):
    settings.EVIDENCE_DIR = world["evidence_dir"]  # the world's vault, with the made copy
    need = NEEDS[op_id]
    for role in Role:
        actor = world["actors"][role]
        client = Client(raise_request_exception=False)
        client.force_login(actor.user)
        before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        with transaction.atomic():
            response = _call(client, method, path, operation, world, role)
            entries = list(AuditEntry.objects.filter(seq__gt=before))
            transaction.set_rollback(True)
        status = response.status_code
        content = (b"".join(response.streaming_content) if response.streaming
                   else response.content)  # a download streams the file itself
        if getattr(response, "file_to_stream", None) is not None:
            # the file only: response.close() would signal request_finished, which closes the
            # database connection inside the world's transaction
            response.file_to_stream.close()
        where = (op_id, role, status, content[:300])
        assert status < 500 and status != 401, where
        if need is SIGNED_IN:
            continue
        if not _holds(role, need) or role in FINER.get(op_id, {}):
            assert status in (403, 404), where
            body = response.json()
            assert set(body) <= {"code", "message", "detail", "request_id"}, where
            assert world["case"].number not in content.decode(), where
            denied = [e for e in entries if e.outcome == "denied"]
            assert denied, f"{op_id} refused {role} without a denied audit entry"
            assert denied[-1].actor_id == actor.user.pk and denied[-1].reason, where
            # 第二十六条 (三): a refusal about one object names it (the object in the path)
            named = {str(value) for key, value in _path_ids(world, role).items()
                     if "{" + key + "}" in path}
            if named:
                assert {e.object_id for e in denied if e.actor_id == actor.user.pk} & named, (
                    *where, [(e.object_type, e.object_id) for e in denied])
        else:
            assert status != 403, where
            assert status != 404 or op_id in BODY_NAMES_MISSING, where
            if method == "get":
                assert status == 200, where
            if op_id in DOWNLOADS:  # what leaves the bureau is the registered file itself
                assert content == world["downloads"][op_id], where
