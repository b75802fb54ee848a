"""What a redacted copy hides (第十七条第四款): the plan an officer edits and an approver sees.

Plain data that goes to and from JSON unchanged, so the access app can keep it with the request
and the record of what was handed over can quote it. Times are seconds from the start of the
recording; boxes are pixels of the upright picture (as the player shows it).

- automatic face tracks come from :func:`liuhen.redaction.faces.detect_faces`, each with an id;
- ``suppressions`` take automatic boxes off by hand: a track by its id (a false detection, or
  an officer whose face may show) for its whole length or a time range, or every automatic box
  whose centre lies in a region during a time range (a poster on the wall the detector takes
  for a face, whatever track ids the detector gives it);
- ``manual`` boxes cover what detection misses (profiles, a name badge, a screen) in a range;
- ``mutes`` silence audio ranges (a third person's name, a phone number).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field, fields

from liuhen.redaction.faces import FaceAnalysis
from liuhen.redaction.watermark import Box

STYLES = ("blur", "pixelate")


class PlanError(ValueError):
    """A plan that cannot be applied; the message is Chinese, for the officer."""


def _range(start, end, what: str) -> tuple[float, float]:
    try:
        start, end = float(start), float(end)
    except (TypeError, ValueError):
        raise PlanError(f"{what}: 起止时间必须是秒数") from None
    if start < 0 or end <= start:
        raise PlanError(f"{what}: 结束时间必须晚于开始时间且不小于 0 ({start}–{end})")
    return start, end


@dataclass(frozen=True)
class ManualBox:
    """A box an officer drew, covered from ``start`` to ``end`` (seconds, end exclusive)."""

    id: str
    start: float
    end: float
    x: int
    y: int
    w: int
    h: int
    note: str = ""

    def __post_init__(self) -> None:
        start, end = _range(self.start, self.end, f"手动框 {self.id}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name in ("x", "y", "w", "h"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.w < 2 or self.h < 2 or self.x < 0 or self.y < 0:
            raise PlanError(f"手动框 {self.id}: 位置或大小无效")

    def box(self) -> Box:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class Suppression:
    """Automatic boxes not blurred: those of track ``track`` (wholly, or between ``start`` and
    ``end``), or, with a region ``x y w h`` and a time range instead of a track, every
    automatic box whose centre lies in the region between ``start`` and ``end``."""

    track: str = ""
    start: float | None = None
    end: float | None = None
    reason: str = ""
    x: int | None = None
    y: int | None = None
    w: int | None = None
    h: int | None = None

    def __post_init__(self) -> None:
        region = (self.x, self.y, self.w, self.h)
        what = f"取消自动框 {self.track}" if self.track else "取消区域内的自动框"
        if bool(self.track) == any(v is not None for v in region):
            raise PlanError("取消自动框须给出检测框编号，或给出区域（x y 宽 高）与时间，二者取一")
        if (self.start is None) != (self.end is None):
            raise PlanError(f"{what}: 起止时间须同时给出或同时省略")
        if self.start is not None:
            start, end = _range(self.start, self.end, what)
            object.__setattr__(self, "start", start)
            object.__setattr__(self, "end", end)
        if self.track:
            return
        if self.start is None:
            raise PlanError(f"{what}: 须给出起止时间")
        try:
            x, y, w, h = (int(v) for v in region)
        except (TypeError, ValueError):
            raise PlanError(f"{what}: 区域须为 x y 宽 高 四个整数") from None
        if w < 2 or h < 2 or x < 0 or y < 0:
            raise PlanError(f"{what}: 区域位置或大小无效")
        for name, value in zip(("x", "y", "w", "h"), (x, y, w, h), strict=True):
            object.__setattr__(self, name, value)

    @property
    def is_region(self) -> bool:
        return not self.track

    def covers(self, t: float) -> bool:
        return self.start is None or self.start <= t < self.end

    def hides(self, track: str, box: Box, t: float) -> bool:
        """Whether the automatic box ``box`` of track ``track`` (as detected, before it is
        grown) is taken off at ``t``."""
        if not self.covers(t):
            return False
        if self.track:
            return self.track == track
        bx, by, bw, bh = box
        cx, cy = bx + bw / 2, by + bh / 2
        return self.x <= cx < self.x + self.w and self.y <= cy < self.y + self.h

    def region(self) -> Box | None:
        return None if self.track else (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class MuteRange:
    """Audio from ``start`` to ``end`` (seconds) is replaced by silence."""

    start: float
    end: float
    reason: str = ""

    def __post_init__(self) -> None:
        start, end = _range(self.start, self.end, "静音区间")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


@dataclass
class RedactionPlan:
    """Everything a redacted copy hides. ``faces`` None: no automatic detection at all."""

    faces: FaceAnalysis | None = None
    manual: list[ManualBox] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    mutes: list[MuteRange] = field(default_factory=list)
    margin: float = 0.25  # each automatic box grows by this share on every side (hair, motion)
    style: str = "blur"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise PlanError(f"遮挡方式只能是 {'、'.join(STYLES)}")
        if not 0 <= self.margin <= 1:
            raise PlanError("外扩比例应在 0 至 1 之间")
        known = {track.id for track in self.faces.tracks} if self.faces else set()
        for suppression in self.suppressions:
            if suppression.track and suppression.track not in known:
                raise PlanError(f"没有编号为 {suppression.track} 的自动检测框")
        ids = [box.id for box in self.manual]
        if len(ids) != len(set(ids)):
            raise PlanError("手动框编号重复")

    # Editing, as the officer does on the timeline.
    def add_manual(self, *, start, end, x, y, w, h, note: str = "") -> ManualBox:
        taken = {box.id for box in self.manual}
        new_id = next(f"M{n}" for n in itertools.count(1) if f"M{n}" not in taken)
        box = ManualBox(new_id, start, end, x, y, w, h, note)
        self.manual.append(box)
        return box

    def remove_manual(self, box_id: str) -> None:
        if not any(box.id == box_id for box in self.manual):
            raise PlanError(f"没有编号为 {box_id} 的手动框")
        self.manual = [box for box in self.manual if box.id != box_id]

    def suppress(self, track: str, *, start=None, end=None, reason: str = "") -> Suppression:
        known = {t.id for t in self.faces.tracks} if self.faces else set()
        if track not in known:  # refused before anything changes
            raise PlanError(f"没有编号为 {track} 的自动检测框")
        suppression = Suppression(track, start, end, reason)
        self.suppressions.append(suppression)
        return suppression

    def suppress_region(self, *, start, end, x, y, w, h, reason: str = "") -> Suppression:
        """Take off every automatic box centred in the region from ``start`` to ``end``."""
        suppression = Suppression("", start, end, reason, x, y, w, h)
        self.suppressions.append(suppression)
        return suppression

    def remove_suppression(self, index: int) -> None:
        """Undo a suppression (by its place in ``suppressions``): those boxes are blurred again."""
        if not 0 <= index < len(self.suppressions):
            raise PlanError(f"没有第 {index + 1} 项取消")
        del self.suppressions[index]

    # Applying.
    def auto_boxes_at(self, t: float, width: int, height: int) -> list[tuple[str, Box]]:
        """The automatic boxes (track id, grown box) not suppressed at ``t``."""
        if self.faces is None:
            return []
        found = []
        for track in self.faces.tracks:
            box = track.box_at(t, self.faces.hold)
            if box is None or any(s.hides(track.id, box, t) for s in self.suppressions):
                continue
            found.append((track.id, _clip(_grow(box, self.margin), width, height)))
        return found

    def manual_boxes_at(self, t: float, width: int, height: int) -> list[tuple[str, Box]]:
        return [
            (box.id, _clip(box.box(), width, height))
            for box in self.manual
            if box.start <= t < box.end
        ]

    def suppressed_regions_at(self, t: float, width: int, height: int) -> list[Box]:
        """The regions whose automatic boxes are taken off at ``t`` (the preview draws them)."""
        return [
            _clip(s.region(), width, height)
            for s in self.suppressions
            if s.is_region and s.covers(t)
        ]

    def boxes_at(self, t: float, width: int, height: int) -> list[Box]:
        pairs = self.auto_boxes_at(t, width, height) + self.manual_boxes_at(t, width, height)
        return [box for _, box in pairs if box[2] > 0 and box[3] > 0]

    def is_empty(self) -> bool:
        return not (self.faces and self.faces.tracks) and not self.manual and not self.mutes

    def to_dict(self) -> dict:
        return {
            "faces": self.faces.to_dict() if self.faces else None,
            "manual": [asdict(box) for box in self.manual],
            "suppressions": [asdict(s) for s in self.suppressions],
            "mutes": [asdict(m) for m in self.mutes],
            "margin": self.margin,
            "style": self.style,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RedactionPlan:
        def build(kind, items):
            names = {f.name for f in fields(kind)}
            try:
                return [kind(**{k: v for k, v in item.items() if k in names}) for item in items]
            except TypeError as exc:
                raise PlanError(f"遮挡方案格式错误: {exc}") from None

        faces = data.get("faces")
        return cls(
            faces=FaceAnalysis.from_dict(faces) if faces else None,
            manual=build(ManualBox, data.get("manual") or []),
            suppressions=build(Suppression, data.get("suppressions") or []),
            mutes=build(MuteRange, data.get("mutes") or []),
            margin=float(data.get("margin", 0.25)),
            style=data.get("style", "blur"),
        )


def _grow(box: Box, share: float) -> Box:
    x, y, w, h = box
    dx, dy = round(w * share), round(h * share)
    return (x - dx, y - dy, w + 2 * dx, h + 2 * dy)


def _clip(box: Box, width: int, height: int) -> Box:
    x, y, w, h = box
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))
