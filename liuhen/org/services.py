"""Services for people: qualifications (第十一条) and picking officers by id."""

from __future__ import annotations

from datetime import date

from liuhen.audit.services import record_denied
from liuhen.core.errors import InvalidInput, UnqualifiedOfficer
from liuhen.org import events
from liuhen.org.models import Officer


def ensure_qualified(officers, *, on: date | None = None, actor=None, purpose: str = "") -> None:
    """Refuse anyone who is not formal staff with a valid qualification (第十一条)."""
    problems = [p for p in (o.qualification_problem(on) for o in officers) if p]
    if problems:
        message = "；".join(problems) + "，不能" + (purpose or "担任执法记录主体") + "（依据第十一条）"
        record_denied(actor=actor, action=events.event_officer_refused,
                      target=("org.officer", ",".join(str(o.pk) for o in officers)),
                      reason=message)
        raise UnqualifiedOfficer(message, detail={"officers": [o.pk for o in officers]})


def officers_by_ids(ids) -> list[Officer]:
    try:
        ids = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        raise InvalidInput("执法人员编号无效") from None
    # Out-of-range numbers cannot exist; leaving them out of the query avoids driver overflows.
    valid = [i for i in ids if 0 < i < 2**63]
    found = {o.pk: o for o in Officer.objects.filter(pk__in=valid).select_related("unit")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"执法人员不存在：{missing}")
    return [found[i] for i in ids]
