"""Reading a recording for redaction: decoded frames upright, yuv420p, writable, timed.

Times are seconds from the recording's first timestamp (the origin the plan, the detections
and the preview share). A recorder that stores a display rotation instead of turning its
pixels is turned here, so boxes and the watermark are placed as the viewer sees the picture,
and the copy plays upright in any player.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

_OPEN = {"metadata_errors": "ignore"}


class MediaError(RuntimeError):
    """The source cannot be read or written as needed; the message says why."""


def _quarter_turn(frame: av.VideoFrame) -> int:
    rotation = frame.rotation or 0
    angle = round(rotation / 90) * 90 % 360
    return angle if abs(rotation % 360 - angle) < 1 else 0


def _turn_graph(angle: int, width: int, height: int, time_base) -> av.filter.Graph:
    graph = av.filter.Graph()
    node = graph.add_buffer(width=width, height=height, format="yuv420p", time_base=time_base)
    steps = {90: [("transpose", "cclock")], 270: [("transpose", "clock")]}
    for name, args in steps.get(angle, [("hflip", None), ("vflip", None)]):
        following = graph.add(name, args)
        node.link_to(following)
        node = following
    sink = graph.add("buffersink")
    node.link_to(sink)
    graph.configure()
    return graph


class VideoSource:
    """An open recording: its main video stream (if any), first audio stream, and geometry.

    Use as a context manager; :meth:`frames` decodes the video alone, :meth:`prepare` readies
    one decoded frame for a caller that demuxes itself.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rotation = self._probe_rotation()
        try:
            self.container = av.open(str(self.path), **_OPEN)
        except (av.FFmpegError, OSError) as exc:
            raise MediaError(f"无法读取 {self.path.name}: {exc}") from exc
        videos = [s for s in self.container.streams.video if s.codec_context.width]
        self.video = max(
            videos, key=lambda s: s.codec_context.width * s.codec_context.height, default=None
        )
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        self.start = (self.container.start_time or 0) / av.time_base
        self.duration = (self.container.duration or 0) / av.time_base
        self.width = self.height = 0
        self._graph = None
        self._last_time = -1 / 25
        self.rate = Fraction(25)
        if self.video is not None:
            self.video.thread_type = "AUTO"
            cc = self.video.codec_context
            self.width, self.height = cc.width, cc.height
            if self.rotation in (90, 270):
                self.width, self.height = self.height, self.width
            rate = self.video.average_rate or self.video.guessed_rate
            self.rate = rate if rate and 0 < rate <= 240 else Fraction(25)
            if self.rotation:
                self._graph = _turn_graph(self.rotation, cc.width, cc.height, self.video.time_base)

    def _probe_rotation(self) -> int:
        try:
            with av.open(str(self.path), **_OPEN) as container:
                if container.streams.video:
                    for frame in container.decode(container.streams.video[0]):
                        return _quarter_turn(frame)
        except (av.FFmpegError, OSError):
            pass
        return 0

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.container.close()

    def time_of(self, frame: av.Frame) -> float:
        """Seconds from the start; a frame without a timestamp follows the previous one."""
        if frame.pts is not None and frame.time_base:
            t = float(frame.pts * frame.time_base) - self.start
        else:
            t = self._last_time + 1 / float(self.rate or 25)
        if isinstance(frame, av.VideoFrame):
            self._last_time = t
        return t

    def prepare(self, frame: av.VideoFrame, *, writable: bool = True) -> av.VideoFrame:
        """The frame upright, yuv420p and writable (a copy only where FFmpeg still holds it;
        ``writable=False`` for a caller that only reads it)."""
        pts, time_base = frame.pts, frame.time_base
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        if self._graph is not None:
            self._graph.push(frame)
            frame = self._graph.pull()
        if writable:
            frame.make_writable()
        frame.pts, frame.time_base = pts, time_base
        return frame

    def decoded(self) -> Iterator[av.VideoFrame]:
        """Every decodable video frame as the decoder gives it (see :meth:`prepare`)."""
        if self.video is None:
            return
        for packet in self.container.demux(self.video):
            try:
                yield from packet.decode()
            except av.FFmpegError:  # a damaged packet: keep what can be shown
                continue
