"""Every page × every role, on an object of the role's own unit and of another unit: the
answer the access rules give (第三条、第十六条、第十七条、第二十三条至第二十六条; issue 16 item 17).

The routes are enumerated from the URLconf — every pattern of every app, not a hand list — and
each must have a row in ``PAGES`` saying what it needs and why (the article); a URL added
without a row fails ``test_every_url_has_a_row``. The JSON API under ``/api/`` is the
every-operation matrix's (``test_access_every_operation.py``, enumerated from the router), and
Django's admin pages are one rule (staff only) checked on every registered model.

For each row, each demo role (the seven of ``Role``) and each place (its own unit: team A for the
unit-scoped roles, above it for the others; the other unit: the levy section, outside every
unit-scoped role's tree), the expected status follows from the permission matrix
(``access/permissions.py``) and the row:

- a list page: 200 for a role with the permission, 403 without it;
- a page of one object: 404 when the object is outside what the role may see — hidden exactly
  like a missing one — and 403 when it may see the object but not do what the page does;
- record content (第十六条: playing, opening a document, a case file's PDF): by right only for
  the case officers and producer, the unit head and the records keeper over the unit
  (``access/use.py BY_RIGHT``); anyone else who sees the record is refused (403) until a grant;
- a POST action: refused as above, or not refused (no 401/403/404) for a role that may;
- never a 5xx; and without a session every page but the login page, the health check and the
  icon sends the visitor to the login page.

Every refusal is audited as denied naming the actor, and a refusal about an object names that
object (type and id): the audit log must say who was refused what (第二十六条 (三)).

Roles that hold the permission but meet a finer rule (a state, who decides) are listed in
``FINER`` with the rule and where it is tested.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from conftest import module_world
from liuhen.access import grants
from liuhen.access.choices import Role
from liuhen.access.permissions import BUREAU, OWN, TREE, scope_for
from liuhen.access.services import create_token
from liuhen.audit.models import AuditEntry
from liuhen.cases import services as cases
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.testing import TEST_TODAY
from liuhen.devices import services as devices
from liuhen.disclosure import services as disclosure
from liuhen.disclosure import supply as supplies
from liuhen.evidence import links
from liuhen.evidence.storage import get_storage
from liuhen.keeping.models import ArchivePackage, CaseFile, DiscBurn, DisposalList, LegalHold
from liuhen.org.choices import UnitKind
from liuhen.org.tests.factories import OfficerFactory, UnitFactory
from liuhen.records import services as records
from liuhen.records.choices import ApprovalAction
from liuhen.supervision import circulars
from liuhen.supervision import services as supervision
from liuhen.supervision.models import SpotCheck, SpotCheckItem, TrainingSession
from liuhen.supervision.tests.factories import make_recording

# Roles: a rule naming roles, not a matrix permission; LEADER_IN_CHARGE: 第十七条第二款、第三款
from liuhen.web.tests.test_access_every_operation import (
    LEADER_IN_CHARGE,
    NEEDS,
    OPERATIONS,
    Roles,
)

SIGNED_IN = "signed-in"  # any signed-in user: what they reach is their own
PUBLIC = "public"  # no session needed


class Owner(frozenset):
    """Only these roles' actor, and only on the own place's object: what the object belongs to
    (a token, a request) or who decides it (the unit head over the record, 第十六条). The other
    place's object belongs to the levy section's officer, no actor here: hidden (404)."""


# 第十六条: record content by right (access/use.py BY_RIGHT) for the roles of the record's unit
# that the world's actors hold: the producer and case officer (the officer), the unit head over
# it (approver), the records keeper over it (第十二条、第十三条). Others need a grant.
BY_RIGHT = frozenset({Role.OFFICER, Role.UNIT_HEAD, Role.RECORDS_KEEPER})


@dataclass(frozen=True)
class Page:
    """What one URL needs: ``need`` (a permission of the matrix, ``SIGNED_IN`` or ``PUBLIC``)
    for the object ``obj`` (a world key; None for a list), which is found under ``sees``
    (``get_for``: hidden as 404 outside it; default ``need``). ``content``: the world key of
    record content the page serves (check_use, 第十六条). ``article``: where the rule comes
    from."""

    need: object
    article: str
    obj: str | None = None
    sees: str | None = None
    content: str | None = None
    method: str = "GET"
    ok: tuple[int, ...] = (200,)
    query: str = ""
    args: dict = field(default_factory=dict)
    ends_session: bool = False  # asked with a client of its own (the shared ones stay signed in)
    role_first: bool = False  # the role's permission is checked before the object: 403 first
    data: dict = field(default_factory=dict)  # a POST's form, well formed enough to reach access


G, P = "GET", "POST"
UNKNOWN = 2_000_000_000  # an id no object has
PAGES: dict[str, Page] = {
    # -- signing in, the start page, the inbox (第二十六条 (三): every login is audited)
    "login": Page(PUBLIC, "等保 2.0 三级: one login page for everyone, TOTP where required; "
                  "a signed-in user is sent on to the start page", ok=(302,)),
    "healthz": Page(PUBLIC, "operations: the load balancer's health check, no data"),
    "favicon.ico": Page(PUBLIC, "the browser's icon", ok=(301,)),
    "logout": Page(SIGNED_IN, "signing out (POST only)", method=P, ends_session=True),
    "otp_setup": Page(SIGNED_IN, "等保 2.0 三级: each user enrols their own authenticator"),
    "password_change": Page(SIGNED_IN, "OWASP ASVS 2.1: each user changes their own password"),
    "token_list": Page(SIGNED_IN, "each user's own API tokens"),
    "token_revoke": Page(Owner({Role.OFFICER}), "a token is revoked by its owner only",
                         obj="token", method=P),
    "dashboard": Page(SIGNED_IN, "each role's own start page"),
    "inbox": Page(SIGNED_IN, "what waits for this person (待办)"),
    "inbox_count": Page(SIGNED_IN, "the count in the menu"),
    # -- 第十六条: requests and grants; everyone asks, the approver decides
    "access_request_new": Page(SIGNED_IN, "第十六条: anyone may ask for a record",
                               query="?target=cases.case:{case}"),
    "access_inbox": Page(SIGNED_IN, "第十六条: the approver's requests"),
    "access_mine": Page(SIGNED_IN, "第十六条: one's own requests and grants"),
    "access_decide": Page(Owner({Role.UNIT_HEAD}), "第十六条: the unit head over the record",
                          obj="access_request", method=P,
                          data={"decision": "refuse", "note": "不予批准"}),
    "access_withdraw": Page(Owner({Role.OFFICER}), "第十六条: the requester withdraws their own",
                            obj="access_request", method=P),
    "access_revoke": Page(Owner({Role.OFFICER, Role.UNIT_HEAD}),
                          "第十六条: the grantee or its approver ends a grant", obj="grant",
                          method=P),
    # -- cases, parties, patrols (第五条至第十条)
    "case_list": Page("case.view", "第三条: cases of the role's scope"),
    "case_create": Page("case.create", "第五条: officers open cases in their unit"),
    "case_form_people": Page("case.create", "第五条: the officers a case form offers"),
    "case_detail": Page("case.view", "第三条", obj="case"),
    "case_move": Page("case.transition", "第五条至第十条: a case moves step by step",
                      obj="case", sees="case.view", method=P, data={"to": "investigation", "note": "测试"}),
    "case_edit": Page("case.change", "第五条", obj="case"),
    "party_list": Page("party.view", "个人信息保护法: parties of the role's scope"),
    "party_create": Page("party.create", "第五条"),
    "patrol_list": Page("patrol.view", "第三条: patrols of the role's scope"),
    "patrol_create": Page("patrol.create", "第三条"),
    "patrol_open_case": Page("case.create", "第五条: a case from a patrol's finding",
                             obj="patrol", sees="patrol.view"),
    # -- written records of a case (第五条至第十条, 第十二条)
    "case_records": Page("document.view", "第十二条", obj="case"),
    "case_document_add": Page("document.create", "第十二条", obj="case", method=P),
    "case_document_file": Page("document.view", "第十六条: a document's file is record content",
                               obj="case", content="document", args={"doc_id": "document"}),
    "case_approval_request": Page("case.change", "第五条第四款: approvals are asked on the case",
                                  obj="case", method=P),
    "case_approval_decide": Page("approval.decide", "第五条第四款", obj="case",
                                 sees="document.view", method=P,
                                 args={"approval_id": "approval"}),
    "case_service_add": Page("document.create", "第十条: service of documents", obj="case",
                             method=P),
    "document_generate": Page("document.create", "第十二条: documents from templates",
                              obj="case", args={"doc_type": "inquiry_record"}),
    "rules_levy_import": Page("document.create", "第十二条: levy records imported"),
    "deadline_list": Page("case.view", "行政处罚法第六十条: statutory deadlines"),
    "deadline_fact_add": Page("document.create", "行政处罚法第六十条", obj="case", method=P),
    "rules_list": Page("rules.view", "第五条至第十条: what each act must record"),
    "rules_report": Page("report.view", "第二十三条: completeness by unit"),
    # -- recordings (第十三条, 第十六条)
    "recording_list": Page("recording.view", "第三条: recordings of the role's scope"),
    "recording_upload": Page("recording.upload", "第十三条: storing within 24 hours"),
    "upload_result": Page(SIGNED_IN, "第十三条: one's own upload's outcome; another's or an "
                          "unknown id is not found", args={"upload_id": "upload_id"}, ok=(404,)),
    "recording_late": Page("recording.late_report", "第十三条: late uploads"),
    "recording_fixity": Page("recording.fixity", "第十三条: the stored originals re-read"),
    "recording_detail": Page("recording.view", "第十六条: metadata by scope, content by right",
                             obj="recording"),
    # the same address, served first by web's page with the keeping panels (第十四条)
    "recordings/<int:pk>/": Page("recording.view", "第十六条", obj="recording"),
    "recording_mark": Page("recording.mark", "第十三条: marks on a recording",
                           obj="recording", method=P),
    "recording_link": Page("recording.link", "第十四条: a recording's case", obj="recording",
                           method=P),
    "recording_case_link": Page("recording.link", "第十四条", obj="recording", method=P),
    "recording_case_unlink": Page("recording.link", "第十四条", obj="recording", method=P,
                                  args={"link_id": "link"}),
    "recording_original": Page("recording.view", "第十六条: playing is use of the record",
                               obj="recording", content="recording", ok=(200, 206)),
    # derived media: none made in this world (the bytes by right and by grant:
    # evidence/tests/test_record_use.py with real derivatives); hidden outside the scope
    "recording_proxy": Page("recording.view", "第十六条", obj="recording", ok=(404,)),
    "recording_poster": Page("recording.view", "第十六条", obj="recording", ok=(404,)),
    "recording_thumbnail": Page("recording.view", "第十六条", obj="recording",
                                args={"index": 0}, ok=(404,)),
    # tus (第十三条): OPTIONS is the protocol's discovery, open to any signed-in client; an
    # upload is its uploader's alone (another's or an unknown id: 404); creating one needs
    # recording.upload (test_tus.py)
    "tus_uploads": Page(SIGNED_IN, "第十三条: uploads over tus (OPTIONS)", method="OPTIONS",
                        ok=(204,)),
    "api/uploads": Page(SIGNED_IN, "第十三条: the same without the slash", method="OPTIONS",
                        ok=(204,)),
    "tus_upload": Page(SIGNED_IN, "第十三条: one's own upload", args={"upload_id": "upload_id"},
                       method="HEAD", ok=(404,)),
    "api/uploads/<uuid:upload_id>/": Page(SIGNED_IN, "第十三条", args={"upload_id": "upload_id"},
                                          method="HEAD", ok=(404,)),
    "tus_upload_result": Page(SIGNED_IN, "第十三条", args={"upload_id": "upload_id"},
                              ok=(404,)),
    # -- keeping (第十二条, 第十四条, 第十五条)
    "keeping_retention_table": Page(SIGNED_IN, "第十四条: the retention table is public "
                                    "within the bureau; changing it is retention.change"),
    "keeping_holds": Page("hold.view", "第十四条: holds stop disposal"),
    "keeping_hold_release": Page("hold.manage", "第十四条", obj="hold", method=P),
    "keeping_disposal": Page("disposal.view", "第十四条: the disposal list"),
    "keeping_disposal_register": Page("disposal.view", "第十四条: 销毁清册",
                                      obj="disposal_register"),
    "keeping_disposal_register_pdf": Page("disposal.view", "第十四条",
                                          obj="disposal_register"),
    "keeping_case_file_assemble": Page("casefile.assemble", "第十二条: 立卷", obj="case",
                                       sees="case.view", method=P),
    "keeping_case_file_bind": Page("casefile.bind", "第十二条: the records keeper binds",
                                   obj="case_file", sees="case.view", method=P),
    "keeping_case_file_pdf": Page("document.view", "第十六条: the case file is record content "
                                  "(a draft without its PDF here: 404 once allowed)",
                                  obj="case_file", content="case", ok=(404,)),
    "keeping_case_long_term": Page("longterm.mark", "第十五条", obj="case", sees="case.view",
                                   method=P, data={"reason": "objection", "note": "当事人有异议"}),
    "keeping_recording_long_term": Page("longterm.mark", "第十五条", obj="recording",
                                        sees="recording.view", method=P, data={"reason": "objection", "note": "当事人有异议"}),
    "keeping_packages": Page("casefile.bind", "第十五条: archive packages"),
    "keeping_package_verify": Page("casefile.bind", "第十五条: 四性检测", obj="package",
                                   method=P, role_first=True),
    "keeping_package_report": Page("casefile.bind", "第十五条", obj="package",
                                   args={"fmt": "json"}, role_first=True),
    "keeping_burn_image": Page("casefile.bind", "第十五条: the disc image (none written here)",
                               obj="burn", role_first=True, ok=(404,)),
    "keeping_burns": Page("casefile.bind", "第十五条: 光盘刻录登记"),
    "keeping_burn_check": Page("casefile.bind", "第十五条", obj="burn", method=P, role_first=True),
    "keeping_burns_export": Page("casefile.bind", "第十五条"),
    # -- what leaves the bureau (第十七条)
    "disclosure_index": Page("disclosure.view", "第十七条: the copy register"),
    "disclosure_copy_new": Page("disclosure.register", "第十七条第二款",
                                query="?recording={recording}"),
    "disclosure_copy": Page("disclosure.view", "第十七条第二款", obj="copy"),
    "disclosure_copy_preview": Page("disclosure.view", "第十七条第二款: a still of the original "
                                    "is record content (第十六条); this world's originals are "
                                    "not media: a clear 409 once allowed, never a 500",
                                    obj="copy", content="recording", ok=(409,)),
    "disclosure_copy_download": Page("disclosure.register", "第十七条第二款: the made copy (not "
                                     "made here; the bytes: test_access_every_operation)",
                                     obj="copy", ok=(404,)),
    "disclosure_copy_action": Page(LEADER_IN_CHARGE, "第十七条第二款: 经主管负责人批准",
                                   obj="copy", sees="disclosure.view", method=P,
                                   args={"action": "approve"}),
    "disclosure_supply_register": Page("disclosure.view", "第十七条第三款: 提供登记"),
    "disclosure_supply_register_export": Page("disclosure.view", "第十七条第三款",
                                              args={"fmt": "xlsx"}),
    "disclosure_supply_new": Page("disclosure.register", "第十七条第三款",
                                  query="?case={case}"),
    "disclosure_supply": Page("disclosure.view", "第十七条第三款", obj="supply"),
    "disclosure_supply_download": Page("disclosure.register", "第十七条第三款 (not built here)",
                                       obj="supply", ok=(404,)),
    "disclosure_supply_action": Page(LEADER_IN_CHARGE, "第十七条第三款", obj="supply",
                                     sees="disclosure.view", method=P,
                                     args={"action": "approve"}),
    "document_viewer": Page("document.view", "第十六条: reading a document is use",
                            obj="document", content="document", args={}),
    "document_viewer_page": Page("document.view", "第十六条 (a text document has no page "
                                 "images: 404 once allowed)", obj="document",
                                 content="document", args={"page": 1}, ok=(404,)),
    # internal copies and exports under a grant (复制、拷贝/导出, 第十六条): anyone may hold a
    # grant; what one reaches is one's own (another's or an unknown id: 404); the grant rules
    # and the bytes: disclosure/tests/test_use_copies.py, test_exports.py
    "use_index": Page(SIGNED_IN, "第十六条: one's own copies and exports"),
    "use_register": Page("use.unusual", "第十六条、第二十六条第三项: the register of every copy "
                         "and export, for the legal affairs office"),
    "use_copy_new": Page("recording.view", "第十六条: the copy form of a record one sees",
                         obj="recording", query="?target=evidence.recording:{recording}"),
    "use_copy": Page(SIGNED_IN, "第十六条", args={"pk": UNKNOWN}, ok=(404,)),
    "use_copy_download": Page(SIGNED_IN, "第十六条", args={"pk": UNKNOWN}, ok=(404,)),
    "use_export_new": Page(Owner({Role.OFFICER}), "第十六条: an export under one's own grant "
                           "(the world's grant is for viewing: refused in words, 400)",
                           obj="grant", query="?grant={grant}", ok=(400,)),
    "use_export": Page(SIGNED_IN, "第十六条", args={"pk": UNKNOWN}, ok=(404,)),
    "use_export_download": Page(SIGNED_IN, "第十六条", args={"pk": UNKNOWN}, ok=(404,)),
    "disclosure_marks": Page("confidentiality.mark", "第十七条第四款: confidentiality marks"),
    "disclosure_unusual": Page("use.unusual", "第二十六条第三项: unusual use"),
    # -- devices (第二十一条、第二十二条)
    "device_list": Page("device.view", "第二十一条"),
    "device_detail": Page("device.view", "第二十一条", obj="device"),
    "device_action": Page(("device.use", "device.manage"), "第二十二条: pre-use check by its "
                          "users (a device manager may do what its users do)", obj="device",
                          sees="device.view", method=P, args={"action": "check"}, data={"battery_percent": "80", "free_storage_mb": "1024"}),
    # -- supervision (第二十三条至第二十六条)
    "violation_list": Page("violation.view", "第二十六条"),
    "violation_detect": Page("violation.handle", "第二十六条", method=P),
    "violation_report": Page("violation.handle", "第二十六条", method=P),
    "violation_detail": Page("violation.view", "第二十六条", obj="violation"),
    "violation_action": Page("violation.handle", "第二十六条", obj="violation",
                             sees="violation.view", method=P, args={"action": "confirm"}),
    "spot_check_list": Page("spotcheck.view", "第二十三条"),
    "spot_check_detail": Page("spotcheck.view", "第二十三条", obj="spot_check"),
    "spot_check_redraw": Page("spotcheck.view", "第二十三条: whoever reads the ledger may check "
                              "that the draw is reproducible", obj="spot_check", method=P),
    "spot_check_item": Page("spotcheck.view", "第二十三条", obj="spot_check_item"),
    "rectification_request": Page("spotcheck.manage", "第二十三条: 限期整改",
                                  obj="spot_check_item", sees="spotcheck.view", method=P, data={"request": "限期整改", "deadline": str(TEST_TODAY + timedelta(days=10))}),
    "rectification_list": Page("rectification.view", "第二十三条"),
    "ledger": Page("spotcheck.view", "第二十三条: 检查台帐"),
    "ledger_xlsx": Page("spotcheck.view", "第二十三条"),
    "ledger_pdf": Page("spotcheck.view", "第二十三条"),
    "circular_list": Page("circular.view", "第二十四条"),
    "circular_detail": Page("circular.view", "第二十四条", obj="circular", role_first=True),
    "circular_publish": Page("circular.manage", "第二十四条", obj="circular",
                             sees="circular.view", method=P),
    "circular_pdf": Page("circular.view", "第二十四条", obj="circular", role_first=True),
    "circular_xlsx": Page("circular.view", "第二十四条", obj="circular", role_first=True),
    "training_list": Page("training.view", "第二十五条"),
    "training_detail": Page("training.view", "第二十五条", obj="training", role_first=True),
    "officer_training": Page("training.view", "第二十五条: an officer's hours", obj="officer", role_first=True),
    # -- the API's own description (the operations: test_access_every_operation)
    "openapi-json": Page(PUBLIC, "OWASP ASVS 13.1: the API's description, no data (clients "
                         "and the Schemathesis run read it before they hold a token)"),
    "openapi-view": Page(PUBLIC, "the same description as a page"),
    # -- the audit log (第二十六条 (三))
    "audit_list": Page("audit.view", "第二十六条: the legal affairs office reads the log"),
    "audit_export": Page("audit.export", "第二十六条"),
}

# Roles that hold the permission but are refused by a finer rule; each names the rule and where
# it is tested. {route: {role: (status, why)}}
FINER: dict[str, dict[str, tuple[int, str]]] = {
    "disclosure_copy_preview": {
        Role.BUREAU_LEADER: (409, "第十七条第二款: the leader in charge decides the party's "
                                  "request and sees what its plan hides while it waits"),
    },
    "case_approval_decide": {
        Role.BUREAU_LEADER: (403, "立案 is approved by the unit head (approvals.toml, 第五条第四款)"),
        Role.LEGAL_OFFICE: (403, "法制审核 only (行政处罚法第五十八条); 立案 is the unit head's"),
    },
    "violation_detail": {
        Role.OFFICER: (404, "an officer sees violations once confirmed (第二十六条; "
                            "supervision/tests)"),
        Role.UNIT_HEAD: (404, "a unit head sees violations once confirmed (第二十六条)"),
    },
    "access_request_new": {
        Role.DEVICE_KEEPER: (403, "第十六条: one asks for records one may see listed"),
        Role.ADMIN: (403, "第十六条: one asks for records one may see listed"),
    },
}
# Objects of the whole bureau, not of a unit: whoever holds the permission reaches them.
BUREAU_WIDE = {"circular", "training", "spot_check"}
# 第二十三条: the world's spot check draws both recordings, so the legal affairs office that
# opened it may view them by right (access/use.py, spot_check).
SPOT_CHECKED = {"recording", "case"}  # a case is reviewed through its recordings there

ACTOR_UNIT = {Role.OFFICER: "team_a", Role.UNIT_HEAD: "team_a", Role.RECORDS_KEEPER: "team_a",
              Role.DEVICE_KEEPER: "detachment", Role.BUREAU_LEADER: "bureau",
              Role.LEGAL_OFFICE: "bureau", Role.ADMIN: "bureau"}
PLACES = ("own", "other")
PLAYER = {"HTTP_SEC_FETCH_DEST": "video"}  # a player's fetch: viewing, not copying (第十六条)


def _routes(resolver=None, prefix=""):
    """(route, name, pattern) of every URL pattern below the root, resolvers opened."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield route, pattern.name or route, pattern


API_DOCUMENTS = ("openapi-json", "openapi-view")  # the API's description: rows here


def _is_api(route: str, name: str | None) -> bool:
    """An operation of the JSON API (the every-operation matrix's), not tus or the schema."""
    return (route.startswith("api/") and not route.startswith("api/uploads")
            and name not in API_DOCUMENTS)


def _is_admin(route: str) -> bool:
    return route.startswith(("admin/", "^admin/"))


ROUTES = {name: route for route, name, _ in _routes() if not _is_api(route, name)
          and not _is_admin(route)}


def test_every_url_has_a_row():
    """Enumerated from the URLconf: a new page needs a row in PAGES (and so this matrix); the
    API's operations have theirs in test_access_every_operation.NEEDS."""
    assert set(ROUTES) == set(PAGES), set(ROUTES) ^ set(PAGES)
    from liuhen.access.permissions import ACTIONS

    for name, page in PAGES.items():
        assert page.article, name
        for need in (page.need, page.sees):
            for action in need if isinstance(need, tuple) else (need,):
                assert (action in (None, SIGNED_IN, PUBLIC) or isinstance(action, (Roles, Owner))
                        or action in ACTIONS), (name, action)
    assert {op_id for op_id, *_ in OPERATIONS} == set(NEEDS)


# ---------------------------------------------------------------- the bureau, built once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two places: team A (the own unit of the unit-scoped actors) and the levy section (the
    other); in each, one of every object a page names, made by that place's officer."""
    with module_world(django_db_blocker, tmp_path_factory.mktemp("every-page")) as folder:
        top = UnitFactory(name="全页面测试局", kind=UnitKind.BUREAU, case_number_prefix="页人社")
        detachment = UnitFactory(name="监察支队", parent=top)
        units = {"bureau": top, "detachment": detachment,
                 "team_a": UnitFactory(name="一大队", parent=detachment, kind=UnitKind.TEAM),
                 # outside the detachment: no unit-scoped actor's tree reaches it
                 "levy": UnitFactory(name="征缴科", parent=top)}
        actors = {role: OfficerFactory(unit=units[ACTOR_UNIT[role]], role=role) for role in Role}
        legal = actors[Role.LEGAL_OFFICE].user
        # the demo's administrator is a superuser with the admin role (liuhen demo)
        type(legal).objects.filter(pk=actors[Role.ADMIN].user.pk).update(is_staff=True,
                                                                        is_superuser=True)
        actors[Role.ADMIN].user.refresh_from_db()
        storage = get_storage()
        objects: dict[str, dict[str, object]] = {"own": {}, "other": {}}
        for place, unit, officer in (
                ("own", units["team_a"], actors[Role.OFFICER]),
                ("other", units["levy"], OfficerFactory(unit=units["levy"]))):
            colleague = OfficerFactory(unit=unit)
            o = objects[place]
            o["officer"] = officer
            party = make_party(actor=officer.user, unit=unit)
            o["case"] = case = make_case(actor=officer.user, unit=unit,
                                         officers=[officer, colleague], parties=[party])
            o["patrol"] = cases.create_patrol(actor=officer.user, unit=unit, date=TEST_TODAY,
                                              area="开发区", officer_ids=[officer.pk, colleague.pk])
            text = folder / f"询问笔录-{place}.txt"
            text.write_text(f"询问笔录 {place} " + uuid.uuid4().hex * 4, encoding="utf-8")
            o["document"] = records.add_document(actor=officer.user, case=case,
                                                 doc_type="inquiry_record", file_path=text,
                                                 number=f"询-{place}")
            o["approval"] = records.request_approval(actor=officer.user, case=case,
                                                     action=ApprovalAction.FILING)
            o["recording"] = recording = make_recording(
                officer=officer, captured=timezone.now() - timedelta(days=1))
            original = folder / f"original-{place}.mp4"
            original.write_bytes(b"original bytes " * 64)
            staged = storage.stage(original)
            storage.commit(staged, recording.storage_key)
            staged.discard()
            o["link"] = links.add_case_link(actor=officer.user, recording=recording, case=case,
                                            reason="本案现场")
            o["device"] = devices.register_device(actor=actors[Role.ADMIN].user,
                                                  number=f"DSJ-页-{place}",
                                                  kind="body_camera", unit=unit)
            o["violation"] = supervision.report_violation(actor=legal, unit=unit,
                                                          description="测试事项")
            o["hold"] = LegalHold.objects.create(kind="review", unit=unit, case=case,
                                                 reason="复议", placed_by=legal)
            o["disposal_register"] = DisposalList.objects.create(
                number=f"XH-页-{place}", unit=unit, as_of=TEST_TODAY, proposed_by=legal)
            o["case_file"] = case_file = CaseFile.objects.create(case=case,
                                                                 assembled_by=officer.user)
            o["package"] = package = ArchivePackage.objects.create(
                case=case, case_file=case_file, external_id=f"PKG-页-{place}",
                path=str(folder / f"package-{place}"), manifest_sha256="0" * 64,
                manifest_sm3="0" * 64, payload_bytes=0, created_by=officer.user)
            o["burn"] = DiscBurn.objects.create(
                package=package, archive_number=f"页-{place}", medium="BD-R",
                volume_label=f"LH{place}".upper(), image_name=f"{place}.iso",
                image_path=str(folder / f"{place}.iso"), size=0, sha256="0" * 64, sm3="0" * 64)
            o["copy"] = disclosure.register_party_copy(
                actor=officer.user, recording=recording, recipient_name="王某",
                identity_check="id_card", reason="当事人申请复制")
            o["supply"] = supplies.register_supply(
                actor=officer.user, case=case, body_kind="court", body_name="某区人民法院",
                letter_number=f"（2026）页行初{place}号", received_on=TEST_TODAY)
            o["access_request"] = grants.create_request(
                requester=officer.user, target_type="cases.case", target_id=case.pk,
                actions=["view"], reason="办案需要", wanted_until=TEST_TODAY + timedelta(days=3))
            o["spot_check"] = spot_check = SpotCheck.objects.create(
                title=f"抽查-{place}", period_start=TEST_TODAY - timedelta(days=30),
                period_end=TEST_TODAY, population="recordings", strata="unit", per_stratum=1,
                seed="1", population_digest="0" * 64, opened_by=legal)
            o["spot_check_item"] = SpotCheckItem.objects.create(
                spot_check=spot_check, stratum=unit.name, position=1,
                object_type="evidence.recording", object_id=recording.pk, unit=unit)
            o["token"] = create_token(user=officer.user, name="测试")[0]
        # A grant of the own place, approved by its unit head (第十六条); the levy section has
        # no unit head in this world, so no grant there.
        second = grants.create_request(
            requester=actors[Role.OFFICER].user, target_type="evidence.recording",
            target_id=objects["own"]["recording"].pk, actions=["view"], reason="办案需要",
            wanted_until=TEST_TODAY + timedelta(days=3))
        objects["own"]["grant"] = grants.approve_request(approver=actors[Role.UNIT_HEAD].user,
                                                         request_id=second.pk)
        objects["other"]["grant"] = None
        circular = circulars.publish_circular(
            actor=legal, text="通报正文",
            circular=circulars.create_circular(actor=legal, kind="month", day=TEST_TODAY))
        training = TrainingSession.objects.create(topic="执法全过程记录", held_on=TEST_TODAY,
                                                  hours=2, trainer="法制处", created_by=legal)
        for place in PLACES:  # bureau-wide objects: the same in both places
            objects[place].update(circular=circular, training=training)
        clients = {}
        for role, actor in actors.items():
            client = Client(raise_request_exception=False)
            client.force_login(actor.user)
            clients[role] = client
        yield {"actors": actors, "units": units, "objects": objects, "clients": clients,
               "evidence_dir": folder / "evidence"}


def _scope_covers(role, action, unit, world) -> bool:
    """Whether ``role``'s actor may do ``action`` on an object of ``unit`` (the matrix)."""
    if action in (SIGNED_IN, PUBLIC):
        return True
    if isinstance(action, Owner):
        return role in action and unit == world["units"]["team_a"]
    if isinstance(action, tuple):  # any of these permissions
        return any(_scope_covers(role, one, unit, world) for one in action)
    if unit is None:  # a bureau-wide object
        return _holds(role, action)
    if isinstance(action, Roles):
        return role in action
    scope = scope_for(role, action)
    home = world["units"][ACTOR_UNIT[role]]
    if scope == BUREAU:
        return True
    if scope == TREE:
        return unit.path.startswith(home.path)
    if scope == OWN:
        return unit.pk == home.pk
    return False


def _holds(role, action) -> bool:
    if action in (SIGNED_IN, PUBLIC):
        return True
    if isinstance(action, (Roles, Owner)):
        return role in action
    if isinstance(action, tuple):
        return any(_holds(role, one) for one in action)
    return scope_for(role, action) is not None


def _unit_of(obj, place, world):
    """The unit an object belongs to: its own, its case's or recording's, else its place's
    (a token, a request or a grant of that place's officer)."""
    if obj is None:
        return None
    for path in ("unit", "case.unit", "recording.unit"):
        value = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return world["units"]["team_a" if place == "own" else "levy"]


def expected(name: str, role, place: str, world) -> tuple[int | None, str]:
    """(status, why) the rules give ``role`` on ``name`` at ``place``; None for "not refused"
    (a POST a role may make: the form may still find the empty body wrong)."""
    page = PAGES[name]
    if role in FINER.get(name, {}):
        return FINER[name][role]
    if page.obj is None:
        if not _holds(role, page.need):
            return 403, "the role has no such permission"
    else:
        if page.role_first and not _holds(role, page.need):
            return 403, "the role has no such permission (checked before the object)"
        obj = world["objects"][place][page.obj]
        unit = None if page.obj in BUREAU_WIDE else _unit_of(obj, place, world)
        sees = page.sees or page.need
        if not _scope_covers(role, sees, unit, world):
            return 404, "outside what the role may see: hidden like a missing object"
        if not _scope_covers(role, page.need, unit, world):
            return 403, "the role sees it but may not do this"
        by_right = ((role in BY_RIGHT and place == "own")
                    or (role == Role.LEGAL_OFFICE and page.content in SPOT_CHECKED))
        if page.content and not by_right:
            return 403, "第十六条: content needs a right or a grant"
    if page.method == P:
        return None, "allowed"
    return page.ok[0], "allowed"


def _path(name: str, place: str, world) -> str:
    page = PAGES[name]
    objects = world["objects"][place]
    values = {}
    for key, source in page.args.items():
        if isinstance(source, str) and source in objects:
            values[key] = objects[source].pk
        elif source == "upload_id":
            values[key] = uuid.UUID(int=1)
        else:
            values[key] = source
    if page.obj:
        key = "doc_id" if name.startswith("document_viewer") else "pk"
        values[key] = objects[page.obj].pk
    route = ROUTES[name]

    def fill(match):
        return str(values[match.group("name")])

    path = "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", fill, route)
    query = page.query.format(**{k: v.pk for k, v in objects.items() if v is not None})
    return path + query


def _is_tus(name: str) -> bool:
    return ROUTES[name].startswith("api/uploads")


def _request(client, name: str, path: str):
    page = PAGES[name]
    if _is_tus(name):  # the tus protocol's version header, so the answer is about access
        return getattr(client, page.method.lower())(path, HTTP_TUS_RESUMABLE="1.0.0")
    if page.method == P:
        return client.post(path, page.data)
    if page.method == "OPTIONS":
        return client.options(path)
    if page.method == "HEAD":
        return client.head(path)
    return client.get(path, **PLAYER) if page.content else client.get(path)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if getattr(response, "file_to_stream", None) is not None:
        # the file only: response.close() would signal request_finished, which closes the
        # database connection inside the world's transaction
        response.file_to_stream.close()
    return content


def _named_objects(page: Page, place: str, world) -> set[tuple[str, str]]:
    """(type, id) of the objects in the page's address (and its content): a refusal about
    them must name one of them."""
    objects = world["objects"][place]
    keys = [page.obj, page.content, *(v for v in page.args.values() if isinstance(v, str))]
    named = set()
    for key in keys:
        obj = objects.get(key) if key else None
        if obj is not None and hasattr(obj, "_meta"):
            named.add((f"{obj._meta.app_label}.{obj._meta.model_name}", str(obj.pk)))
    return named


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_role_on_every_page(world, db, settings, name):
    settings.EVIDENCE_DIR = world["evidence_dir"]
    page = PAGES[name]
    problems = []
    for role in Role:
        actor = world["actors"][role]
        for place in PLACES if page.obj else ("own",):
            if page.obj and world["objects"][place][page.obj] is None:
                continue
            want, why = expected(name, role, place, world)
            path = _path(name, place, world)
            before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
            with transaction.atomic():
                client = world["clients"][role]
                if page.ends_session:
                    client = Client(raise_request_exception=False)
                    client.force_login(actor.user)
                response = _request(client, name, path)
                body = _body(response)
                denied = list(AuditEntry.objects.filter(seq__gt=before or 0, outcome="denied"))
                transaction.set_rollback(True)
            status = response.status_code
            where = f"{role} {place} {page.method} {path}: {status}, expected {want} ({why})"
            refused = want in (403, 404) and why != "allowed"
            # A page's POST may answer a refusal with the page again and a message (302); the
            # audit log then tells the refusal apart from a success.
            redirected = page.method == P and refused and status == 302
            if status >= 500 or (want is not None and status != want and not redirected) or (
                    want is None and status in (401, 403, 404)):
                problems.append(where + f" {body[:120]!r}")
                continue
            if refused and page.need not in (SIGNED_IN, PUBLIC):
                mine = [e for e in denied if e.actor_id == actor.user.pk]
                named = _named_objects(page, place, world)
                if not mine:
                    problems.append(where + ": no denied audit entry naming the actor")
                elif named and not named & {(e.object_type, e.object_id) for e in mine}:
                    problems.append(where + f": the denied entry names "
                                    f"{[(e.object_type, e.object_id) for e in mine]}, "
                                    f"not one of {sorted(named)}")
    assert problems == [], "\n".join(problems)


def test_without_a_session_every_page_but_three_sends_to_the_login_page(world, db):
    client = Client(raise_request_exception=False)
    problems = []
    for name, page in sorted(PAGES.items()):
        response = _request(client, name, _path(name, "own", world))
        _body(response)
        status, location = response.status_code, response.get("Location", "")
        if page.need == PUBLIC:
            if status not in (200, 301):
                problems.append((name, status))
        elif _is_tus(name):  # a client program, not a browser: 401 (or the protocol's 204)
            if status not in (204, 401):
                problems.append((name, status))
        elif status != 302 or not location.startswith("/login/"):
            problems.append((name, status, location))
    assert problems == []


def test_the_admin_is_for_staff_only(world, db):
    """Django's admin (等保 2.0 三级: system administration apart from case work): every
    registered model's list, for every role; only the administrator (staff) gets in."""
    urls = ["/admin/"] + [f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
                          for model in admin.site._registry]
    for role in Role:
        client = world["clients"][role]
        staff = world["actors"][role].user.is_staff
        for url in urls:
            response = client.get(url)
            if staff:
                assert response.status_code in (200, 302, 403), (role, url, response.status_code)
                assert response.status_code != 302 or "/login/" not in response["Location"]
            else:
                assert response.status_code == 302, (role, url, response.status_code)
                assert "/login/" in response["Location"], (role, url)
