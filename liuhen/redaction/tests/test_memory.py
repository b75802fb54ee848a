"""Copies are streamed: memory stays flat however long the recording (a 1080p clip)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from liuhen.redaction.tests.media import make_face_video

# Detect, redact and watermark one clip in a fresh interpreter; print its peak RSS in KiB.
CHILD = """
import resource, sys
from datetime import datetime
from liuhen.redaction import RedactionPlan, detect_faces, redact_video, watermark_lines
mark = watermark_lines(viewer_name="张三", viewer_number="44010012",
                       at=datetime(2026, 12, 3, 10), grant_number="SQ-1")
plan = RedactionPlan(faces=detect_faces(sys.argv[1], every=5))
copy = redact_video(source=sys.argv[1], target=sys.argv[2], plan=plan, watermark=mark)
assert copy.description["operations"]["counts"]["frames"] == int(sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(source, target, frames) -> int:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(target), str(frames)],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_memory_stays_flat_over_a_longer_1080p_clip(tmp_path):
    fps = 15
    short = make_face_video(tmp_path / "short.mp4", width=1920, height=1080, fps=fps, seconds=1)
    long = make_face_video(tmp_path / "long.mp4", width=1920, height=1080, fps=fps, seconds=4)
    small = _peak_kib(short, tmp_path / "short-copy.mp4", fps)
    large = _peak_kib(long, tmp_path / "long-copy.mp4", 4 * fps)
    # Holding the 45 extra frames would take 45 × 3 MiB (yuv420p) = 135 MiB at the least.
    assert large - small < 40 * 1024, f"peak RSS grew by {(large - small) // 1024} MiB"
