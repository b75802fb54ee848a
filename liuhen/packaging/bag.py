"""BagIt 1.0 (RFC 8493) tag files, for a package folder and for each disc volume.

Both manifests are written: ``manifest-sha256.txt`` and ``manifest-sm3.txt`` (SM3, GB/T 32905,
the digest of record of DA/T 97), and tag manifests in both algorithms.

``bagit`` 1.9 (the Library of Congress reference implementation) only reads manifests whose
algorithm is in ``hashlib.algorithms_guaranteed``: ``Bag.validate()`` checks
``manifest-sha256.txt`` and ignores ``manifest-sm3.txt`` (a wrong SM3 manifest still
validates); it does cover the SM3 manifest's bytes through ``tagmanifest-sha256.txt``. The bag's
manifest of record for BagIt tools is therefore SHA-256; SM3 is checked by our verifier, and by
:class:`SM3Bag`, which lets ``bagit`` check it too where OpenSSL has SM3.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import bagit

from liuhen.packaging import verifier
from liuhen.packaging.names import bag_manifest_path

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sm3")


@dataclass(frozen=True)
class Entry:
    """One payload file as the bag lists it."""

    path: str
    size: int
    sha256: str
    sm3: str


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def bag_info(fields: Iterable[tuple[str, str]], entries: list[Entry]) -> bytes:
    """bag-info.txt: the caller's fields (one per line, in order), then Payload-Oxum and
    Bag-Size computed from ``entries``."""
    total = sum(e.size for e in entries)
    lines = []
    for label, value in [
        *fields,
        ("Payload-Oxum", f"{total}.{len(entries)}"),
        ("Bag-Size", human_size(total)),
    ]:
        value = " ".join(str(value).split())  # one line each: no folding needed
        if value:
            lines.append(f"{label}: {value}\n")
    return "".join(lines).encode("utf-8")


def manifest_text(entries: list[Entry], algorithm: str) -> bytes:
    return "".join(
        f"{getattr(e, algorithm)}  {bag_manifest_path(e.path)}\n" for e in entries
    ).encode("utf-8")


def _digest(data: bytes, algorithm: str) -> str:
    if algorithm == "sm3":
        h = verifier.new_sm3()
        h.update(data)
        return h.hexdigest()
    return hashlib.new(algorithm, data).hexdigest()


def tag_files(
    entries: list[Entry], *, info: Iterable[tuple[str, str]], others: Mapping[str, bytes]
) -> dict[str, bytes]:
    """Every BagIt tag file of a bag holding ``entries``: bagit.txt, bag-info.txt, the payload
    manifests, and the tag manifests, which cover those and ``others`` (the package's own tag
    files: manifest.json, its signature, the verifier…)."""
    files = {
        "bagit.txt": BAGIT_TXT,
        "bag-info.txt": bag_info(info, entries),
        **{f"manifest-{a}.txt": manifest_text(entries, a) for a in ALGORITHMS},
    }
    covered = {**others, **files}
    for algorithm in ALGORITHMS:
        files[f"tagmanifest-{algorithm}.txt"] = "".join(
            f"{_digest(data, algorithm)}  {bag_manifest_path(name)}\n"
            for name, data in sorted(covered.items())
        ).encode("utf-8")
    return files


class SM3Bag(bagit.Bag):
    """A ``bagit.Bag`` that also reads ``manifest-sm3.txt`` and ``tagmanifest-sm3.txt`` (bagit
    1.9 skips algorithms outside ``hashlib.algorithms_guaranteed``), so ``validate()``
    recomputes SM3 as well. Needs an OpenSSL with SM3. Costs a second full SM3 pass: the
    builder validates with plain ``bagit.Bag``, having computed SM3 while writing."""

    def manifest_files(self):
        yield from super().manifest_files()
        path = os.path.join(self.path, "manifest-sm3.txt")
        if os.path.isfile(path):
            yield path

    def tagmanifest_files(self):
        yield from super().tagmanifest_files()
        path = os.path.join(self.path, "tagmanifest-sm3.txt")
        if os.path.isfile(path):
            yield path
