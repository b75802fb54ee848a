"""System check of the body-camera file-name patterns (``liuhen check`` and start-up): a
pattern that does not compile, lacks the ``ts`` group, or whose example reads another time or
device is an error naming the file and the pattern (第十八条)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core import checks

from liuhen.evidence import filenames, media


@checks.register("liuhen")
def check_filename_patterns(app_configs=None, **kwargs):
    errors = []
    sources = [filenames.BUILTIN_FILE]
    if settings.FILENAME_PATTERNS_FILE:
        sources.append(Path(settings.FILENAME_PATTERNS_FILE))
    for source in sources:
        try:
            patterns = filenames.read_patterns(source)
        except filenames.PatternDataError as exc:
            errors.append(checks.Error(f"文件名规则有误：{exc}", id="liuhen.E111"))
            continue
        for pattern in patterns:
            for problem in filenames.example_problems(
                pattern, media.capture_time_from_filename, media.CHINA_TZ
            ):
                errors.append(checks.Error(f"{source}：{problem}", id="liuhen.E112"))
    for line in settings.FILENAME_PATTERNS:
        try:
            compiled = re.compile(line)
        except re.error as exc:
            errors.append(checks.Error(f"LIUHEN_FILENAME_PATTERNS 中的 {line} 有误：{exc}",
                                       id="liuhen.E113"))
            continue
        if "ts" not in compiled.groupindex:
            errors.append(checks.Error(f"LIUHEN_FILENAME_PATTERNS 中的 {line} 缺少命名组 ts",
                                       id="liuhen.E113"))
    return errors
