"""The package builder: one for evidence packages and archive packages alike.

An evidence package supplied to a review body or a court (第十七条第三款) and an archive package
kept long-term (第十五条) are the same thing on disk: a BagIt 1.0 bag whose payload (``data/``)
holds the originals as stored, a canonical ``manifest.json`` listing every file with its size,
SHA-256 and SM3 (DA/T 97) and the caller's metadata, the bureau's Ed25519 signature over the
manifest's exact bytes (and, given an SM2 key, its SM2 signature over the same bytes beside
it, GB/T 32918), and the offline verifier. Callers pass plain values and file openers;
nothing here knows cases or recordings.

Each payload is read once: while its bytes are written into the bag they are hashed with SHA-256
and SM3 (``liuhen.evidence.digests``: each digest and the write on a lane of its own). When the
caller passes the digests recorded for a stored original, the copy must match them, or the build
fails and leaves nothing behind: an altered original is never packaged silently. When those
recorded digests hold both SHA-256 and SM3, the copy is hashed with SHA-256 alone: a copy whose
SHA-256 equals the recorded one is the recorded bytes, so the SM3 recorded for them at ingest
(and re-checked by ``liuhen verify``) is reused instead of computed a second time
(``recompute_sm3=True`` computes it anyway). SM3 is the slow digest (about 350 MiB/s against
1.7 GiB/s); this is what keeps packaging near the cost of a copy.

The package is built in a hidden folder beside ``dest_dir``, checked (``bagit`` validates it; the
verifier checks manifest, signature and bag against the digests just computed) and only then
renamed to ``dest_dir``: a package that exists is complete.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import hashlib
import io
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Any

import bagit

from liuhen.evidence.digests import CHUNK, Digests, DigestWriter, Lane, iter_chunks
from liuhen.packaging import bag, verifier
from liuhen.packaging.errors import (
    DigestMismatch,
    InvalidPackagePath,
    PackageInvalid,
    PackagingError,
)
from liuhen.packaging.names import collision_key, payload_path
from liuhen.packaging.readback import Sha256Writer
from liuhen.packaging.signing import SigningKey, SM2SigningKey

GENERATOR = "liuhen.packaging 1"
_HERE = Path(__file__).resolve().parent
VERIFIER_SOURCE = _HERE / "verifier.py"
README_SOURCE = _HERE / "data" / "README.txt"


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable in a manifest: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """The one serialisation of a manifest: keys sorted, UTF-8 (Chinese as itself), two-space
    indent with fixed separators, a final newline; dates as ISO 8601. The signature covers
    these exact bytes; nobody re-serialises to verify."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        sort_keys=True,
        indent=2,
        separators=(",", ": "),
        allow_nan=False,
        default=_json_default,
    )
    return (text + "\n").encode("utf-8")


@dataclass(frozen=True)
class PackagedFile:
    """One payload file of a package: its package path (``data/…``), size and digests, and the
    caller's metadata as the manifest lists it."""

    path: str
    size: int
    sha256: str
    sm3: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def as_manifest(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class PackageResult:
    """A finished package: where it is, what it holds, and the digests and key fingerprint a
    register (复制留存, 第十七条第三款; burn register, 第十五条) records."""

    path: Path
    external_id: str
    title: str
    created_at: str
    files: tuple[PackagedFile, ...]
    payload_bytes: int
    manifest_sha256: str
    manifest_sm3: str
    key_fingerprint: str
    sm2_key_fingerprint: str = ""


def _expected(expected: Any) -> dict[str, Any]:
    """Recorded digests from a ``Digests``, a model with ``sha256``/``sm3``/``size`` fields, or
    a mapping; only those given are compared."""
    if expected is None:
        return {}
    get = (
        expected.get
        if isinstance(expected, Mapping)
        else (lambda name: getattr(expected, name, None))
    )
    found = {}
    for name in ("sha256", "sm3"):
        if get(name):
            found[name] = str(get(name)).strip().lower()
    if get("size") is not None:
        found["size"] = int(get("size"))
    if not found:
        raise PackagingError("给出的原始固定值为空。", detail=f"expected={expected!r}")
    return found


class PackageBuilder:
    """Builds one package in ``dest_dir`` (which must not exist yet).

    >>> with PackageBuilder(dest, title="…", organization="…", external_id="…",
    ...                     signer=SigningKey.load_or_create(key_path),
    ...                     sm2_signer=SM2SigningKey.load_or_create(sm2_key_path)) as builder:
    ...     builder.add_file("录像/DSJ_0001.MP4", stored_path, expected=recording,
    ...                      metadata={"captured_at": …, "device": …, "custody": […]})
    ...     builder.add_bytes("证据清单.pdf", pdf_bytes, metadata={"kind": "evidence_list"})
    ...     result = builder.finish()

    Any error while adding (an unreadable source, a digest that differs from ``expected``, a
    name a disc cannot hold) aborts the whole build: the hidden work folder is removed and the
    error raised; nothing half-built is left to be mistaken for a package.

    ``fsync`` (default): every file reaches the disk before the package is renamed into place,
    so a package that exists survives a power cut; ``fsync=False`` leaves flushing to the
    kernel, for a package that is an intermediate step (copied into the vault right after).
    """

    def __init__(
        self,
        dest_dir: str | os.PathLike,
        *,
        title: str,
        organization: str,
        external_id: str,
        signer: SigningKey,
        sm2_signer: SM2SigningKey | None = None,
        created_at: dt.datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        bag_info: Mapping[str, str] | None = None,
        fsync: bool = True,
        recompute_sm3: bool = False,
    ) -> None:
        self.dest = Path(dest_dir)
        if self.dest.exists():
            raise PackagingError(f"目标文件夹已存在：{self.dest}")
        created_at = created_at or dt.datetime.now().astimezone()
        if created_at.tzinfo is None:
            raise PackagingError("制作时间须带时区。", detail="created_at is naive")
        self.title, self.organization, self.external_id = title, organization, external_id
        self.signer = signer
        self.sm2_signer = sm2_signer
        self.created_at = created_at.isoformat(timespec="seconds")
        self.bagging_date = created_at.date().isoformat()
        self.metadata = dict(metadata or {})
        self.extra_bag_info = dict(bag_info or {})
        self.fsync = fsync
        self.recompute_sm3 = recompute_sm3
        self._full_check = False
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._work = Path(
            tempfile.mkdtemp(prefix=f".{self.dest.name}.partial-", dir=self.dest.parent)
        )
        (self._work / verifier.PAYLOAD_DIR).mkdir()
        self._files: list[PackagedFile] = []
        self._file_keys: set[str] = set()
        self._dir_keys: set[str] = set()
        self._state = "open"

    # -- adding payload --------------------------------------------------------------------------

    def add_stream(
        self,
        path: str,
        opener: Callable[[], IO[bytes]],
        size: int,
        *,
        expected: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> PackagedFile:
        """Add ``size`` bytes read from ``opener()`` (a callable returning a binary file object,
        closed afterwards) as ``data/<path>``. ``expected``: the digests recorded for the
        stored original (``Digests``, a model with ``sha256``/``sm3``/``size``, or a mapping);
        a difference raises :class:`DigestMismatch` and aborts the build."""
        self._check_open()
        package_path = self._claim(path)
        try:
            want = _expected(expected)
            target = self._work / package_path
            target.parent.mkdir(parents=True, exist_ok=True)
            reuse = not self.recompute_sm3 and "sha256" in want and "sm3" in want
            with opener() as source:
                digests = self._copy(source, target, size, sha256_only=reuse)
            if reuse:
                # Same SHA-256 as recorded (checked next) = same bytes: their recorded SM3 holds.
                digests = Digests(digests.sha256, want["sm3"], digests.size)
            self._compare(package_path, digests, size, want)
        except BaseException:
            self.abort()
            raise
        record = PackagedFile(
            package_path, digests.size, digests.sha256, digests.sm3, dict(metadata or {})
        )
        self._files.append(record)
        return record

    def add_file(
        self,
        path: str,
        source: str | os.PathLike,
        *,
        expected: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> PackagedFile:
        """Add the file at ``source`` (a stored original on local storage) as ``data/<path>``."""
        source = Path(source)
        try:
            size = source.stat().st_size
        except OSError as exc:
            self.abort()
            raise PackagingError(f"无法读取源文件：{source}", detail=str(exc)) from exc
        return self.add_stream(
            path, lambda: open(source, "rb"), size, expected=expected, metadata=metadata
        )

    def add_bytes(
        self, path: str, data: bytes, *, metadata: Mapping[str, Any] | None = None
    ) -> PackagedFile:
        """Add generated content (an evidence list PDF, an audit extract, metadata XML)."""
        return self.add_stream(path, lambda: io.BytesIO(data), len(data), metadata=metadata)

    @property
    def files(self) -> tuple[PackagedFile, ...]:
        return tuple(self._files)

    # -- finishing -------------------------------------------------------------------------------

    def finish(self, *, full_check: bool = False) -> PackageResult:
        """Write the verifier, the signed manifest and the bag's tag files, check the package
        (``bagit`` and the verifier), and move it to ``dest_dir``."""
        self._check_open()
        self._full_check = full_check
        try:
            support = self._support_files()
            manifest = canonical_json(self._manifest(support))
            signature = base64.b64encode(self.signer.sign(manifest)) + b"\n"
            own = {**support, verifier.MANIFEST: manifest, verifier.SIGNATURE: signature}
            if self.sm2_signer is not None:
                own[verifier.SM2_SIGNATURE] = (
                    base64.b64encode(self.sm2_signer.sign(manifest)) + b"\n"
                )
            entries = [bag.Entry(f.path, f.size, f.sha256, f.sm3) for f in self._files]
            tags = bag.tag_files(entries, info=self._bag_info(), others=own)
            for name, data in {**own, **tags}.items():
                self._write_small(self._work / name, data)
            if self.fsync:
                _fsync_tree(self._work)
            self._check(self._work)
            os.rename(self._work, self.dest)
            if self.fsync:
                _fsync_dir(self.dest.parent)
        except BaseException:
            self.abort()
            raise
        self._state = "finished"
        return PackageResult(
            path=self.dest,
            external_id=self.external_id,
            title=self.title,
            created_at=self.created_at,
            files=tuple(self._files),
            payload_bytes=sum(f.size for f in self._files),
            manifest_sha256=hashlib.sha256(manifest).hexdigest(),
            manifest_sm3=_sm3(manifest),
            key_fingerprint=self.signer.fingerprint,
            sm2_key_fingerprint=self.sm2_signer.fingerprint if self.sm2_signer else "",
        )

    def abort(self) -> None:
        """Remove everything written so far; the builder cannot be used afterwards."""
        if self._state == "open":
            self._state = "aborted"
            shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> PackageBuilder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()  # without finish() (or after an error) nothing is left behind

    # -- steps -----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state != "open":
            raise PackagingError(
                f"此包已{'完成' if self._state == 'finished' else '中止'}，不能再添加或完成。",
                detail=f"state {self._state}",
            )

    def _claim(self, path: str) -> str:
        """Validate ``path`` and reserve it: no two names a disc or Windows would merge, no
        file where another file needs a folder."""
        try:
            package_path = payload_path(path)
        except InvalidPackagePath:
            self.abort()
            raise
        key = collision_key(package_path)
        parts = key.split("/")
        parents = {"/".join(parts[:i]) for i in range(2, len(parts))}
        if key in self._file_keys or key in self._dir_keys or parents & self._file_keys:
            self.abort()
            raise InvalidPackagePath(f"包中已有同名文件或文件夹（不区分大小写）：{path}")
        self._file_keys.add(key)
        self._dir_keys |= parents
        return package_path

    def _copy(
        self, source: IO[bytes], target: Path, size: int, *, sha256_only: bool = False
    ) -> Digests:
        """Copy at most ``size + 1`` bytes (one more reveals a source longer than declared),
        hashing them on the way (SHA-256 alone when ``sha256_only``: the returned SM3 is then
        ``None``); the write runs on a lane of its own."""
        writer = Sha256Writer() if sha256_only else DigestWriter()
        with open(target, "xb") as out:
            lane = Lane(_SyncingWrite(out) if self.fsync else out.write)
            try:
                for chunk in iter_chunks(source, CHUNK, limit=size + 1):
                    writer.update(chunk)
                    lane.submit(chunk)
            finally:
                lane.join()
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        return writer.digests()

    @staticmethod
    def _compare(path: str, found: Digests, size: int, want: dict[str, Any]) -> None:
        actual = {"size": found.size, "sha256": found.sha256, "sm3": found.sm3}
        if found.size != size:
            raise DigestMismatch(
                f"读取的字节数与登记的大小不符，包未生成：{path}",
                path=path,
                expected={"size": size},
                found={"size": found.size},
            )
        differs = {k: v for k, v in want.items() if actual[k] != v}
        if differs:
            raise DigestMismatch(
                f"原始文件与登记的固定值不符（{'、'.join(sorted(differs))}），可能已被改动，"
                f"包未生成：{path}",
                path=path,
                expected=differs,
                found={k: actual[k] for k in differs},
            )

    def _support_files(self) -> dict[str, bytes]:
        readme = README_SOURCE.read_bytes()
        support = {
            verifier.VERIFIER: VERIFIER_SOURCE.read_bytes(),
            # A byte-order mark: older Windows Notepad then reads the Chinese correctly.
            verifier.README: readme
            if readme.startswith(b"\xef\xbb\xbf")
            else b"\xef\xbb\xbf" + readme,
            verifier.PUBLIC_KEY: self.signer.public_key_pem,
        }
        if self.sm2_signer is not None:
            support[verifier.SM2_PUBLIC_KEY] = self.sm2_signer.public_key_pem
        return support

    def _manifest(self, support: Mapping[str, bytes]) -> dict[str, Any]:
        manifest = {
            "format": verifier.MANIFEST_FORMAT,
            "generator": GENERATOR,
            "package": {
                "id": self.external_id,
                "title": self.title,
                "organization": self.organization,
                "created_at": self.created_at,
                "metadata": self.metadata,
            },
            "signature": {
                "algorithm": self.signer.algorithm,
                "file": verifier.SIGNATURE,
                "public_key": verifier.PUBLIC_KEY,
                "public_key_fingerprint": self.signer.fingerprint,
                "signs": "the exact bytes of manifest.json",
            },
            "digest_algorithms": ["sha256", "sm3"],
            "files": [f.as_manifest() for f in self._files],
            "totals": {"files": len(self._files), "bytes": sum(f.size for f in self._files)},
            "support_files": [
                {
                    "path": name,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "sm3": _sm3(data),
                }
                for name, data in sorted(support.items())
            ],
        }
        if self.sm2_signer is not None:
            manifest["signature_sm2"] = {
                "algorithm": self.sm2_signer.algorithm,
                "standard": "GB/T 32918.2-2016, SM3 (GB/T 32905-2016), ID per GB/T 35276-2017",
                "digest": "sm3",
                "id": self.sm2_signer.signer_id,
                "encoding": "DER SEQUENCE {r, s}, base64",
                "file": verifier.SM2_SIGNATURE,
                "public_key": verifier.SM2_PUBLIC_KEY,
                "public_key_fingerprint": self.sm2_signer.fingerprint,
                "signs": "the exact bytes of manifest.json",
            }
        return manifest

    def _bag_info(self) -> list[tuple[str, str]]:
        return [
            ("Source-Organization", self.organization),
            ("External-Identifier", self.external_id),
            ("External-Description", self.title),
            ("Bagging-Date", self.bagging_date),
            ("Bag-Software-Agent", GENERATOR),
            *self.extra_bag_info.items(),
        ]

    def _write_small(self, path: Path, data: bytes) -> None:
        with open(path, "xb") as fh:
            fh.write(data)
            if self.fsync:
                fh.flush()
                os.fsync(fh.fileno())

    def _check(self, root: Path) -> None:
        """``bagit`` validates the bag's structure, ``bagit.txt``, Payload-Oxum and completeness
        (every manifest entry present, no file outside the manifests); the verifier checks
        manifest, signature, both payload manifests, the tag manifests (re-hashing the small tag
        files) and every size against the digests computed while writing. The payload is not
        read a second time: its bytes were hashed on their way into the bag
        (``full_check=True`` on :meth:`finish` has ``bagit`` re-read and re-hash it as well)."""
        try:
            bagit.Bag(str(root)).validate(completeness_only=not self._full_check)
        except bagit.BagError as exc:
            raise PackageInvalid("生成的包未通过 BagIt 校验。", detail=str(exc)) from exc
        source = verifier.DirectorySource(root)
        known = {(source.label, f.path): (f.size, f.sha256, f.sm3) for f in self._files}
        report = verifier.Verifier(
            [source],
            precomputed=known,
            fingerprint=self.signer.fingerprint,
            sm2_fingerprint=self.sm2_signer.fingerprint if self.sm2_signer else None,
        ).run()
        if not report.ok:
            failures = "; ".join(f"{f.code} {f.path or ''}" for f in report.failures)
            raise PackageInvalid("生成的包未通过自检。", detail=failures)


class _SyncingWrite:
    """Writes chunks and flushes them to disk every ``every`` bytes, on the write lane: the disk
    works while the digests are computed, instead of the whole file waiting at its fsync."""

    def __init__(self, out: IO[bytes], every: int = 64 << 20) -> None:
        self._out, self._every, self._pending = out, every, 0

    def __call__(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self._pending += len(chunk)
        if self._pending >= self._every:
            self._out.flush()
            os.fdatasync(self._out.fileno())
            self._pending = 0


def _sm3(data: bytes) -> str:
    h = verifier.new_sm3()
    h.update(data)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Directories are made durable too (files were synced as written): a renamed package must
    not lose its entries."""
    for dirpath, _dirnames, _filenames in os.walk(root):
        _fsync_dir(Path(dirpath))
