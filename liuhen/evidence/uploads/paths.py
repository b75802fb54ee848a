"""Where unfinished uploads are: ``LIUHEN_UPLOAD_DIR/tus/<id>.part``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "tus"
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload_id) -> Path:
    return upload_dir() / f"{upload_id}.part"
