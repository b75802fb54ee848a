"""Body-camera file-name patterns as data (issue 13 item 5, 第十八条): every built-in scheme
reads its own examples, an administrator's file or lines are tried first and extend the list,
and a broken pattern stops `liuhen check` with its name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liuhen.core import testing
from liuhen.evidence import checks, classify, filenames, media
from liuhen.evidence.choices import CaptureTimeSource
from liuhen.evidence.media import MediaInfo

NINE_THIRTY = datetime(2026, 12, 3, 1, 30, 15, tzinfo=UTC)  # 09:30:15 in Beijing


def test_every_builtin_pattern_reads_its_examples():
    patterns = filenames.builtin_patterns()
    # the schemes the issue names, each present with at least one example
    names = " ".join(p.name for p in patterns)
    for scheme in ("GA/T 947", "设备编号_年月日_时分秒", "年月日时分秒_设备编号", "年月日_时分秒_设备编号",
                   "IMG_/VID_"):
        assert scheme in names
    assert all(p.examples for p in patterns)
    for pattern in patterns:
        assert filenames.example_problems(
            pattern, media.capture_time_from_filename, media.CHINA_TZ) == []


@pytest.mark.parametrize(
    ("name", "device"),
    [
        ("DSJ001_20261203093015_0001.MP4", "DSJ001"),  # DEVICE_YYYYMMDDhhmmss_SEQ
        ("20261203_093015_DSJ001.mp4", "DSJ001"),  # YYYYMMDD_hhmmss_DEVICE (the issue's file)
        ("20261203093015_DSJ001_0001.mp4", "DSJ001"),  # YYYYMMDDhhmmss_DEVICE_SEQ
        ("IMG_20261203_093015.jpg", None),
        ("VID_20261203_093015.mp4", None),
        ("DSJ001_police7_20261203093015_0001_IMP.MP4", "DSJ001"),  # GA/T 947 with officer, flag
    ],
)
def test_each_scheme_gives_the_capture_time(name, device):
    assert media.capture_time_from_filename(name) == (NINE_THIRTY, device)


def _no_metadata():
    return MediaInfo(kind="video", media_type="video/mp4", readable=True)


def test_the_issue_file_is_no_longer_unknown(settings):
    """`20261203_093015_DSJ001.mp4` was flagged 拍摄时间不明; now its name gives the time."""
    settings.FILENAME_PATTERNS = []
    settings.FILENAME_PATTERNS_FILE = ""
    now = testing.TEST_NOW
    when, source = classify.capture_time(
        _no_metadata(), f"{(now - timedelta(hours=2)):%Y%m%d_%H%M%S}_DSJ001.mp4", None, now)
    assert source == CaptureTimeSource.FILENAME
    assert abs(when - (now - timedelta(hours=2))) < timedelta(seconds=1)


def test_administrator_file_extends_the_builtin_list(settings, tmp_path):
    own = tmp_path / "own.toml"
    own.write_text(
        "[[pattern]]\n"
        'name = "本局录音笔"\n'
        "regex = 'LY(?P<device>\\d{3})-(?P<ts>\\d{12})\\.wav'\n"
        'examples = [["LY007-261203093015.wav", "2026-12-03 09:30:15", "007"]]\n',
        encoding="utf-8",
    )
    settings.FILENAME_PATTERNS_FILE = str(own)
    settings.FILENAME_PATTERNS = []
    patterns = classify.filename_patterns()
    assert patterns[0] == filenames.read_patterns(own)[0].regex
    assert patterns[1:] == media.DEFAULT_FILENAME_PATTERNS  # nothing lost
    # the example uses a 12-digit clock: it does not read as a valid time, and the check says so
    errors = checks.check_filename_patterns()
    assert [e.id for e in errors] == ["liuhen.E112"]
    assert "本局录音笔" in errors[0].msg and "LY007-261203093015.wav" in errors[0].msg


def test_administrator_lines_come_first(settings):
    settings.FILENAME_PATTERNS_FILE = ""
    settings.FILENAME_PATTERNS = [r"ZF(?P<device>\d+)T(?P<ts>\d{14})\.mp4"]
    patterns = classify.filename_patterns()
    assert patterns[0] == settings.FILENAME_PATTERNS[0]
    when, device = media.capture_time_from_filename("ZF12T20261203093015.mp4", patterns)
    assert (when, device) == (NINE_THIRTY, "12")
    assert checks.check_filename_patterns() == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[[pattern]]\nname = \"坏\"\nregex = '(?P<ts>\\d{14}'\n", "正则表达式有误"),
        ("[[pattern]]\nname = \"无时间\"\nregex = 'A\\d+\\.mp4'\n", "缺少命名组 ts"),
        ("[[pattern]]\nname = \"无式\"\n", "缺少 regex"),
        ("[[pattern\n", "无法读取"),
    ],
)
def test_a_broken_file_is_a_check_error(settings, tmp_path, body, words):
    broken = tmp_path / "broken.toml"
    broken.write_text(body, encoding="utf-8")
    settings.FILENAME_PATTERNS_FILE = str(broken)
    settings.FILENAME_PATTERNS = []
    errors = checks.check_filename_patterns()
    assert [e.id for e in errors] == ["liuhen.E111"]
    assert words in errors[0].msg
    with pytest.raises(filenames.PatternDataError):
        filenames.read_patterns(broken)


def test_a_line_without_ts_is_a_check_error(settings):
    settings.FILENAME_PATTERNS_FILE = ""
    settings.FILENAME_PATTERNS = [r"(?P<device>\w+)\.mp4", "("]
    assert [e.id for e in checks.check_filename_patterns()] == ["liuhen.E113", "liuhen.E113"]
