"""Media probing, browser proxies, posters and thumbnails for evidence recordings (留痕).

Pure Python on PyAV (FFmpeg) and Pillow, no Django. Evidence is immutable, hence: nothing here
writes to an original (proxies, posters and thumbnails are derivatives, recorded with
``TOOL_VERSION``); :func:`probe` never raises, because an unreadable recording is still evidence
to be kept and flagged, not rejected; and files are streamed, never read whole into memory
(body-camera recordings run to several GiB). ``probe.py`` reads, ``derive.py`` writes.
"""

from liuhen.evidence.media.derive import make_poster, make_proxy, make_thumbnails
from liuhen.evidence.media.probe import (
    ALLOWED_DEMUXERS,
    CHINA_TZ,
    DEFAULT_FILENAME_PATTERNS,
    MIME_TYPES,
    TOOL_VERSION,
    MediaError,
    MediaInfo,
    capture_time_from_filename,
    is_browser_playable,
    probe,
)

__all__ = [
    "ALLOWED_DEMUXERS",
    "CHINA_TZ",
    "DEFAULT_FILENAME_PATTERNS",
    "MIME_TYPES",
    "TOOL_VERSION",
    "MediaError",
    "MediaInfo",
    "capture_time_from_filename",
    "is_browser_playable",
    "make_poster",
    "make_proxy",
    "make_thumbnails",
    "probe",
]
