"""Redacted and watermarked video copies (第十七条第二款、第四款), measured on real media."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from django.utils import timezone

from liuhen.evidence.digests import digest_file
from liuhen.redaction import (
    MediaError,
    MuteRange,
    RedactionPlan,
    detect_faces,
    redact_video,
    watermark_lines,
    watermark_video,
)
from liuhen.redaction.tests.conftest import (
    FPS,
    FRAMES,
    HEIGHT,
    WIDTH,
    audio_samples,
    detail,
    luma_frames,
    outside,
    rms,
)
from liuhen.redaction.tests.media import TONE, face_box, make_face_video
from liuhen.redaction.watermark import render_overlay


def _watermark():
    return watermark_lines(
        viewer_name="张三",
        viewer_number="执法证 44010012",
        at=timezone.localtime(),
        grant_number="SQ-2026-000123",
    )


@pytest.fixture(scope="module")
def analysis(face_video):
    return detect_faces(face_video, every=3)


def test_the_face_is_found_and_followed_as_one_track(analysis):
    assert [track.id for track in analysis.tracks] == ["F1"]
    track = analysis.tracks[0]
    assert len(track.samples) == FRAMES // 3  # found in every sampled frame
    for t, (x, y, w, h) in track.samples:
        fx, fy, fw, fh = face_box(round(t * FPS), FRAMES, WIDTH, HEIGHT)
        assert abs(x - fx) <= fw * 0.2 and abs(y - fy) <= fh * 0.2 and abs(w - fw) <= fw * 0.2
        assert abs(h - fh) <= fh * 0.2


def test_the_face_is_blurred_in_every_frame_and_the_rest_untouched(face_video, analysis, tmp_path):
    before = digest_file(face_video)
    plan = RedactionPlan(faces=analysis)
    copy = redact_video(source=face_video, target=tmp_path / "copy.mp4", plan=plan)
    original, redacted = luma_frames(face_video), luma_frames(copy.path)
    assert len(redacted) == len(original) == FRAMES
    for i, ((t, src), (t2, out)) in enumerate(zip(original, redacted, strict=True)):
        assert t == pytest.approx(t2)
        face = face_box(i, FRAMES, WIDTH, HEIGHT)
        # 第十七条第四款: no frame shows the face, not even between detection samples.
        assert detail(out, face) < 0.2 * detail(src, face), f"frame {i} at {t:.2f} s"
        rest = outside(src.shape, plan.boxes_at(t, WIDTH, HEIGHT))
        diff = np.abs(out.astype(np.int16) - src.astype(np.int16))[rest]
        assert diff.mean() < 3, f"frame {i}: picture changed outside the box"
    assert copy.description["operations"]["counts"]["frames_redacted"] == FRAMES
    assert digest_file(face_video) == before  # the original is only read


def test_a_suppressed_track_stays_visible_in_its_range(face_video, analysis, tmp_path):
    plan = RedactionPlan(faces=analysis)
    plan.suppress("F1", start=0.6, end=1.2, reason="执法人员本人")
    copy = redact_video(source=face_video, target=tmp_path / "copy.mp4", plan=plan)
    for i, ((t, src), (_, out)) in enumerate(
        zip(luma_frames(face_video), luma_frames(copy.path), strict=True)
    ):
        face = face_box(i, FRAMES, WIDTH, HEIGHT)
        ratio = detail(out, face) / detail(src, face)
        assert (ratio > 0.7) if 0.6 <= t < 1.2 else (ratio < 0.2), f"frame {i}: {ratio:.2f}"


def test_a_manual_box_is_blurred_only_within_its_time_range(plain_video, tmp_path):
    plan = RedactionPlan()
    box = plan.add_manual(start=0.6, end=1.2, x=20, y=30, w=120, h=90, note="工牌")
    assert box.id == "M1"
    copy = redact_video(source=plain_video, target=tmp_path / "copy.mp4", plan=plan)
    inside = 0
    for i, ((t, src), (_, out)) in enumerate(
        zip(luma_frames(plain_video), luma_frames(copy.path), strict=True)
    ):
        ratio = detail(out, box.box()) / detail(src, box.box())
        if 0.6 <= t < 1.2:
            inside += 1
            assert ratio < 0.2, f"frame {i} at {t:.2f} s: box not blurred"
        else:
            assert ratio > 0.8, f"frame {i} at {t:.2f} s: blurred outside the range"
    assert inside == round(0.6 * FPS)


@pytest.mark.parametrize("source", ["face_video", "tone_wav"])
def test_muted_ranges_are_silent_and_the_rest_keeps_its_level(source, request, tmp_path):
    path = request.getfixturevalue(source)
    plan = RedactionPlan(mutes=[MuteRange(0.5, 1.0, reason="第三人姓名"), MuteRange(1.6, 1.8)])
    copy = redact_video(
        source=path, target=tmp_path / "copy.mp4", plan=plan, watermark=_watermark()
    )
    samples, rate = audio_samples(copy.path)
    assert rms(samples, rate, 0.55, 0.95) < 0.003
    assert rms(samples, rate, 1.65, 1.75) < 0.003
    level = TONE / np.sqrt(2)
    for start, end in ((0.1, 0.45), (1.05, 1.55)):
        assert rms(samples, rate, start, end) == pytest.approx(level, rel=0.1)
    assert copy.description["operations"]["audio"] == "aac, muted ranges"
    marked = copy.description["operations"]["watermark"]
    assert (marked is not None) == (source == "face_video")  # no picture, no mark claimed
    with av.open(str(copy.path)) as container:
        assert bool(container.streams.video) == (source == "face_video")


def test_the_watermark_is_burnt_into_every_frame(face_video, tmp_path):
    mark = _watermark()
    reencoded = redact_video(source=face_video, target=tmp_path / "plain.mp4", plan=RedactionPlan())
    copy = watermark_video(source=face_video, target=tmp_path / "marked.mp4", watermark=mark)
    _, boxes = render_overlay(mark, WIDTH, HEIGHT)
    mask = ~outside((HEIGHT, WIDTH), boxes, pad=0)
    away = outside((HEIGHT, WIDTH), boxes, pad=4)  # encoding noise spreads a little
    plain, marked = luma_frames(reencoded.path), luma_frames(copy.path)
    assert len(marked) == len(plain) == FRAMES
    for i, ((_, a), (_, b)) in enumerate(zip(plain, marked, strict=True)):
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        # Outside, only the encoder's noise (the watermark's bits move its choices a little).
        assert diff[mask].mean() > 8, f"frame {i}: no watermark"
        assert diff[away].mean() < 3, f"frame {i}: changed outside the watermark"
        assert diff[mask].mean() > 4 * diff[away].mean()
    assert copy.description["operations"]["watermark"]["lines"][2] == "授权 SQ-2026-000123"


def test_the_copy_decodes_cleanly_and_its_digests_match(face_video, tmp_path):
    copy = watermark_video(
        source=face_video, target=tmp_path / "marked.mp4", watermark=_watermark()
    )
    recomputed = digest_file(copy.path)
    assert (copy.sha256, copy.sm3) == (recomputed.sha256, recomputed.sm3)
    description = copy.description
    assert description["output"]["sha256"] == recomputed.sha256
    assert description["output"]["sm3"] == recomputed.sm3
    assert description["source"]["sha256"] == digest_file(face_video).sha256
    assert description["operations"]["audio"] == "copied"  # AAC, nothing muted
    with av.open(str(face_video)) as src, av.open(str(copy.path)) as out:
        vin, vout = src.streams.video[0], out.streams.video[0]
        assert (vout.codec_context.name, vout.width, vout.height) == ("h264", WIDTH, HEIGHT)
        assert vout.average_rate == vin.average_rate == Fraction(FPS)
        frames = sum(1 for _ in out.decode(vout))
        assert frames == FRAMES
    samples, rate = audio_samples(copy.path)
    assert rms(samples, rate, 0.1, 1.9) == pytest.approx(TONE / np.sqrt(2), rel=0.1)
    assert not (tmp_path / "marked.mp4.part").exists()


def test_a_sideways_recording_comes_out_upright(tmp_path):
    src = make_face_video(
        tmp_path / "phone.mp4", width=240, height=320, fps=FPS, seconds=1, rotation=90
    )
    analysis = detect_faces(src, every=3)
    assert len(analysis.tracks) == 1
    copy = redact_video(
        source=src, target=tmp_path / "copy.mp4", plan=RedactionPlan(faces=analysis)
    )
    with av.open(str(copy.path)) as out:
        frame = next(out.decode(video=0))
        assert (frame.width, frame.height, frame.rotation or 0) == (240, 320, 0)
    stored, frames = luma_frames(src), luma_frames(copy.path)
    for i, ((t, coded), (_, out)) in enumerate(zip(stored, frames, strict=True)):
        shown = np.rot90(coded)  # the display matrix: a quarter turn counter-clockwise
        face = face_box(i, len(frames), 240, 320)
        assert detail(out, face) < 0.2 * detail(shown, face), f"frame {i}"
        rest = outside(shown.shape, copy_plan_boxes(analysis, t))
        diff = np.abs(out.astype(np.int16) - shown.astype(np.int16))[rest]
        assert diff.mean() < 3  # the same picture, the same way up
    # The face as shown was found and covered: nothing face-like is left to find.
    assert detect_faces(copy.path, every=3).tracks == []


def copy_plan_boxes(analysis, t):
    return RedactionPlan(faces=analysis).boxes_at(t, 240, 320)


def test_an_audio_recording_is_copied_and_says_it_has_no_watermark(tone_wav, tmp_path):
    copy = watermark_video(source=tone_wav, target=tmp_path / "copy.m4a", watermark=_watermark())
    assert copy.description["operations"]["watermark"] is None
    assert copy.description["operations"]["counts"]["frames"] == 0
    samples, rate = audio_samples(copy.path)
    assert rms(samples, rate, 0.1, 1.9) == pytest.approx(TONE / np.sqrt(2), rel=0.1)


def test_the_original_is_never_the_target(face_video):
    with pytest.raises(ValueError):
        watermark_video(source=face_video, target=face_video, watermark=_watermark())


def test_an_unreadable_source_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(MediaError):
        watermark_video(source=bad, target=tmp_path / "out.mp4", watermark=_watermark())
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.part").exists()


def test_a_region_removed_by_hand_is_left_as_it_was_and_blurred_without_it(
    face_video, analysis, tmp_path
):
    """第十七条第四款: an automatic box removed by hand (the face-like pattern is a poster on
    the wall, say) is not blurred: inside the region its pixels equal the unredacted decode
    within the codec's noise (measured as a copy with nothing redacted differs from it); outside
    the region, and in a copy made without the removal, the same face is blurred."""
    half = WIDTH // 2
    removed = RedactionPlan(faces=analysis)
    removed.suppress_region(start=0, end=FRAMES / FPS + 1, x=0, y=0, w=half, h=HEIGHT,
                            reason="海报")
    with_removal = redact_video(source=face_video, target=tmp_path / "removed.mp4", plan=removed)
    without = redact_video(source=face_video, target=tmp_path / "kept.mp4",
                           plan=RedactionPlan(faces=analysis))
    untouched = redact_video(source=face_video, target=tmp_path / "plain.mp4",
                             plan=RedactionPlan())  # re-encoded only: the codec's noise
    assert with_removal.description["operations"]["redaction"]["suppressions"][0]["reason"] \
        == "海报"  # the record of what was handed over quotes the removal
    left = right = 0
    for i, ((t, src), (_, out), (_, blurred), (_, plain)) in enumerate(
        zip(luma_frames(face_video), luma_frames(with_removal.path), luma_frames(without.path),
            luma_frames(untouched.path), strict=True)
    ):
        face = face_box(i, FRAMES, WIDTH, HEIGHT)
        x, y, w, h = face
        centre = x + w / 2
        assert detail(blurred, face) < 0.2 * detail(src, face), f"frame {i}: not blurred"
        region = np.s_[y : y + h, x : x + w]
        diff = np.abs(out[region].astype(np.int16) - src[region].astype(np.int16)).mean()
        noise = np.abs(plain[region].astype(np.int16) - src[region].astype(np.int16)).mean()
        if centre < half - 0.2 * w:  # well inside the region: as the unredacted decode
            left += 1
            # Codec noise: what re-encoding alone changes there (2.6-3.1 of 255 on this face);
            # the blurred copy differs by about 31.
            gone = np.abs(blurred[region].astype(np.int16) - src[region].astype(np.int16)).mean()
            assert diff < 1.5 * noise < gone / 5, f"frame {i} at {t:.2f} s: {diff:.2f}, " \
                f"noise {noise:.2f}, blurred {gone:.2f}"
            assert detail(out, face) > 0.8 * detail(src, face), f"frame {i}: blurred"
        elif centre > half + 0.2 * w:  # outside it: blurred as before
            right += 1
            assert detail(out, face) < 0.2 * detail(src, face), f"frame {i}: not blurred"
    assert left >= FRAMES // 4 and right >= FRAMES // 4
