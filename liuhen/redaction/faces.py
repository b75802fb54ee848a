"""Automatic face detection for redacted copies: OpenCV's Haar cascade on the luma plane.

Detection runs on every ``every``-th frame (a 1080p frame costs tens of milliseconds even
shrunk to ``detect_width``), and detections are joined into tracks across samples. Between
two samples of a track the box is interpolated; before its first and after its last sample
it is held for ``hold`` seconds (a little more than the sampling gap), and a gap of up to
``max_gap`` seconds where the cascade lost the face for a few samples is bridged: a face must
not flash unblurred for the frames between samples, nor when Haar blinks.

The frontal cascade misses profiles, faces turned away, and small or dark faces: the officer's
manual boxes exist for those (see ``plan.py``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from liuhen.core.lazy import lazy_module
from liuhen.redaction.source import VideoSource
from liuhen.redaction.watermark import Box
from liuhen.redaction.yuv import planes

cv2 = lazy_module("cv2")
np = lazy_module("numpy")  # imported on first use (core.lazy)

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass
class FaceTrack:
    """One face followed across samples: ``samples`` are (seconds, box) in time order."""

    id: str
    samples: list[tuple[float, Box]] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.samples[0][0]

    @property
    def end(self) -> float:
        return self.samples[-1][0]

    def box_at(self, t: float, hold: float) -> Box | None:
        """The track's box at ``t`` (interpolated, or held near an end); None if not there.

        Consecutive samples are never further apart than the tracker's ``max_gap``, so
        interpolating between any two of them bridges only short losses.
        """
        times = [s[0] for s in self.samples]
        if t < times[0] - hold or t > times[-1] + hold:
            return None
        i = bisect.bisect_right(times, t)
        if i == 0:
            return self.samples[0][1]
        if i == len(times):
            return self.samples[-1][1]
        (t0, b0), (t1, b1) = self.samples[i - 1], self.samples[i]
        k = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        x, y, w, h = (round(a + (b - a) * k) for a, b in zip(b0, b1, strict=True))
        return (x, y, w, h)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "samples": [[round(t, 3), list(box)] for t, box in self.samples],
        }


@dataclass
class FaceAnalysis:
    """The detections of one recording, as the approver saw them in the preview."""

    tracks: list[FaceTrack]
    every: int
    hold: float
    width: int
    height: int
    frames: int = 0
    sampled: int = 0
    detector: str = f"opencv-haar:{CASCADE}"

    def to_dict(self) -> dict:
        return {
            "detector": self.detector,
            "opencv": cv2.__version__,
            "every": self.every,
            "hold": round(self.hold, 3),
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "sampled": self.sampled,
            "tracks": [track.to_dict() for track in self.tracks],
        }

    @classmethod
    def from_dict(cls, data: dict) -> FaceAnalysis:
        tracks = [
            FaceTrack(t["id"], [(float(s[0]), tuple(int(v) for v in s[1])) for s in t["samples"]])
            for t in data["tracks"]
        ]
        return cls(
            tracks=tracks,
            every=int(data["every"]),
            hold=float(data["hold"]),
            width=int(data["width"]),
            height=int(data["height"]),
            frames=int(data.get("frames", 0)),
            sampled=int(data.get("sampled", 0)),
            detector=data.get("detector", cls.detector),
        )


class FaceDetector:
    """Haar frontal-face cascade on a shrunk, equalised luma plane."""

    def __init__(self, *, detect_width: int = 640, min_face: int = 20) -> None:
        self.cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / CASCADE))
        if self.cascade.empty():
            raise RuntimeError(f"OpenCV 人脸模型 {CASCADE} 无法加载")
        self.detect_width = detect_width
        self.min_face = min_face

    def detect(self, gray: np.ndarray) -> list[Box]:
        """Faces in an 8-bit grey picture, as boxes in its own pixels."""
        height, width = gray.shape
        scale = min(1.0, self.detect_width / width)
        small = gray
        if scale < 1:
            size = (round(width * scale), round(height * scale))
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        # No histogram equalisation: on textured scenes it made the cascade miss clear faces.
        small = np.ascontiguousarray(small)
        found = self.cascade.detectMultiScale(
            small, scaleFactor=1.1, minNeighbors=4, minSize=(self.min_face, self.min_face)
        )
        # Left to right, top to bottom: the cascade's own order may change from run to run,
        # and track ids (F1, F2, … in order of appearance) must be the same in the preview the
        # approver saw, in the plan's suppressions, and when the copy is made.
        boxes = [tuple(round(v / scale) for v in box) for box in found]
        return sorted(boxes)  # type: ignore[return-value]


class _Tracker:
    """Joins each sample's detections to the tracks seen recently (best overlap first)."""

    def __init__(self, max_gap: float) -> None:
        self.tracks: list[FaceTrack] = []
        self.max_gap = max_gap

    def add(self, t: float, boxes: list[Box]) -> None:
        live = [tr for tr in self.tracks if t - tr.end <= self.max_gap]
        pairs = sorted(
            (
                (_match(tr.samples[-1][1], box), n, j)
                for n, tr in enumerate(live)
                for j, box in enumerate(boxes)
            ),
            reverse=True,
        )
        used_tracks, used_boxes = set(), set()
        for score, n, j in pairs:
            if score <= 0 or n in used_tracks or j in used_boxes:
                continue
            live[n].samples.append((t, boxes[j]))
            used_tracks.add(n)
            used_boxes.add(j)
        for j, box in enumerate(boxes):
            if j not in used_boxes:
                self.tracks.append(FaceTrack(f"F{len(self.tracks) + 1}", [(t, box)]))


def _match(a: Box, b: Box) -> float:
    """Overlap (IoU), or failing that closeness of centres relative to size (fast motion)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    iou = inter / (aw * ah + bw * bh - inter)
    if iou > 0.1:
        return 1 + iou
    size = max(aw, ah, bw, bh)
    dist = np.hypot((ax + aw / 2) - (bx + bw / 2), (ay + ah / 2) - (by + bh / 2))
    ratio = max(aw, bw) / max(1, min(aw, bw))
    return max(0.0, 1 - dist / size) if ratio < 1.6 else 0.0


def detect_faces(
    source: str | Path,
    *,
    every: int = 5,
    detect_width: int = 640,
    min_face: int = 20,
) -> FaceAnalysis:
    """Detect faces in a video every ``every`` frames and return the tracks (ids F1, F2, …).

    Decodes the whole video once, without encoding; memory stays flat (one frame at a time).
    """
    detector = FaceDetector(detect_width=detect_width, min_face=min_face)
    with VideoSource(source) as src:
        if src.video is None:
            raise ValueError("没有视频画面可供检测 / no video stream")
        gap = every / float(src.rate)
        tracker = _Tracker(max_gap=4 * gap)
        frames = sampled = 0
        for frame in src.decoded():
            if frames % every == 0:
                t = src.time_of(frame)
                upright = src.prepare(frame, writable=False)
                tracker.add(t, detector.detect(planes(upright)[0]))
                sampled += 1
            frames += 1
        return FaceAnalysis(
            tracks=tracker.tracks,
            every=every,
            hold=1.5 * gap,
            width=src.width,
            height=src.height,
            frames=frames,
            sampled=sampled,
        )
