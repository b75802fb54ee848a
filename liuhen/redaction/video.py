"""Burnt-in watermarks and redaction for video (and audio) copies, streamed frame by frame.

One pass: demux, decode, work on each frame's YUV planes in place (blur the plan's boxes, then
blend the watermark), encode H.264 (libx264) and AAC, mux into a new MP4. Memory holds a few
frames whatever the length. Audio is copied untouched when it is AAC and nothing is muted,
and re-encoded with the muted ranges set to zero otherwise. The original is only read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av

from liuhen.core.lazy import lazy_module
from liuhen.redaction.plan import MuteRange, RedactionPlan
from liuhen.redaction.results import DerivedFile, finish
from liuhen.redaction.source import MediaError, VideoSource
from liuhen.redaction.watermark import Watermark, render_overlay
from liuhen.redaction.yuv import YuvOverlay, blur_box, matrix_for

np = lazy_module("numpy")  # imported on first use (core.lazy)

_AAC_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000}
_SAMPLE_DTYPES = {  # numpy's names: numpy itself is imported on first use
    "u8": "uint8",
    "s16": "int16",
    "s32": "int32",
    "s64": "int64",
    "flt": "float32",
    "dbl": "float64",
}

FrameOp = Callable[[av.VideoFrame, float], None]


@dataclass(frozen=True)
class Encoding:
    """libx264 and AAC settings of a copy; :meth:`ffmpeg_args` gives the same to the CLI."""

    preset: str = "veryfast"
    crf: int = 23
    threads: int = 0  # 0: libx264 decides (about 1.5 per core)
    keyframe_seconds: float = 2.0
    audio_bit_rate: int = 128_000
    copy_audio: bool = True  # AAC passes through untouched when no range is muted

    def gop(self, rate: Fraction) -> int:
        return max(1, round(self.keyframe_seconds * float(rate)))

    def x264_options(self, rate: Fraction) -> dict[str, str]:
        return {"preset": self.preset, "crf": str(self.crf), "g": str(self.gop(rate))}

    def ffmpeg_args(self, rate: Fraction, *, copy_audio: bool) -> list[str]:
        """The same encode as ``ffmpeg`` arguments (after ``-i``), for the benchmark."""
        audio = (
            ["-c:a", "copy"] if copy_audio else ["-c:a", "aac", "-b:a", str(self.audio_bit_rate)]
        )
        return [
            "-c:v",
            "libx264",
            "-preset",
            self.preset,
            "-crf",
            str(self.crf),
            "-g",
            str(self.gop(rate)),
            "-threads",
            str(self.threads),
            "-pix_fmt",
            "yuv420p",
            *audio,
            "-movflags",
            "+faststart",
        ]


def watermark_video(
    *, source: str | Path, target: str | Path, watermark: Watermark, encoding: Encoding = Encoding()
) -> DerivedFile:
    """A new MP4 of ``source`` with ``watermark`` burnt into every frame (第十七条第二款)."""
    return redact_video(
        source=source, target=target, plan=RedactionPlan(), watermark=watermark, encoding=encoding
    )


def redact_video(
    *,
    source: str | Path,
    target: str | Path,
    plan: RedactionPlan,
    watermark: Watermark | None = None,
    encoding: Encoding = Encoding(),
) -> DerivedFile:
    """A new MP4 of ``source`` with the plan's boxes blurred, its ranges muted and, if given,
    the watermark burnt in (第十七条第四款). An audio-only source gives an AAC-only MP4."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("副本不能覆盖原始文件 / the copy must not overwrite the original")
    counts = {"frames": 0, "frames_redacted": 0, "boxes": 0}
    ops: list[FrameOp] = []
    if not plan.is_empty():
        ops.append(_redaction_op(plan, counts))
    if watermark is not None:
        ops.append(_watermark_op(watermark))
    audio = _transcode(source, target, ops=ops, mutes=plan.mutes, encoding=encoding, counts=counts)
    operations: dict = {"encoding": asdict(encoding), "audio": audio, "counts": counts}
    if watermark is not None:
        # An audio recording has no picture to mark: the record says so rather than claim it.
        operations["watermark"] = watermark.to_dict() if counts["frames"] else None
    if not plan.is_empty():
        operations["redaction"] = plan.to_dict()
    kind = "redacted-copy" if not plan.is_empty() else "watermarked-copy"
    return finish(kind=kind, source=source, target=target, operations=operations)


def _redaction_op(plan: RedactionPlan, counts: dict) -> FrameOp:
    def apply(frame: av.VideoFrame, t: float) -> None:
        boxes = plan.boxes_at(t, frame.width, frame.height)
        for box in boxes:
            blur_box(frame, box, style=plan.style)
        counts["frames_redacted"] += bool(boxes)
        counts["boxes"] += len(boxes)

    return apply


def _watermark_op(watermark: Watermark) -> FrameOp:
    overlay: YuvOverlay | None = None

    def apply(frame: av.VideoFrame, t: float) -> None:
        nonlocal overlay
        if overlay is None:  # drawn once, in the first frame's size and colour matrix
            matrix, full = matrix_for(frame)
            layer, boxes = render_overlay(watermark, frame.width, frame.height)
            overlay = YuvOverlay(layer, boxes, matrix=matrix, full=full)
        overlay.apply(frame)

    return apply


def _transcode(
    source: Path,
    target: Path,
    *,
    ops: list[FrameOp],
    mutes: list[MuteRange],
    encoding: Encoding,
    counts: dict,
) -> str:
    """Stream ``source`` into ``target`` (via ``<target>.part``); return how audio was made."""
    tmp = target.with_name(target.name + ".part")
    try:
        with VideoSource(source) as src:
            if src.video is None and src.audio is None:
                raise MediaError("没有可处理的音视频流 / no audio or video stream")
            # An audio recording is copied all the same (muted where asked): its description
            # then records that no watermark was burnt in (see redact_video).
            with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                video = _VideoOut(out, src, encoding) if src.video is not None else None
                audio = _audio_out(out, src, mutes, encoding) if src.audio is not None else None
                streams = [s for s in (src.video, src.audio) if s is not None]
                for packet in src.container.demux(*streams):
                    if video is not None and packet.stream is src.video:
                        for frame in _decode(packet):
                            t = src.time_of(frame)
                            frame = src.prepare(frame)
                            for op in ops:
                                op(frame, t)
                            video.add(frame)
                            counts["frames"] += 1
                    elif audio is not None:
                        audio.add(packet)
                if video is not None:
                    video.flush()
                if audio is not None:
                    audio.flush()
                if video is not None and not counts["frames"]:
                    raise MediaError("没有可解码的画面 / no frame could be decoded")
        os.replace(tmp, target)
    except (av.FFmpegError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"副本生成失败 / copy failed: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return audio.kind if audio is not None else "none"


def _decode(packet: av.Packet) -> list:
    try:
        return packet.decode()
    except av.FFmpegError:  # a damaged packet: keep what can be shown
        return []


class _VideoOut:
    """libx264 yuv420p at the source's (upright) size, rate and timestamps."""

    def __init__(self, out, src: VideoSource, encoding: Encoding) -> None:
        self.stream = out.add_stream(
            "libx264", rate=src.rate, options=encoding.x264_options(src.rate)
        )
        self.stream.width, self.stream.height = src.width, src.height
        self.stream.pix_fmt = "yuv420p"
        cc = self.stream.codec_context
        cc.time_base = src.video.time_base
        cc.thread_count = encoding.threads
        # PyAV opens encoders with slice threads; libx264 then runs two sliced threads instead
        # of the frame threads the ffmpeg CLI gives it (1.5 per core): about 40 % slower at
        # 1080p on two cores. Frame and slice allowed, as ffmpeg's default, picks frames.
        cc.thread_type = "AUTO"
        incc = src.video.codec_context
        for name in ("colorspace", "color_primaries", "color_trc"):
            try:
                setattr(cc, name, getattr(incc, name))
            except (AttributeError, ValueError, TypeError):
                pass
        self.out, self.last_pts = out, None

    def add(self, frame: av.VideoFrame) -> None:
        # The decoder's picture type would make libx264 copy the source's keyframes.
        frame.pict_type = av.video.frame.PictureType.NONE
        if frame.pts is None or (self.last_pts is not None and frame.pts <= self.last_pts):
            frame.pts = 0 if self.last_pts is None else self.last_pts + 1
        self.last_pts = frame.pts
        self.out.mux(self.stream.encode(frame))

    def flush(self) -> None:
        self.out.mux(self.stream.encode(None))


def _audio_out(out, src: VideoSource, mutes: list[MuteRange], encoding: Encoding):
    if encoding.copy_audio and not mutes and src.audio.codec_context.name == "aac":
        return _AudioCopy(out, src)
    return _AudioEncode(out, src, mutes, encoding)


class _AudioCopy:
    """AAC packets passed through untouched (nothing to mute)."""

    kind = "copied"

    def __init__(self, out, src: VideoSource) -> None:
        self.out, self.stream = out, out.add_stream_from_template(src.audio)

    def add(self, packet: av.Packet) -> None:
        if packet.dts is None:  # the demuxer's empty flush packet
            return
        packet.stream = self.stream
        self.out.mux(packet)

    def flush(self) -> None:
        pass


class _AudioEncode:
    """Decoded, muted where the plan says, resampled into 1024-sample frames, encoded as AAC."""

    def __init__(self, out, src: VideoSource, mutes: list[MuteRange], encoding: Encoding) -> None:
        cc = src.audio.codec_context
        layout = "mono" if (cc.layout.nb_channels if cc.layout else 1) == 1 else "stereo"
        self.rate = cc.sample_rate if cc.sample_rate in _AAC_RATES else 48000
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.stream.bit_rate = encoding.audio_bit_rate // (2 if layout == "mono" else 1)
        self.stream.codec_context.time_base = Fraction(1, self.rate)
        self.resampler = av.AudioResampler("fltp", layout, self.rate, frame_size=1024)
        self.kind = "aac, muted ranges" if mutes else "aac"
        self.out, self.src, self.mutes, self.samples = out, src, mutes, None

    def add(self, packet: av.Packet) -> None:
        for frame in _decode(packet):
            if self.mutes:
                silence(frame, self.src.time_of(frame), self.mutes)
            self._encode(frame)

    def _encode(self, frame: av.AudioFrame | None) -> None:
        if self.samples is None:  # audio may start after the video: keep that offset
            offset = self.src.time_of(frame) if frame is not None else 0.0
            self.samples = max(0, round(offset * self.rate))
        if frame is not None:
            frame.pts = None  # regenerated from the sample count below
        for chunk in self.resampler.resample(frame):
            chunk.pts, chunk.time_base = self.samples, Fraction(1, self.rate)
            self.samples += chunk.samples
            self.out.mux(self.stream.encode(chunk))

    def flush(self) -> None:
        self._encode(None)
        self.out.mux(self.stream.encode(None))


def silence(frame: av.AudioFrame, t: float, mutes: list[MuteRange]) -> int:
    """Set the frame's samples inside the muted ranges to silence; return how many."""
    n, rate = frame.samples, frame.sample_rate
    spans = []
    for mute in mutes:
        i0 = max(0, math.ceil((mute.start - t) * rate - 1e-9))
        i1 = min(n, math.ceil((mute.end - t) * rate - 1e-9))
        if i1 > i0:
            spans.append((i0, i1))
    if not spans:
        return 0
    frame.make_writable()
    name = frame.format.name.rstrip("p")
    dtype, zero = _SAMPLE_DTYPES[name], (128 if name == "u8" else 0)
    channels = frame.layout.nb_channels
    views = (
        [np.frombuffer(p, dtype=dtype)[:n] for p in frame.planes]
        if frame.format.is_planar
        else [np.frombuffer(frame.planes[0], dtype=dtype)[: n * channels].reshape(n, channels)]
    )
    for view in views:
        for i0, i1 in spans:
            view[i0:i1] = zero
    return sum(i1 - i0 for i0, i1 in spans)
