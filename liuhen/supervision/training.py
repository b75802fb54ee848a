"""Training (第二十五条): the legal affairs office registers training sessions (topic, date,
hours, trainer, materials) and who attended; each officer has a training record; a rule held as
data (``data/training.toml``) sets the hours required per year, and officers short of it are
listed for their unit head."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Sum

from liuhen.access.choices import Role
from liuhen.access.permissions import BUREAU, scope_for
from liuhen.access.querysets import allows, user_role
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.org.models import Officer
from liuhen.supervision import events
from liuhen.supervision.models import TrainingAttendance, TrainingSession

DATA = Path(__file__).resolve().parent / "data" / "training.toml"


@cache
def rule() -> dict:
    """The required hours per year by role, with the article (第二十五条)."""
    with open(DATA, "rb") as fh:
        data = tomllib.load(fh)
    data["hours_by_role"] = {r["role"]: Decimal(str(r["hours_per_year"]))
                             for r in data["requirement"]}
    return data


def _require(actor, event: str, target=None) -> None:
    if not allows(actor, "training.manage"):
        record_denied(actor=actor, action=event, target=target, reason="角色无权登记培训")
        raise Forbidden("只有法制机构可以登记培训（第二十五条）")


def _hours(value, label: str = "学时") -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{label}应为数字")
    if not hours.is_finite() or not Decimal("0.5") <= hours <= Decimal("100"):
        raise InvalidInput(f"{label}应在 0.5–100 之间")
    return hours.quantize(Decimal("0.1"))


def add_session(*, actor, topic: str, held_on: date, hours, trainer: str,
                materials: str = "") -> TrainingSession:
    _require(actor, events.event_training_session_added)
    topic, trainer = (topic or "").strip(), (trainer or "").strip()
    if not topic:
        raise InvalidInput("请填写培训主题")
    if not trainer:
        raise InvalidInput("请填写授课人")
    with transaction.atomic():
        session = TrainingSession.objects.create(
            topic=topic[:200], held_on=held_on, hours=_hours(hours), trainer=trainer[:100],
            materials=(materials or "").strip(), created_by=actor)
        record(actor=actor, action=events.event_training_session_added, target=session,
               detail={"date": held_on.isoformat(), "hours": str(session.hours)})
    return session


def record_attendance(*, actor, session: TrainingSession, officer_ids, hours=None) -> int:
    """Record who attended (each once; one already recorded is left as it was); returns how
    many were added. ``hours`` defaults to the session's."""
    _require(actor, events.event_training_attendance_recorded, session)
    credited = session.hours if hours in (None, "") else _hours(hours, "计入学时")
    if credited > session.hours:
        raise InvalidInput("计入学时不能超过培训学时")
    ids = {int(i) for i in officer_ids}
    if not ids:
        raise InvalidInput("请选择参训人员")
    officers = list(Officer.objects.filter(pk__in=ids))
    if len(officers) != len(ids):
        raise InvalidInput("参训人员不存在")
    known = set(session.attendances.values_list("officer_id", flat=True))
    new = [o for o in officers if o.pk not in known]
    with transaction.atomic():
        try:
            TrainingAttendance.objects.bulk_create([
                TrainingAttendance(session=session, officer=o, hours=credited, recorded_by=actor)
                for o in new])
        except IntegrityError:
            raise InvalidInput("参训记录已被他人同时登记，请刷新后重试")
        record(actor=actor, action=events.event_training_attendance_recorded, target=session,
               detail={"officers": sorted(o.pk for o in new), "hours": str(credited)})
    return len(new)


def officer_record(officer: Officer, year: int | None = None):
    """An officer's attendances, newest first (of one year when given)."""
    qs = (TrainingAttendance.objects.filter(officer=officer).select_related("session")
          .order_by("-session__held_on", "-id"))
    if year:
        qs = qs.filter(session__held_on__year=year)
    return qs


@dataclass
class Standing:
    officer: Officer
    required: Decimal
    hours: Decimal

    @property
    def short(self) -> Decimal:
        return max(Decimal(0), self.required - self.hours)


def visible_officers(user):
    """Whose training ``user`` may read: the legal affairs office and leaders everyone, a
    unit head his units' officers, an officer himself."""
    qs = Officer.objects.restrict(user, "training.view")
    if scope_for(user_role(user), "training.view") == BUREAU:
        return qs
    me = getattr(user, "officer", None)
    if me is not None and me.role == Role.OFFICER:
        return qs.filter(pk=me.pk)
    return qs


def standings(user, year: int, *, only_short: bool = False) -> list[Standing]:
    """Each visible officer with a yearly requirement: hours required and attended in
    ``year`` (one grouped query), the ones short of it first when asked for them only."""
    required = rule()["hours_by_role"]
    officers = list(visible_officers(user).filter(role__in=list(required))
                    .select_related("unit").order_by("unit__path", "name"))
    done = dict(TrainingAttendance.objects
                .filter(officer__in=[o.pk for o in officers], session__held_on__year=year)
                .values("officer_id").annotate(h=Sum("hours")).values_list("officer_id", "h"))
    out = [Standing(o, required[o.role], done.get(o.pk) or Decimal(0)) for o in officers]
    return [s for s in out if s.short > 0] if only_short else out
