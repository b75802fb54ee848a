"""Names inside a package: portable to every place a package goes.

A package is read on a court clerk's Windows laptop, burnt to an ISO 9660 disc with Joliet
names (第十五条; at most 64 bytes of UTF-8 per name as pycdlib counts them) and listed in BagIt manifests
(RFC 8493). A name that one of them cannot hold would arrive changed, and a changed name is a
missing file to the verifier. So names are checked when a file is added, not when a disc is
burnt years later.
"""

from __future__ import annotations

import unicodedata

from liuhen.packaging.errors import InvalidPackagePath

PAYLOAD_DIR = "data"
# Joliet holds 64 UCS-2 characters per name, but pycdlib (which writes our discs) counts the
# name's UTF-8 bytes: 64 bytes, about 21 Chinese characters. The stricter rule is the one kept,
# so that every name reaches Windows unchanged.
MAX_COMPONENT_BYTES = 64
MAX_PATH = 200  # leaves room for the folder a package is unpacked into (Windows: 260)
MAX_DEPTH = 6  # below data/: ISO 9660 allows eight directory levels
_FORBIDDEN = set('<>:"/\\|?*;')  # Windows and Joliet
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def payload_path(path: str) -> str:
    """The package path (``data/…``) of a payload file the caller names relative to ``data/``;
    raises :class:`InvalidPackagePath` (Chinese message) for a name that would not survive."""
    if not isinstance(path, str) or not path:
        raise InvalidPackagePath("文件名不能为空。")
    text = unicodedata.normalize("NFC", path.replace("\\", "/")).strip("/")
    parts = text.split("/")
    if len(parts) > MAX_DEPTH:
        raise InvalidPackagePath(f"目录层级过深（最多 {MAX_DEPTH} 层）：{path}")
    for part in parts:
        _check_component(part, path)
    full = f"{PAYLOAD_DIR}/{text}"
    if len(full) > MAX_PATH:
        raise InvalidPackagePath(f"路径过长（最多 {MAX_PATH} 个字符）：{path}")
    return full


def _check_component(part: str, path: str) -> None:
    if part in ("", ".", ".."):
        raise InvalidPackagePath(f"路径中有空的或相对的部分：{path}")
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise InvalidPackagePath(
            f"文件名过长（光盘 Joliet 名最多 {MAX_COMPONENT_BYTES} 字节，约 21 个汉字）：{part}"
        )
    bad = sorted(
        {c for c in part if c in _FORBIDDEN or unicodedata.category(c)[0] == "C" or ord(c) > 0xFFFF}
    )
    if bad:
        shown = "、".join(repr(c) for c in bad)
        raise InvalidPackagePath(f"文件名含不可用字符 {shown}：{part}")
    if part != part.strip() or part.endswith("."):
        raise InvalidPackagePath(f"文件名首尾不能是空格或句点：{part!r}")
    if part.split(".", 1)[0].lower() in _RESERVED:
        raise InvalidPackagePath(f"文件名是 Windows 保留名：{part}")


def collision_key(path: str) -> str:
    """Two names that Windows or a disc would treat as one (case, Unicode form) share a key."""
    return unicodedata.normalize("NFC", path).casefold()


def bag_manifest_path(path: str) -> str:
    """A path as a BagIt manifest line writes it (RFC 8493 §2.1.3: ``%`` is ``%25``; CR and LF
    cannot occur, :func:`payload_path` refuses control characters)."""
    return path.replace("%", "%25")
