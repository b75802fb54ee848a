"""JSON API of the evidence vault (devices, recordings)."""

from ninja import Router

router = Router(tags=["音像记录"])
