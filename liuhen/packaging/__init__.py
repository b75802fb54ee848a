"""Packages of records that leave the system or are kept long-term: one builder, one verifier.

Serves 第十七条第三款 (evidence packages supplied to a review body or a court, a copy kept) and
第十五条 (archive packages kept long-term on disc; DA/T 70 四性检测 reads their checks). Plain
Python: no models, no settings; callers pass paths, keys and metadata. See docs/packaging.md.

- :class:`PackageBuilder` writes a signed BagIt bag (SHA-256 and SM3, DA/T 97) with the
  offline verifier inside;
- :mod:`liuhen.packaging.verifier` is that verifier (one file, standard library only);
- :func:`write_disc_images` writes ISO 9660 images (Joliet, Rock Ridge), split by medium;
- :func:`read_back` checks an image, a disc or a folder against its manifest.
"""

from liuhen.packaging.bag import SM3Bag
from liuhen.packaging.builder import (
    PackageBuilder,
    PackagedFile,
    PackageResult,
    canonical_json,
)
from liuhen.packaging.disc import MEDIA, DiscImage, Medium, write_disc_images
from liuhen.packaging.errors import (
    DigestMismatch,
    InvalidPackagePath,
    KeyFileError,
    MediumTooSmall,
    PackageInvalid,
    PackagingError,
)
from liuhen.packaging.readback import IsoSource, read_back
from liuhen.packaging.signing import SigningKey, SM2SigningKey
from liuhen.packaging.verifier import Report, verify

__all__ = [
    "MEDIA",
    "DigestMismatch",
    "DiscImage",
    "InvalidPackagePath",
    "IsoSource",
    "KeyFileError",
    "Medium",
    "MediumTooSmall",
    "PackageBuilder",
    "PackageInvalid",
    "PackageResult",
    "PackagedFile",
    "PackagingError",
    "Report",
    "SM2SigningKey",
    "SM3Bag",
    "SigningKey",
    "canonical_json",
    "read_back",
    "verify",
    "write_disc_images",
]
