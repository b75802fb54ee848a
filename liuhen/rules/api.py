"""JSON API of the completeness rules."""

from ninja import Router

router = Router(tags=["记录完整性"])
