"""Photos, PDF pages and the approver's preview (第十七条第二款、第四款)."""

from __future__ import annotations

import io
import json

import numpy as np
import piexif
import pytest
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader, PdfWriter

from liuhen.evidence.digests import digest_file
from liuhen.redaction import (
    RedactionPlan,
    detect_faces,
    detect_image_faces,
    preview_redaction,
    redact_image,
    watermark_image,
    watermark_lines,
    watermark_pdf,
)
from liuhen.redaction.preview import AUTO, MANUAL, SUPPRESSED
from liuhen.redaction.tests.conftest import detail, outside
from liuhen.redaction.tests.media import FACE, FACE_IN_CROP, _background
from liuhen.redaction.watermark import render_overlay


def _mark():
    return watermark_lines(
        viewer_name="李四",
        viewer_number="执法证 44010099",
        at=timezone.localtime(),
        grant_number="SQ-2026-000777",
    )


@pytest.fixture
def photo(tmp_path):
    """A 640×480 JPEG with the portrait at (300, 120) and a GPS position in its EXIF."""
    picture = _background(640, 480)[:480, :640].copy()
    picture[120:300, 300:480] = np.asarray(Image.open(FACE).convert("RGB"))
    exif = piexif.dump(
        {
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((38, 1), (2, 1), (0, 1)),
            }
        }
    )
    path = tmp_path / "photo.jpg"
    Image.fromarray(picture).save(path, "JPEG", quality=95, exif=exif)
    return path


def _gray(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def test_a_photo_copy_has_the_face_blurred_and_no_metadata(photo, tmp_path):
    before = digest_file(photo)
    analysis = detect_image_faces(photo)
    assert len(analysis.tracks) == 1
    face = (300 + FACE_IN_CROP[0], 120 + FACE_IN_CROP[1], *FACE_IN_CROP[2:])
    copy = redact_image(
        source=photo, target=tmp_path / "copy.jpg", plan=RedactionPlan(faces=analysis)
    )
    src, out = _gray(photo), _gray(copy.path)
    assert detail(out, face) < 0.2 * detail(src, face)
    rest = outside(src.shape, RedactionPlan(faces=analysis).boxes_at(0, 640, 480))
    assert np.abs(out.astype(int) - src.astype(int))[rest].mean() < 2
    with Image.open(copy.path) as img:
        assert img.format == "JPEG" and "exif" not in img.info
    assert copy.description["operations"]["metadata"] == "removed"
    assert digest_file(copy.path).sm3 == copy.sm3
    assert digest_file(photo) == before


def test_a_photo_watermark_covers_the_picture(photo, tmp_path):
    mark = _mark()
    copy = watermark_image(source=photo, target=tmp_path / "marked.png", watermark=mark)
    _, boxes = render_overlay(mark, 640, 480)
    src, out = _gray(photo).astype(int), _gray(copy.path).astype(int)
    inside = ~outside(src.shape, boxes, pad=0)
    assert np.abs(out - src)[inside].mean() > 8
    assert np.abs(out - src)[outside(src.shape, boxes, pad=2)].mean() < 2
    assert copy.description["operations"]["watermark"]["lines"][2] == "授权 SQ-2026-000777"


def _pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)  # A4 portrait
    writer.add_blank_page(842, 595)  # A4 landscape
    writer.add_blank_page(595, 842).rotation = 90
    with open(path, "wb") as fh:
        writer.write(fh)


def test_every_pdf_page_carries_the_watermark_as_chinese_text(tmp_path):
    source = tmp_path / "卷宗.pdf"
    _pdf(source)
    before = digest_file(source)
    copy = watermark_pdf(source=source, target=tmp_path / "copy.pdf", watermark=_mark())
    pages = PdfReader(copy.path).pages
    assert len(pages) == 3
    for page in pages:
        text = page.extract_text()
        assert "授权 SQ-2026-000777" in text and "李四" in text and "不得外传" in text
    assert PdfReader(copy.path).pages[2].rotation == 0  # turned in its content instead
    assert copy.description["operations"]["pages"] == 3
    assert digest_file(copy.path).sha256 == copy.sha256
    assert digest_file(source) == before


def test_the_preview_shows_every_box_and_lists_the_detections(face_video, tmp_path):
    analysis = detect_faces(face_video, every=3)
    plan = RedactionPlan(faces=analysis)
    plan.suppress("F1", start=1.0, end=2.0, reason="执法人员本人")
    plan.add_manual(start=0, end=0.5, x=200, y=20, w=80, h=60)
    preview = preview_redaction(
        source=face_video, plan=plan, target_dir=tmp_path / "p", times=[0.2, 1.5]
    )
    assert [p.name for p in preview.stills] == ["preview_01.jpg", "preview_02.jpg"]
    assert preview.times == pytest.approx([0.2, 1.5], abs=0.07)
    [row] = preview.detections
    assert row["id"] == "F1" and row["samples"] == len(analysis.tracks[0].samples)
    assert row["suppressed"][0]["reason"] == "执法人员本人"
    first, second = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in preview.stills)

    def has(picture, colour):
        return bool((np.abs(picture - colour).sum(axis=2) < 60).sum() > 50)

    assert has(first, AUTO) and has(first, MANUAL)  # face drawn red, manual box blue
    assert has(second, SUPPRESSED) and not has(second, AUTO) and not has(second, MANUAL)
    json.dumps(preview.to_dict(), ensure_ascii=False)


def test_a_photo_preview_is_one_still(photo, tmp_path):
    plan = RedactionPlan(faces=detect_image_faces(photo))
    preview = preview_redaction(source=photo, plan=plan, target_dir=tmp_path)
    assert len(preview.stills) == 1
    with Image.open(io.BytesIO(preview.stills[0].read_bytes())) as img:
        assert img.format == "JPEG" and img.size == (640, 480)
