"""待办 of 第十七条 (core.inbox): what waits for the leader in charge (party copies and supplies
to approve, 第十七条第二款、第三款) and for those who register supplies (a review body's or a
court's request not yet answered, with its deadline: 行政复议法第四十八条, 行政诉讼法第六十七条)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from liuhen.access.querysets import allows
from liuhen.core.inbox import InboxItem, InboxSection
from liuhen.disclosure import decisions, services, supply
from liuhen.disclosure.choices import CopyStatus, SupplyStatus


def approvals(user, limit: int) -> InboxSection | None:
    """Party copies and supplies waiting for this leader's approval (never their own)."""
    if not decisions.is_approver(user):
        return None
    copies = (services.visible_copies(user).filter(status=CopyStatus.REGISTERED)
              .exclude(registered_by=user).select_related("recording", "document"))
    supplies = (supply.visible_supplies(user).filter(status=SupplyStatus.REQUESTED)
                .exclude(requested_by=user))
    count = copies.count() + supplies.count()
    items = []
    if limit:
        items = [InboxItem(f"{s.number} 向{s.body_name}提供", reverse("disclosure_supply",
                                                                    args=[s.pk]),
                           detail=f"来函 {s.letter_number} · 案件 {s.case.number}",
                           due=s.response_due)
                 for s in supplies.order_by("response_due", "pk")[:limit]]
        items += [InboxItem(f"{c.number} 当事人复制：{c.recipient_name}",
                            reverse("disclosure_copy", args=[c.pk]),
                            detail=c.record_name)
                  for c in copies.order_by("registered_at", "pk")[:max(0, limit - len(items))]]
    return InboxSection("disclosure_approvals", "复制与提供待审批", count, items,
                        url=reverse("disclosure_index"), basis="第十七条第二款、第三款")


def supplies_due(user, limit: int) -> InboxSection | None:
    """Supplies registered in the user's scope and not yet handed over, by deadline."""
    if not allows(user, "disclosure.register"):
        return None
    open_ = (supply.visible_supplies(user)
             .filter(status__in=[SupplyStatus.REQUESTED, SupplyStatus.APPROVED,
                                 SupplyStatus.BUILT])
             .order_by("response_due", "pk"))
    today = timezone.localdate()
    count = open_.count()
    overdue = open_.filter(response_due__lt=today).count()
    items = [InboxItem(f"{s.number} {s.get_status_display()}",
                       reverse("disclosure_supply", args=[s.pk]),
                       detail=f"{s.body_name} {s.letter_number}", due=s.response_due,
                       overdue=bool(s.response_due and s.response_due < today))
             for s in open_[:limit]] if limit else []
    return InboxSection("disclosure_supplies", "复议、诉讼调取待提供", count, items,
                        url=reverse("disclosure_supply_register"), basis="第十七条第三款",
                        overdue=overdue)
