"""Errors of the packaging library: each carries a Chinese message for pages and a ``code``
for APIs, so that callers can answer ``{code, message}`` without translating anything."""

from __future__ import annotations


class PackagingError(Exception):
    """Base of every error raised while building, writing or reading back a package."""

    code = "packaging.error"

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message if not detail else f"{message} ({detail})")
        self.message = message
        self.detail = detail


class InvalidPackagePath(PackagingError):
    """A name that would not survive a disc, Windows or a BagIt manifest."""

    code = "packaging.invalid_path"


class DigestMismatch(PackagingError):
    """The bytes read differ from the stored original's recorded digests or size: the package
    is not built (第十七条第三款: what is supplied must be the original, unaltered)."""

    code = "packaging.digest_mismatch"

    def __init__(self, message: str, *, path: str, expected: dict, found: dict) -> None:
        super().__init__(message, detail=f"{path}: expected {expected}, found {found}")
        self.path = path
        self.expected = expected
        self.found = found


class PackageInvalid(PackagingError):
    """A package or disc image failed its check after writing (bagit or the verifier)."""

    code = "packaging.invalid"


class MediumTooSmall(PackagingError):
    """A single file is larger than the chosen disc medium."""

    code = "packaging.medium_too_small"


class KeyFileError(PackagingError):
    """The signing key file is missing, unreadable, not Ed25519, or readable by others."""

    code = "packaging.key_file"
