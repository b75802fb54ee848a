"""Benchmark: burnt-in watermarking and redaction against plain ``ffmpeg`` re-encoding.

    flock /work/bench.lock .venv/bin/python bench/bench_redaction.py               # 10 s clips
    flock /work/bench.lock .venv/bin/python bench/bench_redaction.py --seconds 3   # developing

For 1080p and 720p clips (30 fps, H.264 + AAC, a face crossing a textured moving background,
made with PyAV), measured in the same run with the same libx264 settings (preset, crf, GOP,
threads; audio copied as the copy does when nothing is muted):

- ``ffmpeg``: the Debian ``ffmpeg`` CLI re-encoding the file (the baseline), run before and
  after the others, the faster of the two counting;
- ``ffmpeg+mark``: the same, burning in the same watermark layer (a PNG) with ffmpeg's
  ``overlay`` filter: what the watermark itself costs libx264 (its text adds detail and bits);
- ``pyav``: the same pipeline as the copies with nothing to do (decode, encode, mux);
- ``watermark``: :func:`watermark_video` (target: at least 0.5 of ffmpeg's frames per second);
- ``detect``: :func:`detect_faces` alone (decode, Haar on every 5th frame);
- ``redact``: detect, then :func:`redact_video` blurring the tracks;
- ``party copy``: detect, then redact and watermark in one pass (what a party receives).

Each run goes ``--rounds`` times in turn and its fastest try counts. Each row gives wall
time, frames per second, CPU seconds (this process's threads, or the child's for ffmpeg), the
ratio to ffmpeg's frames per second (the target's measure), ffmpeg's CPU seconds over the
run's (the same work measured in CPU, which neighbours disturb less), and the load average
before the try: on a shared machine the wall clock says as much about the neighbours as
about the code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from liuhen.redaction import (  # noqa: E402
    Encoding,
    RedactionPlan,
    detect_faces,
    redact_video,
    watermark_lines,
    watermark_video,
)
from liuhen.redaction.tests.media import make_face_video  # noqa: E402
from liuhen.redaction.watermark import render_overlay  # noqa: E402

SIZES = {1080: (1920, 1080), 720: (1280, 720)}
TARGET = 0.5


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _timed(func) -> tuple[float, float]:
    """Wall seconds and CPU seconds (own threads plus children) of ``func()``."""
    own0, kids0 = _cpu()
    t0 = time.perf_counter()
    func()
    wall = time.perf_counter() - t0
    own1, kids1 = _cpu()
    return wall, (own1 - own0) + (kids1 - kids0)


def bench_size(
    height: int, seconds: float, fps: int, work: Path, encoding: Encoding, rounds: int
) -> list:
    width, height = SIZES[height]
    frames = round(seconds * fps)
    source = make_face_video(
        work / f"src-{height}.mp4",
        width=width,
        height=height,
        fps=fps,
        seconds=seconds,
        preset="veryfast",
    )
    mark = watermark_lines(
        viewer_name="张三",
        viewer_number="执法证 44010012",
        at=datetime(2026, 12, 3, 10, 0),
        grant_number="SQ-2026-000123",
    )
    ffmpeg_cmd = [
        "ffmpeg",
        "-nostdin",
        "-y",
        "-v",
        "error",
        "-i",
        str(source),
        *encoding.ffmpeg_args(Fraction(fps), copy_audio=True),
        str(work / "ff.mp4"),
    ]
    layer, _ = render_overlay(mark, width, height)
    layer.save(work / "mark.png")
    overlay_cmd = [
        *ffmpeg_cmd[:7],
        "-i",
        str(work / "mark.png"),
        "-filter_complex",
        "[0:v][1:v]overlay",
        *ffmpeg_cmd[7:-1],
        str(work / "ff-mark.mp4"),
    ]
    analysis = {}

    def detect():
        analysis["faces"] = detect_faces(source)

    runs = {
        "ffmpeg": lambda: subprocess.run(ffmpeg_cmd, check=True),
        "ffmpeg+mark": lambda: subprocess.run(overlay_cmd, check=True),
        "pyav": lambda: redact_video(
            source=source, target=work / "pyav.mp4", plan=RedactionPlan(), encoding=encoding
        ),
        "watermark": lambda: watermark_video(
            source=source, target=work / "wm.mp4", watermark=mark, encoding=encoding
        ),
        "detect": detect,
        "redact": lambda: (
            detect(),
            redact_video(
                source=source,
                target=work / "rd.mp4",
                plan=RedactionPlan(faces=analysis["faces"]),
                encoding=encoding,
            ),
        ),
        "party copy": lambda: (
            detect(),
            redact_video(
                source=source,
                target=work / "pc.mp4",
                plan=RedactionPlan(faces=analysis["faces"]),
                watermark=mark,
                encoding=encoding,
            ),
        ),
    }
    results = {}
    # Every run ``rounds`` times in turn, the fastest of each counting: a neighbour's burst
    # then slows one try of each, not one contender.
    for name in [n for _ in range(rounds) for n in runs]:
        load = os.getloadavg()[0]
        wall, cpu = _timed(runs[name])
        best = results.get(name)
        if best is None or wall < best["wall_s"]:
            results[name] = {"wall_s": wall, "cpu_s": cpu, "load1": load}
    base_fps = frames / results["ffmpeg"]["wall_s"]
    rows = []
    for name, r in results.items():
        fps_ = frames / r["wall_s"]
        rows.append(
            {
                "size": f"{height}p",
                "run": name,
                "frames": frames,
                "wall_s": round(r["wall_s"], 2),
                "fps": round(fps_, 1),
                "cpu_s": round(r["cpu_s"], 2),
                "ratio": round(fps_ / base_fps, 2),
                "cpu_ratio": round(results["ffmpeg"]["cpu_s"] / r["cpu_s"], 2),
                "load1": round(r["load1"], 2),
                "tracks": len(analysis["faces"].tracks) if name in ("detect", "redact") else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--sizes", default="1080,720")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg not found: apt-get install ffmpeg (Makefile TEST_SYSTEM_PACKAGES)")
    encoding = Encoding()
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    print(
        f"{os.cpu_count()} CPUs; libx264 preset={encoding.preset} crf={encoding.crf} "
        f"threads={encoding.threads} GOP {encoding.keyframe_seconds} s; audio copied"
    )
    print(f"baseline: {version.splitlines()[0]}")
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-redaction-"))
    failed = False
    try:
        all_rows = []
        for size in (int(s) for s in args.sizes.split(",")):
            rows = bench_size(size, args.seconds, args.fps, work, encoding, args.rounds)
            all_rows += rows
            print(f"\n{size}p, {rows[0]['frames']} frames:")
            print(
                f"  {'run':<11} {'wall s':>7} {'fps':>7} {'CPU s':>7} {'ratio':>6}"
                f" {'CPU ratio':>9} {'load':>5}"
            )
            for r in rows:
                print(
                    f"  {r['run']:<11} {r['wall_s']:>7.2f} {r['fps']:>7.1f} {r['cpu_s']:>7.2f}"
                    f" {r['ratio']:>6.2f} {r['cpu_ratio']:>9.2f} {r['load1']:>5.2f}"
                )
            wm = next(r for r in rows if r["run"] == "watermark")
            verdict = "met" if wm["ratio"] >= TARGET else "NOT met"
            failed |= wm["ratio"] < TARGET
            print(
                f"  watermark at {wm['ratio']:.2f} of ffmpeg's frames per second, "
                f"{wm['cpu_ratio']:.2f} of its CPU efficiency (target >= {TARGET}): {verdict}"
            )
        print(json.dumps(all_rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
