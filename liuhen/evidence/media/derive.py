"""Derivatives of a recording: a browser-playable proxy (H.264/AAC MP4), a poster and
thumbnails. Never written over an original; each is recorded with ``TOOL_VERSION``."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps, UnidentifiedImageError

from liuhen.evidence.media.probe import (
    _AAC_RATES,
    _OUT_TB,
    _SEEK_DECODE_LIMIT,
    MediaError,
    MediaInfo,
    Source,
    _main_video_stream,
    av_input,
    open_image,
    probe,
)


def make_proxy(
    src: Source, dst_path: str | os.PathLike, *, max_height: int = 720
) -> MediaInfo:
    """Transcode a recording to a browser-playable H.264/AAC MP4 (faststart) and probe it.

    Audio-only input gives an AAC-only MP4. Frames are streamed one at a time; source
    timestamps are kept (VFR too), so duration and A/V sync match the original. The output is
    written to ``<dst>.part`` and renamed, so a crash never leaves a half-written proxy.
    Raises :class:`MediaError` when nothing can be decoded. ``src``: a path or a stream
    source (an S3 object read by ranged GETs, issue 14 item 6).
    """
    dst = Path(dst_path)
    tmp = dst.with_name(dst.name + ".part")
    try:
        with av_input(src) as inp:
            vin = _main_video_stream(inp)
            ain = inp.streams.audio[0] if inp.streams.audio else None
            if vin is None and ain is None:
                raise MediaError("no audio or video stream to transcode")
            start = (inp.start_time or 0) / av.time_base  # common origin keeps A/V in sync
            rotation = _display_rotation(src) if vin is not None else 0
            with av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"}) as out:
                encoders = {}
                if vin is not None:
                    vin.thread_type = "AUTO"
                    encoders[vin.index] = _VideoEncoder(out, vin, max_height, start, rotation)
                if ain is not None:
                    encoders[ain.index] = _AudioEncoder(out, ain, start)
                for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
                    try:
                        frames = packet.decode()
                    except av.FFmpegError:  # skip a damaged packet; keep what can be shown
                        continue
                    for frame in frames:
                        encoders[packet.stream.index].add(frame)
                for encoder in encoders.values():
                    encoder.flush()
                if not any(encoder.frames for encoder in encoders.values()):
                    raise MediaError("no frame could be decoded")
        os.replace(tmp, dst)
    except MediaError:
        tmp.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"proxy failed: {exc}") from exc
    info = probe(dst)
    if not info.readable:
        raise MediaError(f"proxy unreadable: {info.error}")
    return info


def _display_rotation(src: Source) -> int:
    """The quarter turn (0, 90, 180 or 270, counter-clockwise) the first video frame needs.

    Phones and some body cameras record sideways and store a display matrix instead of turning
    the pixels; browsers honour it for originals, but a proxy is re-encoded, so the turn must be
    applied to its pixels. Angles that are not quarter turns count as 0.
    """
    try:
        with av_input(src) as container:
            stream = _main_video_stream(container)
            if stream is None:
                return 0
            for frame in container.decode(stream):
                return _quarter_turn(frame)
    except (av.FFmpegError, OSError, ValueError):
        pass
    return 0


def _quarter_turn(frame: av.VideoFrame) -> int:
    """The frame's display-matrix rotation (degrees CCW) as 0, 90, 180 or 270; other angles
    count as 0."""
    rotation = frame.rotation or 0
    angle = round(rotation / 90) * 90 % 360
    return angle if abs(rotation % 360 - angle) < 1 else 0


def _turn(angle: int, width: int, height: int):
    """A filter graph turning ``width``×``height`` yuv420p frames ``angle`` degrees CCW."""
    graph = av.filter.Graph()
    node = graph.add_buffer(width=width, height=height, format="yuv420p", time_base=_OUT_TB)
    steps = {90: [("transpose", "cclock")], 270: [("transpose", "clock")]}
    for name, args in steps.get(angle, [("hflip", None), ("vflip", None)]):
        following = graph.add(name, args)
        node.link_to(following)
        node = following
    sink = graph.add("buffersink")
    node.link_to(sink)
    graph.configure()
    return graph


class _VideoEncoder:
    """libx264 yuv420p encoder fed with decoded frames, re-timed on a 1/90000 time base."""

    def __init__(self, out, vin, max_height: int, start: float, rotation: int = 0) -> None:
        """Add the output stream, scaled to at most ``max_height`` and to even dimensions.

        ``rotation`` (degrees CCW, a quarter turn) is applied to the pixels, so the proxy plays
        upright in any player; ``max_height`` then limits the upright height.
        """
        cc = vin.codec_context
        width, height = cc.width, cc.height
        sar = vin.sample_aspect_ratio or cc.sample_aspect_ratio
        if sar and sar > 0 and sar != 1:  # anamorphic recorders: encode square pixels
            width = round(width * sar)
        sideways = rotation in (90, 270)
        if sideways:
            width, height = height, width
        out_h = min(max_height, height)
        out_w = round(width * out_h / height)
        rate = vin.average_rate or vin.guessed_rate
        self.rate = rate if rate and 0 < rate <= 240 else Fraction(25)
        # yuv420p needs even sizes; a keyframe every 2 s keeps scrubbing long recordings fast.
        self.stream = out.add_stream(
            "libx264",
            rate=self.rate,
            options={"preset": "veryfast", "crf": "23", "g": str(max(1, round(2 * self.rate)))},
        )
        self.stream.width, self.stream.height = max(2, out_w & ~1), max(2, out_h & ~1)
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = _OUT_TB
        self.out, self.start, self.last_pts, self.frames = out, start, -1, 0
        # Frames are scaled to the stored (pre-turn) size, then turned by the filter graph.
        s = self.stream
        self.scale = (s.height, s.width) if sideways else (s.width, s.height)
        self.turn = _turn(rotation, *self.scale) if rotation else None

    def add(self, frame: av.VideoFrame) -> None:
        """Scale, re-time (strictly increasing pts) and encode one frame."""
        if frame.pts is not None and frame.time_base:
            pts = round((float(frame.pts * frame.time_base) - self.start) / _OUT_TB)
        else:  # no timestamp (raw streams): assume constant rate after the previous frame
            pts = self.last_pts + round(1 / (self.rate * _OUT_TB))
        self.last_pts = pts = max(pts, self.last_pts + 1)  # muxers reject repeated timestamps
        scaled = frame.reformat(width=self.scale[0], height=self.scale[1], format="yuv420p")
        scaled.pts, scaled.time_base = pts, _OUT_TB
        if self.turn is not None:
            self.turn.push(scaled)
            scaled = self.turn.pull()
            scaled.pts, scaled.time_base = pts, _OUT_TB
        self.frames += 1
        self.out.mux(self.stream.encode(scaled))

    def flush(self) -> None:
        """Drain the encoder's delayed frames."""
        self.out.mux(self.stream.encode(None))


class _AudioEncoder:
    """AAC encoder fed through a resampler that also cuts 1024-sample frames."""

    def __init__(self, out, ain, start: float) -> None:
        """Add the AAC stream; common rates are kept, others (AMR's 8 kHz) become 48 kHz."""
        cc = ain.codec_context
        layout = "mono" if (cc.layout.nb_channels if cc.layout else 1) == 1 else "stereo"
        self.rate = cc.sample_rate if cc.sample_rate in _AAC_RATES else 48000
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.stream.bit_rate = 64000 if layout == "mono" else 128000
        self.stream.codec_context.time_base = Fraction(1, self.rate)
        self.resampler = av.AudioResampler("fltp", layout, self.rate, frame_size=1024)
        self.out, self.start, self.samples, self.frames = out, start, None, 0

    def add(self, frame: av.AudioFrame | None) -> None:
        """Resample and encode; output pts count samples from the first frame's timestamp."""
        if self.samples is None:  # audio may start after the video: keep that offset
            offset = float(frame.time or 0) - self.start if frame is not None else 0
            self.samples = max(0, round(offset * self.rate))
        if frame is not None:
            frame.pts = None  # regenerated from the sample count below
            self.frames += 1
        for chunk in self.resampler.resample(frame):
            chunk.pts, chunk.time_base = self.samples, Fraction(1, self.rate)
            self.samples += chunk.samples
            self.out.mux(self.stream.encode(chunk))

    def flush(self) -> None:
        """Drain the resampler and the encoder."""
        self.add(None)
        self.out.mux(self.stream.encode(None))


def make_poster(
    src_path: Source,
    dst_path: str | os.PathLike,
    *,
    at_seconds: float | None = None,
    width: int = 640,
) -> None:
    """Write a JPEG poster exactly ``width`` pixels wide from a video frame or a photo.

    The frame is taken at ``at_seconds``, by default at 10 % of the duration (1 s if unknown):
    past black fade-ins, yet early enough to show the scene. Raises :class:`MediaError` for
    audio or unreadable files.
    """
    info = _readable(src_path)
    if at_seconds is None:
        at_seconds = info.duration_seconds * 0.1 if info.duration_seconds else 1.0
    (image,) = _pictures(src_path, info, [at_seconds], width)
    _save_jpeg(image, Path(dst_path), width)


def make_thumbnails(
    src_path: Source, dst_dir: str | os.PathLike, *, count: int = 6, width: int = 240
) -> list[Path]:
    """Write ``count`` evenly spaced JPEG thumbnails ``thumb_NN.jpg``; return their paths.

    Each comes from the middle of one of ``count`` equal slices of the video, reached by
    seeking, so long recordings are not decoded end to end. A photo gives one thumbnail, an
    audio file none. Raises :class:`MediaError` for unreadable files.
    """
    info = _readable(src_path, allow_audio=True)
    if info.kind == "audio":
        return []
    duration = info.duration_seconds
    times = [duration * (i + 0.5) / count for i in range(count)] if duration else [0.0]
    images = _pictures(src_path, info, times, width)
    return [
        _save_jpeg(img, Path(dst_dir) / f"thumb_{i:02d}.jpg", width) for i, img in enumerate(images)
    ]


def _readable(src_path: Source, *, allow_audio: bool = False) -> MediaInfo:
    """Probe ``src_path``; raise :class:`MediaError` unless it is a readable picture source."""
    info = probe(src_path)
    if not info.readable:
        raise MediaError(f"unreadable source: {info.error}")
    if info.kind not in ("video", "photo") and not (allow_audio and info.kind == "audio"):
        raise MediaError(f"no picture in {info.kind} file")
    return info


def _pictures(src: Source, info: MediaInfo, times: list[float], width: int) -> list[Image.Image]:
    """Images for a photo (one, upright) or for each of ``times`` in a video."""
    if info.kind == "photo":
        try:
            with open_image(src) as img:
                img.draft("RGB", (width, width))  # JPEG: decode at a scale still >= width
                return [ImageOps.exif_transpose(img).convert("RGB")]
        except UnidentifiedImageError:  # HEIC without pillow-heif: FFmpeg decodes it
            times = [0.0]
    return _frames_at(src, times)


def _frames_at(src: Source, times: list[float]) -> list[Image.Image]:
    """Decode the first frame at or after each time (seconds from the start) as RGB images."""
    images = []
    with av_input(src) as container:
        stream = _main_video_stream(container) or container.streams.video[0]
        stream.thread_type = "AUTO"
        first = stream.start_time or 0
        for t in times:
            target = first + int(max(0.0, t) / stream.time_base)
            frame = None
            try:
                container.seek(target, stream=stream)  # lands on the keyframe before target
                for n, frame in enumerate(container.decode(stream)):
                    if frame.pts is None or frame.pts >= target or n >= _SEEK_DECODE_LIMIT:
                        break
            except av.FFmpegError:
                pass  # unseekable or damaged: fall back to the first frame below
            if frame is None:  # seeked past the last keyframe's frames, or seek failed
                container.seek(first, stream=stream)
                frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaError(f"no frame decodable near {t:.1f} s")
            image = frame.to_image()
            turn = _quarter_turn(frame)
            images.append(image.rotate(turn, expand=True) if turn else image)
    return images


def _save_jpeg(image: Image.Image, dst: Path, width: int) -> Path:
    """Resize ``image`` to exactly ``width`` pixels wide (keeping aspect) and save as JPEG."""
    height = max(1, round(image.height * width / image.width))
    image = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    dst.parent.mkdir(parents=True, exist_ok=True)
    image.save(dst, "JPEG", quality=85)
    return dst
