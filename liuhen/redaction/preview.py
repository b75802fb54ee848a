"""The preview an approver sees before a redacted copy is approved (第十七条第四款).

A few stills from the original with every box drawn on them (automatic faces in red with their
id, suppressed ones in grey, the regions whose automatic boxes are taken off by hand in grey
too, manual boxes in blue) and the list of detections. The stills show
the unredacted picture: they are internal, for the approver, never part of the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from liuhen.redaction.fonts import cjk_font
from liuhen.redaction.images import FORMATS, open_upright
from liuhen.redaction.plan import RedactionPlan
from liuhen.redaction.source import VideoSource

AUTO, SUPPRESSED, MANUAL = (230, 30, 30), (150, 150, 150), (30, 90, 230)


@dataclass(frozen=True)
class Preview:
    """Stills (JPEG paths, with their times) and the detections they illustrate."""

    stills: list[Path]
    times: list[float]
    detections: list[dict]
    manual: list[dict]

    def to_dict(self) -> dict:
        return {
            "stills": [
                {"file": p.name, "time": round(t, 3)}
                for p, t in zip(self.stills, self.times, strict=True)
            ],
            "detections": self.detections,
            "manual": self.manual,
        }


def preview_redaction(
    *,
    source: str | Path,
    plan: RedactionPlan,
    target_dir: str | Path,
    count: int = 4,
    times: list[float] | None = None,
    width: int = 960,
) -> Preview:
    """Write ``count`` stills (or one per time in ``times``) as ``preview_NN.jpg``."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    if _is_photo(source):
        image, _ = open_upright(source)
        pictures = [(0.0, image.convert("RGB"))]
    else:
        pictures = _video_stills(Path(source), count, times)
    stills = []
    for n, (t, image) in enumerate(pictures, start=1):
        _draw(image, plan, t)
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)))
        path = target_dir / f"preview_{n:02d}.jpg"
        image.save(path, "JPEG", quality=85)
        stills.append(path)
    return Preview(
        stills,
        [t for t, _ in pictures],
        _detections(plan),
        [{**box.__dict__} for box in plan.manual],
    )


def _is_photo(source) -> bool:
    try:
        with Image.open(source) as img:
            return img.format in FORMATS
    except OSError:
        return False


def _video_stills(source: Path, count: int, times: list[float] | None):
    with VideoSource(source) as src:
        if src.video is None:
            return []
        duration = src.duration or 0.0
        wanted = (
            sorted(times)
            if times is not None
            else [duration * (i + 0.5) / count for i in range(count)]
        )
        found, last = [], None
        for frame in src.decoded():
            t = src.time_of(frame)
            last = (t, frame)
            while len(found) < len(wanted) and t >= wanted[len(found)] - 1e-6:
                found.append((t, src.prepare(frame, writable=False).to_image()))
            if len(found) == len(wanted):
                break
        while last is not None and len(found) < len(wanted):  # times past the end
            found.append((last[0], src.prepare(last[1], writable=False).to_image()))
        return found


def _draw(image: Image.Image, plan: RedactionPlan, t: float) -> None:
    draw = ImageDraw.Draw(image)
    line = max(2, image.width // 400)
    font = cjk_font().load(max(12, image.width // 60))
    shown = {track_id for track_id, _ in plan.auto_boxes_at(t, image.width, image.height)}
    if plan.faces:
        hidden = RedactionPlan(faces=plan.faces, margin=plan.margin)  # without suppressions
        for track_id, box in hidden.auto_boxes_at(t, image.width, image.height):
            label = track_id if track_id in shown else f"{track_id} 不遮挡"
            _box(draw, box, AUTO if track_id in shown else SUPPRESSED, label, font, line)
    for region in plan.suppressed_regions_at(t, image.width, image.height):
        _box(draw, region, SUPPRESSED, "不遮挡区域", font, max(1, line // 2))
    for box_id, box in plan.manual_boxes_at(t, image.width, image.height):
        _box(draw, box, MANUAL, f"{box_id} 手动", font, line)
    draw.text(
        (line * 4, line * 4),
        f"{t:.2f} s",
        fill=(255, 255, 255),
        font=font,
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )


def _box(draw, box, colour, label, font, line) -> None:
    x, y, w, h = box
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=colour, width=line)
    draw.text(
        (x + line, max(0, y - font.size - line * 2)),
        label,
        fill=colour,
        font=font,
        stroke_width=1,
        stroke_fill=(255, 255, 255),
    )


def _detections(plan: RedactionPlan) -> list[dict]:
    if plan.faces is None:
        return []
    rows = []
    for track in plan.faces.tracks:
        suppressed = [
            s.__dict__
            for s in plan.suppressions
            if s.track == track.id
            or (s.is_region and any(s.hides(track.id, box, t) for t, box in track.samples))
        ]
        rows.append(
            {
                "id": track.id,
                "start": round(track.start, 3),
                "end": round(track.end, 3),
                "samples": len(track.samples),
                "first_box": list(track.samples[0][1]),
                "suppressed": suppressed,
            }
        )
    return rows
