"""File helpers: small files written whole and atomically (a crash leaves the old file or the
new one), and an uploaded file as a temporary path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file that is fsynced, then renamed."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
