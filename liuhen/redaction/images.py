"""Watermarks and redaction for photos (JPEG, PNG): the same plan and watermark as video.

The photo is turned upright by its EXIF orientation, the plan is applied at time 0 (manual
boxes whose range contains 0 s, every face found), the watermark layer composited, and the
result saved in the source's format without its metadata: a party copy carries no GPS
position, camera serial or capture comment (第十七条第四款).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from liuhen.core.lazy import lazy_module
from liuhen.redaction.faces import FaceAnalysis, FaceDetector, FaceTrack
from liuhen.redaction.plan import RedactionPlan
from liuhen.redaction.results import DerivedFile, finish
from liuhen.redaction.watermark import Box, Watermark, render_overlay

cv2 = lazy_module("cv2")
np = lazy_module("numpy")  # imported on first use (core.lazy)

FORMATS = ("JPEG", "PNG")


def open_upright(source: str | Path) -> tuple[Image.Image, str]:
    """The photo upright (EXIF orientation applied) and its format; refuses other formats."""
    with Image.open(source) as img:
        if img.format not in FORMATS:
            raise ValueError(f"只支持 JPEG、PNG 照片 / unsupported photo format {img.format}")
        fmt = img.format
        upright = ImageOps.exif_transpose(img)
        keep_alpha = fmt == "PNG" and upright.mode in ("RGBA", "LA", "P")
        return upright.convert("RGBA" if keep_alpha else "RGB"), fmt


def detect_image_faces(source: str | Path, *, detect_width: int = 1280) -> FaceAnalysis:
    """Faces in a photo, as one-sample tracks at time 0 (ids F1, F2, …)."""
    image, _ = open_upright(source)
    gray = np.asarray(image.convert("L"))
    boxes = FaceDetector(detect_width=detect_width).detect(gray)
    tracks = [FaceTrack(f"F{n}", [(0.0, box)]) for n, box in enumerate(boxes, start=1)]
    return FaceAnalysis(
        tracks=tracks,
        every=1,
        hold=0.0,
        width=image.width,
        height=image.height,
        frames=1,
        sampled=1,
    )


def watermark_image(*, source: str | Path, target: str | Path, watermark: Watermark) -> DerivedFile:
    """A new photo with ``watermark`` over the whole picture."""
    return redact_image(source=source, target=target, plan=RedactionPlan(), watermark=watermark)


def redact_image(
    *,
    source: str | Path,
    target: str | Path,
    plan: RedactionPlan,
    watermark: Watermark | None = None,
) -> DerivedFile:
    """A new photo with the plan's boxes blurred and, if given, the watermark composited."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("副本不能覆盖原始文件 / the copy must not overwrite the original")
    image, fmt = open_upright(source)
    boxes = plan.boxes_at(0.0, image.width, image.height)
    if boxes:
        pixels = np.array(image)
        for box in boxes:
            blur_rgb(pixels, box, style=plan.style)
        image = Image.fromarray(pixels, image.mode)
    if watermark is not None:
        layer, _ = render_overlay(watermark, image.width, image.height)
        image = Image.alpha_composite(image.convert("RGBA"), layer)
        if fmt == "JPEG" or "A" not in image.getbands():
            image = image.convert("RGB")
    tmp = target.with_name(target.name + ".part")
    options = {"quality": 92, "subsampling": 0} if fmt == "JPEG" else {"optimize": True}
    image.save(tmp, fmt, **options)  # no exif=, no pnginfo=: metadata is not copied
    tmp.replace(target)
    operations: dict = {"format": fmt, "metadata": "removed", "boxes": [list(b) for b in boxes]}
    if watermark is not None:
        operations["watermark"] = watermark.to_dict()
    if not plan.is_empty():
        operations["redaction"] = plan.to_dict()
    kind = "redacted-copy" if not plan.is_empty() else "watermarked-copy"
    return finish(kind=kind, source=source, target=target, operations=operations)


def blur_rgb(pixels: np.ndarray, box: Box, *, style: str = "blur", cells: int = 6) -> None:
    """Shrink and enlarge ``box`` of an (h, w, channels) array in place (see ``yuv.blur_box``)."""
    x, y, w, h = box
    region = pixels[y : y + h, x : x + w]
    if region.shape[0] < 2 or region.shape[1] < 2:
        return
    rh, rw = region.shape[:2]
    cell = max(1, min(rh, rw) // cells)
    small = cv2.resize(
        region, (max(1, rw // cell), max(1, rh // cell)), interpolation=cv2.INTER_AREA
    )
    interp = cv2.INTER_NEAREST if style == "pixelate" else cv2.INTER_LINEAR
    region[...] = cv2.resize(small, (rw, rh), interpolation=interp)
