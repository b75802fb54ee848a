"""Real media for the redaction tests (made by PyAV once per module) and ways to measure it."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from liuhen.redaction.tests.media import make_face_video, make_tone_wav

WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 15, 2.0
FRAMES = int(FPS * SECONDS)


@pytest.fixture(scope="module")
def face_video(tmp_path_factory):
    return make_face_video(
        tmp_path_factory.mktemp("src") / "face.mp4",
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        seconds=SECONDS,
    )


@pytest.fixture(scope="module")
def plain_video(tmp_path_factory):
    return make_face_video(
        tmp_path_factory.mktemp("src") / "plain.mp4",
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        seconds=SECONDS,
        face=False,
    )


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory):
    return make_tone_wav(tmp_path_factory.mktemp("src") / "tone.wav", seconds=SECONDS)


def luma_frames(path) -> list[tuple[float, np.ndarray]]:
    """(seconds from the start, Y plane) of every frame; fails on any decoding error."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = (container.start_time or 0) / av.time_base
        return [
            (float(frame.pts * frame.time_base) - start, frame.to_ndarray(format="gray"))
            for frame in container.decode(stream)
        ]


def audio_samples(path) -> tuple[np.ndarray, int]:
    """The first audio stream as mono float32 samples from time 0, and its rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler("flt", "mono", rate)
        chunks, first = [], None
        for frame in container.decode(stream):
            if first is None:
                first = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        lead = np.zeros(max(0, round(first * rate)), dtype=np.float32)
        return np.concatenate([lead, *chunks]), rate


def rms(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    part = samples[round(start * rate) : round(end * rate)]
    return float(np.sqrt(np.mean(part.astype(np.float64) ** 2)))


def detail(gray: np.ndarray, box) -> float:
    """High-frequency energy in ``box``: mean absolute Laplacian."""
    x, y, w, h = box
    region = gray[max(0, y) : y + h, max(0, x) : x + w].astype(np.float32)
    return float(np.mean(np.abs(cv2.Laplacian(region, cv2.CV_32F))))


def outside(shape, boxes, pad: int = 8) -> np.ndarray:
    """A mask of the picture away from ``boxes`` (each widened by ``pad``)."""
    mask = np.ones(shape, dtype=bool)
    for x, y, w, h in boxes:
        mask[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad] = False
    return mask
