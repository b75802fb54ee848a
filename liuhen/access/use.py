"""Use of records (第十六条): viewing, copying or exporting needs a right, checked here only.

``restrict()`` answers which records a person may *see listed* (metadata, in the role's
scope). Using a record's *content* — playing, streaming, downloading, opening a document's
file, exporting — is a second question, answered only by ``check_use(user, obj, action)``:
either a row of the by-right table below applies, or an approved, unexpired, unrevoked
``Grant`` does. Copying and exporting always need a grant (第十六条: 复制、拷贝 with the
unit head's approval). Every refusal is audited; every use is audited by the caller with
``Use.detail`` (the right relied on and the grant number).

Records are named generically: a model that holds record content defines ``use_target()``
returning a ``UseTarget`` (its owning unit, its cases, who handles them). Access sits below
those apps and never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from liuhen.access.choices import Role, UseAction
from liuhen.access.models import Grant
from liuhen.access.querysets import CASE_TYPE, grants_in_force, user_role, user_unit
from liuhen.audit.services import record_denied
from liuhen.core.errors import Forbidden

event_use_refused = "access.use_refused"


@dataclass(frozen=True)
class UseTarget:
    """What the by-right table and grants need to know about one record.

    ``case_ids``: the cases the record is part of. ``handling_user_ids``: the users of the
    officers of those cases that are still being handled (not archived). ``producer_user_ids``:
    who recorded or uploaded it. ``open``: no case, or at least one case still handled.
    """

    type: str
    id: str
    label: str
    unit: object
    case_ids: frozenset[int] = frozenset()
    handling_user_ids: frozenset[int] = frozenset()
    producer_user_ids: frozenset[int] = frozenset()
    open: bool = True


@dataclass(frozen=True)
class Right:
    """One row of the by-right table: who may use a record without a request, and why."""

    code: str
    label: str
    article: str
    actions: frozenset[str]
    applies: Callable[[object, UseTarget], bool] = field(compare=False)


def _is_case_officer(user, target: UseTarget) -> bool:
    return user.pk in target.handling_user_ids


def _is_producer(user, target: UseTarget) -> bool:
    return target.open and user.pk in target.producer_user_ids


def _over(user, target: UseTarget, role: str) -> bool:
    unit = user_unit(user)
    return (user_role(user) == role and unit is not None and target.unit is not None
            and target.unit.path.startswith(unit.path))


def _is_unit_head_over(user, target: UseTarget) -> bool:
    # The unit head is the approver of 第十六条: what they could approve for others they may
    # look at themselves, in their own unit and below.
    return _over(user, target, Role.UNIT_HEAD)


def _is_keeper_over(user, target: UseTarget) -> bool:
    # 第十二条、第十三条: the records keeper stores the recordings and builds and binds the case
    # files of the units they serve; checking what they file means looking at it.
    return _over(user, target, Role.RECORDS_KEEPER)


# Filled by the supervision app (第二十三条: the legal affairs office's spot checks): each
# callable answers whether ``user`` reviews ``target`` in a spot check the office opened.
spot_check_providers: list[Callable[[object, UseTarget], bool]] = []


def register_spot_check_provider(provider: Callable[[object, UseTarget], bool]) -> None:
    """Let a higher app (supervision) say "this user reviews this record in a spot check"."""
    if provider not in spot_check_providers:
        spot_check_providers.append(provider)


def _in_spot_check(user, target: UseTarget) -> bool:
    return user_role(user) == Role.LEGAL_OFFICE and any(
        provider(user, target) for provider in spot_check_providers)


# Filled by the disclosure app (第十七条第四款: confidentiality marks): each callable answers,
# for (user, target, action), a Chinese reason why the use is refused whatever right or grant
# the user holds (国家秘密: no copy, no export), or None.
use_limits: list[Callable[[object, UseTarget, str], str | None]] = []


def register_use_limit(limit: Callable[[object, UseTarget, str], str | None]) -> None:
    """Let a higher app (disclosure) refuse some uses of some records outright."""
    if limit not in use_limits:
        use_limits.append(limit)


def limit_for(user, target: UseTarget, action: str) -> str | None:
    for limit in use_limits:
        reason = limit(user, target, str(action))
        if reason:
            return reason
    return None


VIEW_ONLY = frozenset({UseAction.VIEW})

# Access by right, without a request: the whole list. Anything else needs a grant, and
# copying or exporting always does (第十六条).
BY_RIGHT: tuple[Right, ...] = (
    Right("case_officer", "案件承办人员（案件办理期间）", "第十六条", VIEW_ONLY, _is_case_officer),
    Right("producer", "录制或上传该记录的执法人员（案件办理期间或未关联案件）",
          "第十三条、第十六条", VIEW_ONLY, _is_producer),
    Right("unit_head", "记录所属单位及其上级单位的单位负责人（审批人）", "第十六条",
          VIEW_ONLY, _is_unit_head_over),
    Right("records_keeper", "专门人员（存储、立卷归档其所服务单位的记录）", "第十二条、第十三条",
          VIEW_ONLY, _is_keeper_over),
    Right("spot_check", "法制机构对其开展的抽检", "第二十三条", VIEW_ONLY, _in_spot_check),
)

# A grant for copying or exporting includes viewing what is copied.
_IMPLIED = {UseAction.VIEW: {UseAction.VIEW, UseAction.COPY, UseAction.EXPORT},
            UseAction.COPY: {UseAction.COPY}, UseAction.EXPORT: {UseAction.EXPORT}}


@dataclass(frozen=True)
class Use:
    """The right a use relies on: a by-right row or a grant (its number goes in the audit)."""

    action: str
    right: str
    article: str
    grant: Grant | None = None

    @property
    def detail(self) -> dict:
        return {"use": self.action, "right": self.right, "article": self.article,
                "grant": self.grant.number if self.grant else ""}


def target_of(obj) -> UseTarget:
    """The ``UseTarget`` of a record (models that hold content define ``use_target()``)."""
    if isinstance(obj, UseTarget):
        return obj
    return obj.use_target()


def grant_for(user, target: UseTarget, action: str) -> Grant | None:
    """The user's grant in force for ``action`` on ``target`` (the record or one of its
    cases), or None."""
    wanted = _IMPLIED[UseAction(action)]
    for grant in _grants_covering(user, target):
        if wanted & set(grant.actions):
            return grant
    return None


def _grants_covering(user, target: UseTarget) -> tuple[Grant, ...]:
    """The user's grants in force on ``target`` or its cases, latest ending first (of
    ``grants_in_force``, read once per reading request)."""
    cases = {str(c) for c in target.case_ids}
    return tuple(
        grant for grant in grants_in_force(user)
        if (grant.target_type == target.type and grant.target_id == target.id)
        or (grant.target_type == CASE_TYPE and grant.target_id in cases))


def right_for(user, obj, action: str) -> Use | None:
    """The right ``user`` has to do ``action`` (view, copy, export) with ``obj``, or None.
    Nothing is audited: the callers that serve content use ``check_use``."""
    action = UseAction(action)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    target = target_of(obj)
    if limit_for(user, target, action):
        return None
    for row in BY_RIGHT:
        if action in row.actions and row.applies(user, target):
            return Use(action, row.code, row.article)
    grant = grant_for(user, target, action)
    if grant is not None:
        return Use(action, "grant", "第十六条", grant)
    return None


def may_use(user, obj, action: str) -> bool:
    return right_for(user, obj, action) is not None


def check_use(user, obj, action: str, *, event: str | None = None) -> Use:
    """The right to do ``action`` with ``obj`` now, or Forbidden (403) with a denied audit
    entry. Callers have already found ``obj`` through ``get_for`` (so it is in scope, or
    widened into scope by a grant); they audit the use itself with ``Use.detail``."""
    use = right_for(user, obj, action)
    if use is None:
        target = target_of(obj)
        limit = limit_for(user, target, action)
        if limit:
            record_denied(actor=user, action=event or event_use_refused,
                          target=(target.type, target.id, target.label), reason=limit[:500],
                          detail={"use": str(action), "limit": "confidentiality"})
            raise Forbidden(limit, code="confidential",
                            detail={"target": f"{target.type}:{target.id}", "use": str(action)})
        label = UseAction(action).label
        record_denied(actor=user, action=event or event_use_refused,
                      target=(target.type, target.id, target.label),
                      reason=f"无{label}授权（第十六条）", detail={"use": str(action)})
        raise Forbidden(f"{label}该记录须经单位负责人批准（第十六条），请先提交调阅申请",
                        code="grant_required",
                        detail={"target": f"{target.type}:{target.id}", "use": str(action)})
    return use


def watermark_text(user, use: Use) -> str:
    """The visible watermark over a player or document viewer: who is looking (name and
    credential number), when, and under which grant or right (第十六条, 第二十六条 (三))."""
    officer = getattr(user, "officer", None)
    name = (officer.name if officer else "") or user.get_username()
    number = (officer.credential_number if officer else "") or user.get_username()
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    basis = use.grant.number if use.grant else f"依职权（{use.article}）"
    return f"{name} {number} {when} {basis}"
