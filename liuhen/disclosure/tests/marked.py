"""Checks that a copy really carries its watermark: decoded pixels and extracted PDF text, not
the description the code wrote about itself."""

from __future__ import annotations

import hashlib
import io

import av
import numpy as np
from PIL import Image
from pypdf import PdfReader

from liuhen.evidence.storage import get_storage
from liuhen.redaction import Watermark
from liuhen.redaction.watermark import render_overlay


def stored_sha256(key: str) -> str:
    with get_storage().open(key) as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def first_luma(data: bytes) -> np.ndarray:
    """The first decoded picture of a video or a photo, as 8-bit gray."""
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("L")).astype(np.int16)
    except Exception:  # noqa: BLE001 - not a still image: decode the video's first frame
        with av.open(io.BytesIO(data)) as container:
            frame = next(container.decode(video=0))
            return np.asarray(frame.to_ndarray(format="gray")).astype(np.int16)


def watermark_contrast(original: bytes, copy: bytes, lines) -> tuple[float, float]:
    """Mean absolute change of the copy's first picture inside the watermark's text boxes and
    away from them: burnt in, the first is large and the second is the encoder's noise."""
    a, b = first_luma(original), first_luma(copy)
    assert a.shape == b.shape
    height, width = a.shape
    _, boxes = render_overlay(Watermark(tuple(lines)), width, height)
    inside = np.zeros(a.shape, dtype=bool)
    near = np.zeros(a.shape, dtype=bool)
    for x, y, w, h in boxes:
        inside[y:y + h, x:x + w] = True
        near[max(0, y - 4):y + h + 4, max(0, x - 4):x + w + 4] = True
    diff = np.abs(a - b)
    return float(diff[inside].mean()), float(diff[~near].mean())


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
