"""The CJK font the generated PDFs use (Debian's ``fonts-noto-cjk``), found without guessing.

Pillow needs a file and, for a TrueType collection, the index of the Simplified Chinese face.
fontconfig answers both; when ``fc-match`` is missing (a slim container) the usual Debian paths
are searched and the collection's faces are read until one names itself "SC".
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

FAMILY = "Noto Sans CJK SC"
_SEARCH = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


class FontNotFound(RuntimeError):
    """No Simplified Chinese font on this machine; the message says what to install."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int
    family: str

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.path), size=size, index=self.index)


@functools.cache
def cjk_font(weight: str = "Regular") -> FontFile:
    """The Noto Sans CJK SC face (``weight`` "Regular" or "Bold") as a file and face index."""
    found = _from_fontconfig(weight) or _from_paths(weight)
    if found is None:
        raise FontNotFound(
            f"找不到中文字体 {FAMILY} {weight}: 请安装 fonts-noto-cjk / install fonts-noto-cjk"
        )
    return found


def _from_fontconfig(weight: str) -> FontFile | None:
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}|%{family}", f"{FAMILY}:style={weight}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, rest = out.partition("|")
    index, _, family = rest.partition("|")
    # fc-match always answers something; a fallback face without CJK glyphs is no answer.
    if FAMILY not in family.split(",") or not Path(path).is_file():
        return None
    return FontFile(Path(path), int(index or 0), FAMILY)


def _from_paths(weight: str) -> FontFile | None:
    for root in _SEARCH:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(f"NotoSansCJK*-{weight}.tt[cf]")):
            for index in range(8):
                try:
                    face = ImageFont.truetype(str(path), size=12, index=index)
                except OSError:  # past the collection's last face
                    break
                if face.getname()[0] == FAMILY:
                    return FontFile(path, index, FAMILY)
    return None
