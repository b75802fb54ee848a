"""Derived copies of records: burnt-in watermarks and redaction (第十七条第二款、第四款).

Plain Python (no models, no other liuhen app but the digests): every function reads an
original, writes a NEW file and returns a :class:`DerivedFile` with its SHA-256, SM3 and a JSON
description of what was done. The access app decides who gets what; see docs/redaction.md.
"""

from liuhen.redaction.faces import FaceAnalysis, FaceTrack, detect_faces
from liuhen.redaction.images import detect_image_faces, redact_image, watermark_image
from liuhen.redaction.pdf import watermark_pdf
from liuhen.redaction.plan import ManualBox, MuteRange, PlanError, RedactionPlan, Suppression
from liuhen.redaction.preview import Preview, preview_redaction
from liuhen.redaction.results import DerivedFile
from liuhen.redaction.source import MediaError
from liuhen.redaction.video import Encoding, redact_video, watermark_video
from liuhen.redaction.watermark import Watermark, watermark_lines

__all__ = [
    "DerivedFile",
    "Encoding",
    "FaceAnalysis",
    "FaceTrack",
    "ManualBox",
    "MediaError",
    "MuteRange",
    "PlanError",
    "Preview",
    "RedactionPlan",
    "Suppression",
    "Watermark",
    "detect_faces",
    "detect_image_faces",
    "preview_redaction",
    "redact_image",
    "redact_video",
    "watermark_image",
    "watermark_lines",
    "watermark_pdf",
    "watermark_video",
]
