"""Generate small but *real* media files for tests and benchmarks.

Every function encodes genuine streams with PyAV (FFmpeg) or Pillow so that tests exercise the
same demuxers and decoders that production evidence goes through, instead of hand-made byte
blobs. Files are deliberately tiny (320x240, about 2 s, 15 fps) so that each one is produced in
well under a second on a two-core machine.

No Django imports: usable from plain pytest, management commands and benchmark scripts alike.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import piexif
from PIL import Image, ImageDraw

SHANGHAI = ZoneInfo("Asia/Shanghai")
FPS = 15
AUDIO_RATE = 16000


def _frame_rgb(index: int, width: int, height: int) -> np.ndarray:
    """Return an RGB frame with a moving rectangle and a binary frame counter.

    Moving content makes encoders emit realistic P/B frames rather than empty skips, and the
    counter makes individual frames distinguishable when a test wants to inspect one.
    """
    img = np.empty((height, width, 3), dtype=np.uint8)
    # Gradient background, shifted a little each frame.
    img[:, :, 0] = (np.arange(width, dtype=np.uint16)[None, :] + index * 3) % 256
    img[:, :, 1] = (np.arange(height, dtype=np.uint16)[:, None] * 255 // max(height, 1)) % 256
    img[:, :, 2] = 96
    # Frame counter as 8 black/white cells along the top edge (read back by frame_counter()).
    cell = max(2, width // 16)
    box = max(8, min(width, height) // 5)
    x = (index * 7) % max(1, width - box)
    y = cell + (index * 5) % max(1, height - box - cell)  # below the counter row
    img[y : y + box, x : x + box] = (255, 255, 255)
    for bit in range(8):
        value = 255 if (index >> bit) & 1 else 0
        img[0:cell, bit * cell : (bit + 1) * cell] = value
    return img


def frame_counter(image: Image.Image) -> int:
    """Read back the frame counter drawn by :func:`_frame_rgb` from a decoded (maybe scaled,
    JPEG-compressed) picture, so tests can tell *which* frame a poster or thumbnail shows."""
    gray = image.convert("L")
    cell = gray.width / 16
    bits = (gray.getpixel((int((bit + 0.5) * cell), int(cell / 2))) > 128 for bit in range(8))
    return sum(1 << bit for bit, on in enumerate(bits) if on)


def _tone(samples: int, rate: int, start: int) -> np.ndarray:
    """Return a mono float32 440 Hz sine tone chunk of ``samples`` samples from ``start``."""
    t = (np.arange(samples) + start) / rate
    return (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)


def _iso_utc(value: datetime | str) -> str:
    """Format a datetime the way FFmpeg writes MP4 ``creation_time``: 'YYYY-MM-DDTHH:MM:SS.000000Z'.

    Naive datetimes are taken to be UTC already (that is what the MP4 ``mvhd`` box stores).
    """
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _write_av(
    path: Path | str,
    *,
    fmt: str,
    video_codec: str | None,
    audio_codec: str | None,
    seconds: float,
    width: int = 320,
    height: int = 240,
    pix_fmt: str = "yuv420p",
    video_options: dict[str, str] | None = None,
    audio_rate: int = AUDIO_RATE,
    audio_format: str = "fltp",
    audio_bit_rate: int | None = None,
    metadata: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    rotation: int = 0,
) -> Path:
    """Encode a synthetic clip (video and/or a tone) into ``path`` and return it as a Path.

    ``rotation``: a display matrix turning the picture that many degrees counter-clockwise, as
    phones and some cameras write instead of turning the pixels.
    """
    path = Path(path)
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        for key, value in (metadata or {}).items():
            out.metadata[key] = value
        vs = as_ = None
        if video_codec:
            vs = out.add_stream(video_codec, rate=FPS, options=video_options or {})
            vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
            if rotation:
                vs.set_display_rotation(rotation)
        if audio_codec:
            as_ = out.add_stream(audio_codec, rate=audio_rate, layout="mono")
            as_.format = audio_format
            if audio_bit_rate:
                as_.bit_rate = audio_bit_rate
        if vs is not None:
            for i in range(int(round(seconds * FPS))):
                frame = av.VideoFrame.from_ndarray(_frame_rgb(i, width, height), format="rgb24")
                frame = frame.reformat(format=pix_fmt)
                frame.pts, frame.time_base = i, Fraction(1, FPS)
                out.mux(vs.encode(frame))
            out.mux(vs.encode(None))
        if as_ is not None:
            chunk = as_.codec_context.frame_size or 1024
            total = int(seconds * audio_rate)
            for start in range(0, total, chunk):
                n = min(chunk, total - start)
                data = _tone(n, audio_rate, start)
                if audio_format == "s16":
                    data = (data * 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(
                    data[None, :], format=audio_format, layout="mono"
                )
                frame.sample_rate, frame.pts = audio_rate, start
                frame.time_base = Fraction(1, audio_rate)
                out.mux(as_.encode(frame))
            out.mux(as_.encode(None))
    return path


def make_h264_mp4(
    path: Path | str,
    *,
    seconds: float = 2,
    creation_time: datetime | str | None = None,
    width: int = 320,
    height: int = 240,
    audio: bool = True,
    faststart: bool = False,
) -> Path:
    """Write an H.264 (yuv420p) + AAC MP4, optionally tagged with container ``creation_time``.

    ``creation_time`` is stored as ISO 8601 UTC ('YYYY-MM-DDTHH:MM:SS.000000Z'), exactly like
    FFmpeg-based recorders do. By default the moov atom is written at the end (as most body
    cameras do); ``faststart=True`` moves it to the front.
    """
    metadata = {"creation_time": _iso_utc(creation_time)} if creation_time is not None else {}
    return _write_av(
        path,
        fmt="mp4",
        video_codec="libx264",
        audio_codec="aac" if audio else None,
        seconds=seconds,
        width=width,
        height=height,
        video_options={"preset": "ultrafast", "g": str(FPS)},
        metadata=metadata,
        options={"movflags": "faststart"} if faststart else None,
    )


def make_hevc_mp4(
    path: Path | str,
    *,
    seconds: float = 2,
    creation_time: datetime | str | None = None,
    width: int = 320,
    height: int = 240,
    rotation: int = 0,
) -> Path:
    """Write an HEVC (libx265) + AAC MP4 - the format newer body cameras record, not playable
    in most browsers, hence the need for proxies. ``rotation``: see :func:`_write_av`."""
    metadata = {"creation_time": _iso_utc(creation_time)} if creation_time is not None else {}
    return _write_av(
        path,
        fmt="mp4",
        video_codec="libx265",
        audio_codec="aac",
        seconds=seconds,
        width=width,
        height=height,
        video_options={"preset": "ultrafast", "x265-params": "log-level=error"},
        metadata=metadata,
        rotation=rotation,
    )


def make_mjpeg_avi(
    path: Path | str, *, seconds: float = 2, width: int = 320, height: int = 240
) -> Path:
    """Write a Motion-JPEG AVI with PCM audio, the format of older/cheaper recorders."""
    return _write_av(
        path,
        fmt="avi",
        video_codec="mjpeg",
        audio_codec="pcm_s16le",
        seconds=seconds,
        width=width,
        height=height,
        pix_fmt="yuvj420p",
        audio_format="s16",
    )


def make_wav(path: Path | str, seconds: float = 2) -> Path:
    """Write a 16 kHz mono PCM WAV tone (as audio recorders produce)."""
    return _write_av(
        path,
        fmt="wav",
        video_codec=None,
        audio_codec="pcm_s16le",
        seconds=seconds,
        audio_format="s16",
    )


def make_amr(path: Path | str, seconds: float = 2) -> Path:
    """Write an AMR-NB file (8 kHz mono, 12.2 kbit/s) via libopencore_amrnb - the format of
    phone call / voice recorders. Raises av.error.FFmpegError if the encoder is unavailable."""
    return _write_av(
        path,
        fmt="amr",
        video_codec=None,
        audio_codec="libopencore_amrnb",
        seconds=seconds,
        audio_rate=8000,
        audio_format="s16",
        audio_bit_rate=12200,
    )


def make_jpeg_with_exif(
    path: Path | str,
    *,
    taken_at: datetime,
    offset: str | None = None,
    width: int = 640,
    height: int = 480,
) -> Path:
    """Write a JPEG whose EXIF DateTimeOriginal is ``taken_at`` (wall-clock, as cameras do).

    An aware ``taken_at`` is first converted to Asia/Shanghai wall-clock time, mimicking a
    camera set to China time. ``offset`` (e.g. '+09:00') additionally writes
    OffsetTimeOriginal, in which case ``taken_at`` is written unchanged.
    """
    if taken_at.tzinfo is not None and offset is None:
        taken_at = taken_at.astimezone(SHANGHAI).replace(tzinfo=None)
    img = Image.fromarray(_frame_rgb(3, width, height))
    ImageDraw.Draw(img).text((10, height // 2), "Liuhen test", fill=(0, 0, 0))
    exif_ifd = {piexif.ExifIFD.DateTimeOriginal: taken_at.strftime("%Y:%m:%d %H:%M:%S").encode()}
    if offset:
        exif_ifd[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: b"Liuhen", piexif.ImageIFD.Model: b"TestCam"},
            "Exif": exif_ifd,
        }
    )
    path = Path(path)
    img.save(path, "JPEG", quality=85, exif=exif)
    return path


def make_truncated_mp4(path: Path | str, *, faststart: bool = False) -> Path:
    """Write an H.264 MP4 and cut it to about half its size, as when a recorder loses power.

    With the default layout (moov at the end) the moov atom is lost entirely; with
    ``faststart=True`` the moov survives but the mdat payload it indexes is cut short.
    """
    path = Path(path)
    make_h264_mp4(path, faststart=faststart)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    return path


def make_garbage(path: Path | str, size_bytes: int = 64 * 1024, *, seed: int = 18) -> Path:
    """Write deterministic pseudo-random bytes (no recognisable container)."""
    path = Path(path)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size_bytes, np.uint8).tobytes())
    return path


def make_large_file(path: Path | str, size_bytes: int, *, chunk_size: int = 1 << 20) -> Path:
    """Write a *valid* MP4 of exactly ``size_bytes`` bytes, for hashing/upload benchmarks.

    The file is a small real H.264 MP4 (probe says readable, 2 s) followed by one top-level
    ``free`` box holding the padding, which every demuxer skips. The padding is a single 1 MiB
    pseudo-random block repeated, so it is streamed to disk without holding the file in memory
    and does not compress away under gzip-style transport compression. Boxes above 4 GiB use
    the 64-bit ``largesize`` header.
    """
    path = Path(path)
    make_h264_mp4(path, seconds=2)
    base = path.stat().st_size
    pad = size_bytes - base
    if pad < 16:
        raise ValueError(f"size_bytes must be at least {base + 16} bytes")
    header = (
        pad.to_bytes(4, "big") + b"free"
        if pad < 2**32
        else (1).to_bytes(4, "big") + b"free" + pad.to_bytes(8, "big")
    )
    block = np.random.default_rng(0).integers(0, 256, chunk_size, np.uint8).tobytes()
    remaining = pad - len(header)
    with open(path, "ab") as fh:
        fh.write(header)
        while remaining > 0:
            n = min(remaining, chunk_size)
            fh.write(block[:n])
            remaining -= n
    return path
