"""Body-camera file-name patterns as data (第十八条: capture time and device are kept with the
recording; the file name is often the only place a camera wrote them).

The built-in patterns live in ``evidence/data/filename_patterns.toml``, each with its Chinese
name and examples; an administrator extends them with a file of the same shape
(``LIUHEN_FILENAME_PATTERNS_FILE``) or one regex per line (``LIUHEN_FILENAME_PATTERNS``), tried
first. No Django here: ``media.probe`` reads the built-in list at import.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

BUILTIN_FILE = Path(__file__).resolve().parent / "data" / "filename_patterns.toml"


class PatternDataError(ValueError):
    """A pattern file that cannot be used: the message names the file and the pattern."""


@dataclass(frozen=True)
class FilenamePattern:
    """One naming scheme: its Chinese name, the regex (full match of the base name, case
    ignored, group ``ts`` required) and examples ``(file name, "YYYY-MM-DD hh:mm:ss", device)``
    read as Asia/Shanghai wall-clock."""

    name: str
    regex: str
    examples: tuple[tuple[str, str, str], ...] = ()

    def compiled(self) -> re.Pattern:
        return re.compile(self.regex, re.IGNORECASE)


def read_patterns(path: Path) -> tuple[FilenamePattern, ...]:
    """The ``[[pattern]]`` tables of a TOML file; a malformed one raises PatternDataError."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PatternDataError(f"{path}：无法读取（{exc}）") from exc
    patterns = []
    for index, row in enumerate(data.get("pattern", []), start=1):
        name = str(row.get("name") or f"第{index}条")
        regex = row.get("regex")
        if not isinstance(regex, str) or not regex:
            raise PatternDataError(f"{path}：规则“{name}”缺少 regex")
        examples = tuple(tuple(str(v) for v in example) for example in row.get("examples", []))
        if any(len(example) != 3 for example in examples):
            raise PatternDataError(f"{path}：规则“{name}”的示例应为 [文件名, 时间, 设备编号]")
        pattern = FilenamePattern(name=name, regex=regex, examples=examples)
        problem = pattern_problem(pattern)
        if problem:
            raise PatternDataError(f"{path}：规则“{name}”{problem}")
        patterns.append(pattern)
    return tuple(patterns)


def pattern_problem(pattern: FilenamePattern) -> str | None:
    """Why a pattern cannot be used (bad regex, no ``ts`` group), or None."""
    try:
        compiled = pattern.compiled()
    except re.error as exc:
        return f"的正则表达式有误：{exc}"
    if "ts" not in compiled.groupindex:
        return "的正则表达式缺少命名组 ts（拍摄时间）"
    return None


def example_problems(pattern: FilenamePattern, parse, zone) -> list[str]:
    """Examples that do not give their stated time and device through ``parse`` (the reader
    of ``media.probe``, given this one pattern), the time shown in ``zone``."""
    problems = []
    for file_name, expected_time, expected_device in pattern.examples:
        when, device = parse(file_name, [pattern.regex])
        local = when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if when else None
        if local != expected_time or (device or "") != expected_device:
            problems.append(
                f"规则“{pattern.name}”的示例 {file_name} 读出 {local or '无时间'}、"
                f"{device or '无设备'}，应为 {expected_time}、{expected_device or '无设备'}"
            )
    return problems


def builtin_patterns() -> tuple[FilenamePattern, ...]:
    return read_patterns(BUILTIN_FILE)

