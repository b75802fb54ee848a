"""Disc images of a package: ISO 9660 with Joliet and Rock Ridge, split across volumes.

第十五条 asks for long-term keeping "by burning discs or on removable media". A package is
written to one or more ISO 9660 images (``pycdlib``): Rock Ridge carries the real names as
UTF-8 for Linux and macOS, Joliet carries them as UCS-2 for Windows, so Chinese names survive
either way; the primary ISO 9660 names are 8.3 stand-ins for old readers.

When the package exceeds the medium (CD 700 MB, DVD 4.7 GB, BD 25 GB, or a byte count), the
payload is split across images, whole files each, in manifest order. Every volume stands on its
own: its share of ``data/``, the complete signed ``manifest.json`` with signature, key, verifier
and README, BagIt tag files for its share (``Bag-Count: 2 of 3``), and a volume index
(``volume.json``: which volume holds each file, bound to the manifest by its SHA-256) signed with
the same key (``volume.sig``); a package signed with SM2 as well has its volume index signed
with the same SM2 key too (``volume.sm2.sig``). ``verify.py`` checks one volume alone, or all
of them together, both signatures included.

Files are streamed into the image (``pycdlib`` opens each at write time and copies it in 1 MiB
blocks): memory stays flat whatever the package size. Each byte of the image is hashed once, on
its way to the disk (:class:`~liuhen.packaging.readback.HashingWriter`): the image's own
SHA-256 and SM3 (for the burn register) and, cut out of the same stream by the extents the
layout gave each payload file, every file's SHA-256. The check right after writing
(:func:`liuhen.packaging.readback.read_back` with ``written_files``) parses the written image
again: its size, its signed manifest, volume index and tag files (read from the image), every
file present with the manifest's size, each file's extents on the image the ones that were
hashed and its SHA-256 the manifest's (each file's SM3 was computed from the same bytes while
the package was built, or recorded at ingest), Joliet and Rock Ridge names alike. The image is
not read a second time here: reading back at once what the page cache still holds proves no
more than the bytes hashed on their way. The read-back check of DA/T 70 安全性 (the archive's
``disc_readback``, and every later check of a kept disc) reads the image or disc back in full
and recomputes both digests.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from liuhen.core.lazy import lazy_module
from liuhen.packaging import bag, readback, verifier
from liuhen.packaging.builder import canonical_json
from liuhen.packaging.errors import MediumTooSmall, PackageInvalid, PackagingError
from liuhen.packaging.signing import SigningKey, SM2SigningKey

pycdlib = lazy_module("pycdlib")  # imported on first use (core.lazy): discs are written rarely

BLOCK = 2048
WRITE_BLOCK = 1 << 20


@dataclass(frozen=True)
class Medium:
    """A disc medium and the bytes an image for it may hold."""

    name: str
    label: str
    capacity: int


# Capacities of the recordable media (sectors × 2048): CD-R 80 min, DVD±R single layer, BD-R
# single layer.
MEDIA = {
    "cd": Medium("cd", "CD-R 700 MB", 360_000 * BLOCK),
    "dvd": Medium("dvd", "DVD±R 4.7 GB", 2_295_104 * BLOCK),
    "bd": Medium("bd", "BD-R 25 GB", 12_219_392 * BLOCK),
}

# Conservative allowances for what the file system itself takes (checked against pycdlib's own
# count before anything is written): volume descriptors, path tables, and per file and folder
# the ISO 9660, Rock Ridge and Joliet directory records.
_FIXED_BLOCKS = 64
_PER_FILE = 768
_PER_DIR = 3 * BLOCK


def medium(value: str | int | Medium) -> Medium:
    """A :class:`Medium` from ``"cd"``, ``"dvd"``, ``"bd"`` or a byte count (tests)."""
    if isinstance(value, Medium):
        return value
    if isinstance(value, int):
        if value < 64 * BLOCK:
            raise PackagingError("光盘容量过小。", detail=f"{value} bytes")
        return Medium(f"{value}", f"{value} bytes", value - value % BLOCK)
    try:
        return MEDIA[value.lower()]
    except KeyError:
        raise PackagingError(f"未知的光盘类型：{value}（可选 cd、dvd、bd）") from None


@dataclass(frozen=True)
class DiscImage:
    """One written image: which volume of how many, its label and medium, its own size and
    digests (the burn register records them), and the payload paths it holds."""

    path: Path
    volume: int
    volumes: int
    label: str
    medium: str
    size: int
    sha256: str
    sm3: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class _Payload:
    path: str
    size: int
    sha256: str
    sm3: str


def _blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


class _Package:
    """A finished package folder, read for writing discs (manifest checked against the keys:
    the Ed25519 one always, the SM2 one where the package is signed with SM2 too)."""

    def __init__(
        self, root: Path, signer: SigningKey, sm2_signer: SM2SigningKey | None = None
    ) -> None:
        self.root = root
        self.manifest_bytes = (root / verifier.MANIFEST).read_bytes()
        self.manifest = json.loads(self.manifest_bytes)
        sig = base64.b64decode((root / verifier.SIGNATURE).read_bytes().strip())
        if not signer.verify(sig, self.manifest_bytes):
            raise PackageInvalid(
                "包的签名与给出的密钥不符，不能刻录。", detail=f"key {signer.fingerprint}"
            )
        if isinstance(self.manifest.get("signature_sm2"), dict):
            # Each volume index is signed with every key the manifest is: no SM2 key, no disc.
            if sm2_signer is None:
                raise PackageInvalid("包带有 SM2 签名，刻录须提供同一 SM2 密钥以签署分卷索引。")
            sm2_sig = base64.b64decode((root / verifier.SM2_SIGNATURE).read_bytes().strip())
            if not sm2_signer.verify(sm2_sig, self.manifest_bytes):
                raise PackageInvalid(
                    "包的 SM2 签名与给出的 SM2 密钥不符，不能刻录。",
                    detail=f"key {sm2_signer.fingerprint}",
                )
        self.sm2_signer = sm2_signer if "signature_sm2" in self.manifest else None
        self.files = [
            _Payload(f["path"], int(f["size"]), f["sha256"], f["sm3"])
            for f in self.manifest["files"]
        ]
        for f in self.files:
            if (root / f.path).stat().st_size != f.size:
                raise PackageInvalid(f"包中文件大小与清单不符，不能刻录：{f.path}")
        self.own = {
            name: (root / name).read_bytes()
            for name in (
                verifier.MANIFEST,
                verifier.SIGNATURE,
                verifier.PUBLIC_KEY,
                verifier.VERIFIER,
                verifier.README,
            )
        }
        for name in (verifier.SM2_SIGNATURE, verifier.SM2_PUBLIC_KEY):  # signed with SM2 too
            if (root / name).is_file():
                self.own[name] = (root / name).read_bytes()
        self.bag_fields = self._bag_fields()
        self.id = str(self.manifest.get("package", {}).get("id", ""))

    def _bag_fields(self) -> list[tuple[str, str]]:
        fields = []
        info = self.root / verifier.BAG_INFO
        if info.exists():
            for line in info.read_text("utf-8").splitlines():
                label, _, value = line.partition(":")
                if label.strip() and label.strip() not in (
                    "Payload-Oxum",
                    "Bag-Size",
                    "Bag-Count",
                    "Bag-Group-Identifier",
                ):
                    fields.append((label.strip(), value.strip()))
        return fields


def _plan(package: _Package, capacity: int) -> list[list[_Payload]]:
    """Whole files, in manifest order, on as few volumes as that order allows."""
    paths = sum(len(f.path) + 16 for f in package.files)
    # Everything every volume carries, whatever its share: the package's own files, the volume
    # index and the BagIt tag files (at most every path twice in each of four manifests).
    reserve = (
        _FIXED_BLOCKS * BLOCK
        + sum(_blocks(len(d)) for d in package.own.values())
        + _blocks(paths * 2)
        + 4 * _blocks(paths + 70 * len(package.files))
        + 8 * BLOCK
    )
    room = capacity - reserve
    if room < _PER_DIR * 8:
        raise MediumTooSmall(
            f"每卷都要带的清单、签名、校验程序等约需 {reserve} 字节，"
            f"一张 {capacity} 字节的光盘放不下，请选更大的介质。"
        )
    volumes: list[list[_Payload]] = [[]]
    used, dirs = 0, set()
    for f in package.files:
        new_dirs = {p for p in _parents(f.path) if p not in dirs}
        cost = _blocks(f.size) + _PER_FILE + _PER_DIR * len(new_dirs)
        if cost + _PER_DIR * 6 > room:
            raise MediumTooSmall(
                f"文件 {f.path}（{f.size} 字节）放不进一张 {capacity} 字节的光盘，请选更大的介质。"
            )
        if used + cost > room and volumes[-1]:
            volumes.append([])
            used, dirs = 0, set()
            new_dirs = set(_parents(f.path))
            cost = _blocks(f.size) + _PER_FILE + _PER_DIR * len(new_dirs)
        volumes[-1].append(f)
        used += cost
        dirs |= new_dirs
    return volumes


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class _IsoNames:
    """ISO 9660 level-3 stand-in names (8.3, upper case, unique per folder) for real names."""

    def __init__(self) -> None:
        self._taken: dict[str, set[str]] = {}
        self._dirs: dict[str, str] = {"": ""}

    @staticmethod
    def _clean(text: str, length: int) -> str:
        return re.sub(r"[^A-Z0-9_]", "_", text.upper())[:length]

    def _unique(self, parent: str, base: str, ext: str) -> str:
        taken = self._taken.setdefault(parent, set())
        base = base or "F"
        candidate, n = base, 1
        while (candidate + ext) in taken:
            suffix = str(n)
            candidate = base[: 8 - len(suffix)] + suffix
            n += 1
        taken.add(candidate + ext)
        return candidate + ext

    def directory(self, path: str) -> str:
        if path not in self._dirs:
            parent, _, name = path.rpartition("/")
            iso_parent = self.directory(parent)
            self._dirs[path] = f"{iso_parent}/{self._unique(iso_parent, self._clean(name, 8), '')}"
        return self._dirs[path]

    def file(self, path: str) -> str:
        parent, _, name = path.rpartition("/")
        iso_parent = self.directory(parent)
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        ext = self._clean(ext, 3)
        unique = self._unique(iso_parent, self._clean(stem, 8), f".{ext}" if ext else ".")
        return f"{iso_parent}/{unique};1"


def _volume_label(package_id: str, number: int, total: int, label: str | None) -> str:
    """Volume identifier: d-characters, at most 16 (the Joliet limit)."""
    tail = f"_{number}OF{total}" if total > 1 else ""
    base = re.sub(r"[^A-Z0-9_]", "_", (label or package_id or "LIUHEN").upper()).strip("_")
    base = base or "LIUHEN"
    return (base[: 16 - len(tail)] + tail)[:16]


def _volume_files(
    package: _Package,
    share: Sequence[_Payload],
    index: dict,
    *,
    number: int,
    total: int,
    signer: SigningKey,
) -> dict[str, bytes]:
    index_bytes = canonical_json({**index, "volume": number})
    own = {
        **package.own,
        verifier.VOLUME_INDEX: index_bytes,
        verifier.VOLUME_SIGNATURE: _b64(signer.sign(index_bytes)),
    }
    if package.sm2_signer is not None:
        own[verifier.VOLUME_SM2_SIGNATURE] = _b64(package.sm2_signer.sign(index_bytes))
    fields = list(package.bag_fields)
    if total > 1:
        fields += [("Bag-Group-Identifier", package.id), ("Bag-Count", f"{number} of {total}")]
    entries = [bag.Entry(f.path, f.size, f.sha256, f.sm3) for f in share]
    return {**own, **bag.tag_files(entries, info=fields, others=own)}


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data) + b"\n"


def _build_iso(
    package: _Package, share: Sequence[_Payload], small: dict[str, bytes], label: str
) -> pycdlib.PyCdlib:
    iso = pycdlib.PyCdlib()
    iso.new(
        interchange_level=3,
        joliet=3,
        rock_ridge="1.09",
        vol_ident=label,
        app_ident_str="LIUHEN PACKAGING",
        sys_ident="LIUHEN",
    )
    names = _IsoNames()
    made: set[str] = set()

    def ensure_dirs(path: str) -> None:
        for parent in _parents(path):
            if parent not in made:
                iso.add_directory(
                    names.directory(parent),
                    rr_name=parent.rsplit("/", 1)[-1],
                    joliet_path="/" + parent,
                )
                made.add(parent)

    for name, data in sorted(small.items()):
        iso.add_fp(
            io.BytesIO(data),
            len(data),
            names.file(name),
            rr_name=name,
            joliet_path="/" + name,
            file_mode=0o100444,
        )
    for f in share:
        ensure_dirs(f.path)
        iso.add_file(
            str(package.root / f.path),
            names.file(f.path),
            rr_name=f.path.rsplit("/", 1)[-1],
            joliet_path="/" + f.path,
            file_mode=0o100444,
        )
    return iso


def write_disc_images(
    package_dir: str | os.PathLike,
    dest_dir: str | os.PathLike,
    *,
    signer: SigningKey,
    sm2_signer: SM2SigningKey | None = None,
    medium_name: str | int | Medium = "dvd",
    label: str | None = None,
    name: str | None = None,
    verify: bool = True,
    fsync: bool = True,
) -> list[DiscImage]:
    """Write the package at ``package_dir`` as ISO images in ``dest_dir`` (created if needed):
    one image when it fits ``medium_name``, else several, each self-contained. ``signer`` must
    be the key that signed the package (it also signs each volume index). Every image is
    ``sm2_signer``: the SM2 key that signed it beside Ed25519 (required for such a package),
    which signs each volume index too (``volume.sm2.sig``). Every image is
    checked as written (``verify=True``, the default: the module's docstring says how) and its
    own SHA-256 and SM3 returned; a failed check raises :class:`PackageInvalid` and leaves the
    failed image for inspection.
    ``fsync=False`` leaves flushing to the kernel (an image about to be burnt and deleted)."""
    package = _Package(Path(package_dir), signer, sm2_signer)
    target = medium(medium_name)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    plan = _plan(package, target.capacity)
    total = len(plan)
    index = {
        "format": verifier.VOLUME_FORMAT,
        "package_id": package.id,
        "manifest_sha256": hashlib.sha256(package.manifest_bytes).hexdigest(),
        "volumes": total,
        "medium": target.name,
        "created_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "files": {f.path: number for number, share in enumerate(plan, 1) for f in share},
    }
    stem = name or re.sub(r"[^\w.-]", "_", package.id or package.root.name)
    images = []
    for number, share in enumerate(plan, 1):
        volume_label = _volume_label(package.id, number, total, label)
        small = _volume_files(package, share, index, number=number, total=total, signer=signer)
        iso = _build_iso(package, share, small, volume_label)
        try:
            size = iso.pvd.space_size * BLOCK
            if size > target.capacity:
                raise PackagingError(
                    "光盘映像超出介质容量（分卷估算不足）。",
                    detail=f"volume {number}: {size} > {target.capacity}",
                )
            path = dest / (f"{stem}.iso" if total == 1 else f"{stem}-{number}of{total}.iso")
            # Where each payload file lands (pycdlib lays the image out on this first lookup).
            extents = {
                f.path: readback.record_extents(iso.get_record(rr_path="/" + f.path)) for f in share
            }
            # "xb+": the writer reads back what pycdlib wrote before the file data (metadata).
            with open(path, "xb+") as out:
                hashing = readback.HashingWriter(out, files=extents if verify else None)
                iso.write_fp(hashing, blocksize=WRITE_BLOCK)
                written = hashing.digests()
                found = hashing.file_digests()
                if fsync:
                    out.flush()
                    os.fsync(out.fileno())
        finally:
            iso.close()
        result = readback.read_back(
            path,
            fingerprint=signer.fingerprint,
            sm2_fingerprint=package.sm2_signer.fingerprint if package.sm2_signer else None,
            sm3="skip",
            files=verify,
            written=written,
            written_files=None
            if found is None
            else {rel: (extents[rel], value) for rel, value in found.items()},
        )
        if verify and not result.ok:
            failures = "; ".join(f"{f.code} {f.path or ''}" for f in result.failures)
            raise PackageInvalid(f"光盘映像回读校验未通过：{path.name}", detail=failures)
        images.append(
            DiscImage(
                path=path,
                volume=number,
                volumes=total,
                label=volume_label,
                medium=target.name,
                **result.media[str(path)],
                files=tuple(f.path for f in share),
            )
        )
    return images
