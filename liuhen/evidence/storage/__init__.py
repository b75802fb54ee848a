"""Where originals and derived files live: a local directory or an S3 bucket.

Keys are content-addressed: originals at ``sha256/ab/cd/<sha256>``, derived files under
``derived/<sha256>/...``. Neither backend offers a way to delete or rewrite an original
(第二十六条 (二)); writes are atomic, so a key either holds the complete object or nothing.

The ingest works in two steps so that every byte is read once: ``stage()`` brings the source
into the storage's own area (local: a temporary file in the same filesystem, hashed while it
is copied; a file already digested is hard-linked, not copied) and ``commit()`` makes it
visible under its key (local: fsync + rename + fsync of the directory; S3: an upload,
multipart for big files, with Object Lock retention when the bucket has Object Lock).

The backends are ``local.py`` and ``s3.py``; what they share is ``base.py``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from liuhen.evidence.storage.base import (
    DERIVED_PREFIX,
    INCOMING_DIR,
    ORIGINALS_PREFIX,
    Staged,
    StorageFull,
    derived_key,
    original_key,
)
from liuhen.evidence.storage.local import LocalStorage, StreamedFile
from liuhen.evidence.storage.s3 import S3Storage

__all__ = [
    "DERIVED_PREFIX",
    "INCOMING_DIR",
    "ORIGINALS_PREFIX",
    "LocalStorage",
    "S3Storage",
    "Staged",
    "StorageFull",
    "StreamedFile",
    "derived_key",
    "get_storage",
    "original_key",
]

_cache: dict[tuple, object] = {}


def get_storage():
    """The configured storage (LIUHEN_STORAGE=local|s3), one instance per configuration."""
    if settings.EVIDENCE_STORAGE == "s3":
        config = (
            "s3",
            settings.S3_BUCKET,
            settings.S3_ENDPOINT_URL,
            settings.S3_REGION,
            settings.S3_ACCESS_KEY,
            settings.S3_SECRET_KEY,
            settings.S3_OBJECT_LOCK_DAYS,
            getattr(settings, "S3_OBJECT_LOCK_MODE", "COMPLIANCE"),
        )
        if config not in _cache:
            _cache[config] = S3Storage(
                bucket=config[1],
                endpoint_url=config[2],
                region=config[3],
                access_key=config[4],
                secret_key=config[5],
                lock_days=config[6],
                lock_mode=config[7],
                staging_dir=Path(settings.UPLOAD_DIR),
            )
        return _cache[config]
    config = ("local", str(settings.EVIDENCE_DIR))
    if config not in _cache:
        _cache[config] = LocalStorage(Path(settings.EVIDENCE_DIR))
    return _cache[config]
