"""Real media with a real face for the redaction tests and the benchmark, made with PyAV.

A public-domain portrait (``data/astronaut_face.png``, see ``data/README.md``) slides across a
textured, moving background; a 440 Hz tone plays throughout. :func:`face_box` says where the
face is in any frame, so tests can look exactly there.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

DATA = Path(__file__).parent / "data"
FACE = DATA / "astronaut_face.png"
FACE_IN_CROP = (40, 40, 95, 95)  # where Haar finds the face in the 180×180 crop
AUDIO_RATE = 16000
TONE = 0.3  # amplitude: RMS 0.212


def face_size(height: int) -> int:
    """Side of the pasted portrait: a little under half the picture's height."""
    return (height * 5 // 12) & ~1


def face_offset(index: int, frames: int, width: int, height: int) -> tuple[int, int]:
    """Top-left of the portrait in frame ``index`` of ``frames``: left to right, a little wave."""
    side = face_size(height)
    span = width - side
    x = round(span * index / max(1, frames - 1))
    y = (height - side) // 2 + round((height - side) / 4 * math.sin(index / 7))
    return x, y


def face_box(index: int, frames: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The face itself (as Haar sees it) in frame ``index``: x, y, w, h."""
    x, y = face_offset(index, frames, width, height)
    k = face_size(height) / 180
    fx, fy, fw, fh = FACE_IN_CROP
    return (x + round(fx * k), y + round(fy * k), round(fw * k), round(fh * k))


def _background(width: int, height: int) -> np.ndarray:
    """A fixed texture (smoothed noise and stripes): detail for the encoder to work on."""
    rng = np.random.default_rng(7)
    small = rng.integers(40, 200, (height // 8 + 2, width // 8 + 2, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width + 16, height + 16), Image.BILINEAR))
    stripes = ((np.arange(width + 16)[None, :] // 6) % 2 * 30).astype(np.uint8)[:, :, None]
    return np.clip(base.astype(np.int16) - stripes, 0, 255).astype(np.uint8)


def make_face_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 15,
    audio: bool = True,
    face: bool = True,
    preset: str = "ultrafast",
    rotation: int = 0,
) -> Path:
    """Write an H.264 (yuv420p) + AAC MP4 with the portrait crossing the picture.

    ``width``×``height`` is the picture as shown. ``rotation`` (90 or 270) stores it turned,
    with a display matrix turning it back, as phones do; :func:`face_box` stays in shown pixels.
    """
    path = Path(path)
    frames = int(round(seconds * fps))
    side = face_size(height)
    portrait = np.asarray(Image.open(FACE).convert("RGB").resize((side, side), Image.LANCZOS))
    background = _background(width, height)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": preset, "g": str(fps)})
        sideways = rotation in (90, 270)
        vs.width, vs.height = (height, width) if sideways else (width, height)
        vs.pix_fmt = "yuv420p"
        if rotation:
            vs.set_display_rotation(rotation)
        as_ = out.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
        for i in range(frames):
            shift = i % 16
            img = background[shift : shift + height, shift : shift + width].copy()
            if face:
                x, y = face_offset(i, frames, width, height)
                img[y : y + side, x : x + side] = portrait
            if rotation:  # stored turned the other way: the display matrix turns it back
                img = np.ascontiguousarray(np.rot90(img, k=-rotation // 90))
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if as_ is not None:
            chunk = as_.codec_context.frame_size or 1024
            total = int(seconds * AUDIO_RATE)
            for start in range(0, total, chunk):
                n = min(chunk, total - start)
                t = (np.arange(n) + start) / AUDIO_RATE
                data = (TONE * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(data[None, :], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = AUDIO_RATE, start
                frame.time_base = Fraction(1, AUDIO_RATE)
                out.mux(as_.encode(frame))
            out.mux(as_.encode(None))
    return path


def make_tone_wav(path: str | Path, *, seconds: float = 2.0) -> Path:
    """A 16 kHz mono PCM (s16) WAV of the same tone, as voice recorders write."""
    path = Path(path)
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=AUDIO_RATE, layout="mono")
        total = int(seconds * AUDIO_RATE)
        for start in range(0, total, 1600):
            n = min(1600, total - start)
            t = (np.arange(n) + start) / AUDIO_RATE
            data = (TONE * 32767 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(data[None, :], format="s16", layout="mono")
            frame.sample_rate, frame.pts = AUDIO_RATE, start
            frame.time_base = Fraction(1, AUDIO_RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
