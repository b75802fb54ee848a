"""File helpers: small files written whole and atomically (a crash leaves the old file or the
new one), and an uploaded file as a temporary path."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

# Characters that change how a name is shown rather than being part of it: line and
# paragraph separators and the bidirectional overrides/isolates ("evil\u202egpj.exe" shows
# as "evilexe.jpg"). Control characters (Cc) are handled below.
_INVISIBLE = {"\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def printable_name(name: str) -> str:
    """A file name safe to store, show and put in a header (issue 16 item 12).

    C0 control characters become their visible Control Pictures (CR → ␍, LF → ␊, NUL → ␀,
    DEL → ␡), so a records keeper still sees that they were there; C1 controls, line
    separators and bidi overrides become U+FFFD. Everything else, Chinese included, is kept.
    A tus upload's audit entry (upload.created) keeps the name as sent."""
    out = []
    for char in name:
        code = ord(char)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif char in _INVISIBLE or unicodedata.category(char) == "Cc":
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file that is fsynced, then renamed."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def create_once(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Create ``path`` holding ``data`` unless it exists; False when it already did.

    Processes that start together on an empty data folder (`liuhen serve` starts web workers,
    a job worker and a scheduler at once) may all try to make the same key: each writes the
    whole of its own to a temporary file, fsyncs it and links it into place, so the first link
    wins and no reader ever sees a file that exists but is still empty. A loser returns False
    and its caller reads the winner's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


class save_upload:
    """An uploaded file as a temporary path (streamed to disk in chunks), removed after use."""

    def __init__(self, upload):
        self.upload = upload
        self.path: Path | None = None

    def __enter__(self) -> Path | None:
        if self.upload is None:
            return None
        temp_path = getattr(self.upload, "temporary_file_path", None)
        if temp_path:
            return Path(temp_path())
        fd, name = tempfile.mkstemp(suffix=Path(self.upload.name or "").suffix[:10])
        with os.fdopen(fd, "wb") as fh:
            for chunk in self.upload.chunks():
                fh.write(chunk)
        self.path = Path(name)
        return self.path

    def __exit__(self, *exc):
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        return False
