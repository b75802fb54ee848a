"""Read-back check of a disc image, a mounted disc or a package folder against its manifest.

After an image is written, and whenever a kept disc is checked later (第十五条 long-term
keeping; DA/T 70 安全性), the same verifier that travels in the package checks it. A folder or a
mounted disc is read as it is. An ISO image is read through ``pycdlib`` without mounting it: the
image is read once, front to back, and that one pass gives both the image's own SHA-256 and SM3
and every file's digests (the files are cut out of the stream by their extents), which the
verifier then compares with the manifest. The names are checked too: the Joliet tree (what
Windows shows) must hold exactly the Rock Ridge names (what Linux and macOS show).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from liuhen.core.lazy import lazy_module
from liuhen.evidence.digests import CHUNK, Digests, DigestWriter, Lane, iter_chunks
from liuhen.packaging import verifier
from liuhen.packaging.errors import PackagingError

pycdlib = lazy_module("pycdlib")  # imported on first use (core.lazy): a disc is rarely read

BLOCK = 2048


class IsoSource:
    """An ISO 9660 image as the verifier sees a folder: Rock Ridge names, sizes, contents."""

    def __init__(self, image: str | os.PathLike) -> None:
        self.image = Path(image)
        self.label = str(image)
        self._fh = open(self.image, "rb")
        self.iso = pycdlib.PyCdlib()
        try:
            self.iso.open_fp(self._fh)
        except pycdlib.pycdlibexception.PyCdlibException as exc:
            self._fh.close()
            raise PackagingError(f"无法读取光盘映像：{self.image.name}", detail=str(exc)) from exc
        self._records: dict[str, object] = {}
        self._kinds: list[tuple[str, str]] = []
        for root, _dirs, files in self.iso.walk(rr_path="/"):
            for name in files:
                rel = f"{root.rstrip('/')}/{name}".lstrip("/")
                record = self.iso.get_record(rr_path="/" + rel)
                self._records[rel] = record
                self._kinds.append((rel, "other" if record.is_symlink() else "file"))

    def close(self) -> None:
        self.iso.close()
        self._fh.close()

    def __enter__(self) -> IsoSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the verifier's four methods -------------------------------------------------------------

    def entries(self) -> list[tuple[str, str]]:
        return sorted(self._kinds)

    def size(self, rel: str) -> int:
        return sum(length for _start, length in self.extents(rel))

    def read(self, rel: str) -> bytes:
        out = io.BytesIO()
        self.iso.get_file_from_iso_fp(out, rr_path="/" + rel)
        return out.getvalue()

    def open(self, rel: str):
        return self.iso.open_file_from_iso(rr_path="/" + rel)

    # -- what only an image has ------------------------------------------------------------------

    def extents(self, rel: str) -> list[tuple[int, int]]:
        """(byte offset, length) of each extent of a file: one, or several for a file over
        4 GiB (ISO 9660 multi-extent)."""
        return record_extents(self._records[rel])

    def joliet_names(self) -> set[str]:
        names = set()
        for root, _dirs, files in self.iso.walk(joliet_path="/"):
            for name in files:
                names.add(f"{root.rstrip('/')}/{name}".lstrip("/"))
        return names

    def iso9660_count(self) -> int:
        return sum(len(files) for _root, _dirs, files in self.iso.walk(iso_path="/"))

    def scan(
        self, *, files: bool = True, file_sm3: bool = True, image_sm3: bool = True
    ) -> tuple[Digests, dict[str, tuple[int, str, str | None]]]:
        """Read the image once: its own digests, and (``files``) every file's, cut out of the
        same stream by extent (SHA-256 only when not ``file_sm3``; the image's SHA-256 only
        when not ``image_sm3``)."""
        new = DigestWriter if file_sm3 else Sha256Writer
        image = DigestWriter() if image_sm3 else Sha256Writer()
        extents = {rel: self.extents(rel) for rel, kind in self._kinds if files and kind == "file"}
        cut = _FileCutter(extents, new)
        position = 0
        with open(self.image, "rb") as fh:
            for chunk in iter_chunks(fh, CHUNK):
                image.update(chunk)
                cut.feed(position, chunk)
                position += len(chunk)
        return image.digests(), cut.finish()


def record_extents(record) -> list[tuple[int, int]]:
    """(byte offset, length) of each extent of a ``pycdlib`` directory record and its
    continuations (a file over 4 GiB has several)."""
    found = []
    while record is not None and record.data_length > 0:
        found.append((record.extent_location() * BLOCK, record.data_length))
        record = record.data_continuation
    return found


class _FileCutter:
    """Every file's digests cut out of an image's byte stream by its extents, the stream fed
    front to back in pieces (read back from an image, or as the image is written)."""

    def __init__(self, extents: Mapping[str, list[tuple[int, int]]], new) -> None:
        self._ranges = sorted(
            (start, start + length, rel)
            for rel, found in extents.items()
            for start, length in found
        )
        self._pending: dict[str, int] = {}
        for _start, _end, rel in self._ranges:
            self._pending[rel] = self._pending.get(rel, 0) + 1
        self._writers = {rel: new() for rel in self._pending}
        self._new = new
        # A file without an extent is empty.
        self.found = {rel: self._empty() for rel in extents if rel not in self._pending}
        self._active: list[tuple[int, int, str]] = []
        self._following = 0

    def _empty(self) -> tuple[int, str, str | None]:
        d = self._new().digests()
        return d.size, d.sha256, d.sm3

    def feed(self, position: int, chunk: bytes) -> None:
        """``chunk`` is the image's bytes from ``position`` on (never before what was fed)."""
        end = position + len(chunk)
        ranges = self._ranges
        while self._following < len(ranges) and ranges[self._following][0] < end:
            self._active.append(ranges[self._following])
            self._following += 1
        if not self._active:
            return
        view = memoryview(chunk)
        still = []
        for start, stop, rel in self._active:
            low, high = max(start, position), min(stop, end)
            if low < high:
                self._writers[rel].update(view[low - position : high - position])
            if stop > end:
                still.append((start, stop, rel))
                continue
            self._pending[rel] -= 1
            if not self._pending[rel]:
                d = self._writers.pop(rel).digests()
                self.found[rel] = (d.size, d.sha256, d.sm3)
        self._active = still

    def finish(self) -> dict[str, tuple[int, str, str | None]]:
        """Every file's (size, SHA-256, SM3 or None); a file whose extents lie past the end
        of the stream (a truncated image) gets what was there."""
        for rel, writer in self._writers.items():
            d = writer.digests()
            self.found[rel] = (d.size, d.sha256, d.sm3)
        self._writers = {}
        return self.found


class Sha256Writer:
    """SHA-256 alone, on a lane: enough to catch any changed byte when the file's SM3 was
    computed from the same bytes already (the read-back right after writing an image, a copy
    of a stored original whose SM3 was recorded at ingest). ``digests().sm3`` is ``None``."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._lane = Lane(self._hash.update)
        self.size = 0

    def update(self, chunk) -> None:
        self._lane.submit(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        self._lane.join()
        return Digests(self._hash.hexdigest(), None, self.size)  # type: ignore[arg-type]


class HashingWriter:
    """A binary file wrapper for ``pycdlib``'s ``write_fp`` that computes the image's SHA-256
    and SM3 while the image is written and, given ``files`` (each payload file's extents in
    the image, as laid out before writing), every such file's SHA-256 from the very bytes that
    land at its extents: the check right after writing then needs no second pass over the
    image.

    ``pycdlib`` seeks: descriptors and directory records first (small, not always in order),
    then the file data in extent order, then one padding byte at the end. Small writes are only
    written; before a large one (file data) the bytes between what is hashed and where it lands
    are read back from the file (the metadata and small files written so far, zeros for holes)
    and hashed, then the data itself is hashed on its way. A later write below what is already
    hashed makes the digests unusable: ``digests()`` and ``file_digests()`` then return
    ``None`` and the check reads the image back instead. Correctness never rests on this
    class alone: the check compares every file's SHA-256 with the manifest and each file's
    extents on the written image (parsed again) with the ones hashed here.
    """

    LARGE = 64 * 1024

    def __init__(
        self, out: IO[bytes], files: Mapping[str, list[tuple[int, int]]] | None = None
    ) -> None:
        self._out = out
        self._hash = DigestWriter()
        self._files = _FileCutter(files, Sha256Writer) if files else None
        self._hashed = 0
        self._valid = True

    def _feed(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        if self._files is not None:
            self._files.feed(self._hashed, chunk)
        self._hashed += len(chunk)

    def write(self, data) -> int:
        position = self._out.tell()
        if self._valid and position < self._hashed:
            self._valid = False
        elif self._valid and len(data) >= self.LARGE:
            self._catch_up(position)
            self._feed(bytes(data))
        return self._out.write(data)

    def _catch_up(self, position: int) -> None:
        if position <= self._hashed:
            return
        here = self._out.tell()
        self._out.flush()
        with open(self._out.fileno(), "rb", closefd=False) as reader:
            reader.seek(self._hashed)
            while self._hashed < position:
                chunk = reader.read(min(CHUNK, position - self._hashed))
                if not chunk:  # a hole past the end: zeros
                    chunk = bytes(min(CHUNK, position - self._hashed))
                self._feed(chunk)
        self._out.seek(here)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._out.seek(offset, whence)

    def tell(self) -> int:
        return self._out.tell()

    def flush(self) -> None:
        self._out.flush()

    def fileno(self) -> int:
        return self._out.fileno()

    @property
    def mode(self) -> str:
        return self._out.mode

    def digests(self) -> Digests | None:
        """The image's digests, once everything is written; ``None`` when they could not be
        computed on the way (the check reads the image back)."""
        if not self._valid:
            self._hash.digests()  # let the lanes finish
            if self._files is not None:
                self._files.finish()
            return None
        self._out.flush()
        self._catch_up(os.fstat(self._out.fileno()).st_size)
        return self._hash.digests()

    def file_digests(self) -> dict[str, tuple[int, str, None]] | None:
        """After :meth:`digests`: each file's (size, SHA-256, None) as written, or ``None``."""
        if not self._valid or self._files is None:
            return None
        return self._files.finish()


def _as_expected(expected: object) -> Mapping[str, object]:
    if expected is None:
        return {}
    if isinstance(expected, Mapping):
        return expected
    return {
        k: getattr(expected, k)
        for k in ("size", "sha256", "sm3")
        if getattr(expected, k, None) is not None
    }


def read_back(
    locations: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    expected: object = None,
    fingerprint: str | None = None,
    sm2_fingerprint: str | None = None,
    sm3: str = "auto",
    files: bool = True,
    written: object = None,
    written_files: Mapping[str, tuple[list[tuple[int, int]], tuple]] | None = None,
) -> verifier.Report:
    """Check disc images (``.iso`` files), mounted discs or folders against their manifest and
    return the verifier's :class:`~liuhen.packaging.verifier.Report`. Several locations are the
    volumes of one split package. For images, ``report.media`` maps each image's path to its
    size, SHA-256 and SM3; ``expected`` (a ``DiscImage``, ``Digests`` or mapping, one image
    only) makes a difference from the recorded image digests a failure too. ``fingerprint``:
    the bureau's key fingerprint the signature must match (``sm2_fingerprint``: its SM2 key's,
    for a package signed with SM2 too). ``sm3``: as for the verifier
    (``skip``: files by SHA-256 only; the image's own SM3 is always computed).
    ``files=False`` computes only the image digests. ``written`` (one image only): the
    digests computed while the image was written (:class:`HashingWriter`); the read-back then
    computes the image's SHA-256 alone, must find the same SHA-256 and size, and reports the
    SM3 computed while writing (the bytes read back are the bytes hashed then).
    ``written_files`` as well (the check right after writing, :func:`~liuhen.packaging.disc.
    write_disc_images`): each payload file's extents and (size, SHA-256, None) as hashed while
    the image was written; the image is then not read a second time: it is parsed again, its
    size must be the one written, and a file whose extents on the parsed image are the ones
    hashed is checked by that SHA-256 (any other file is read from the image)."""
    if isinstance(locations, str | os.PathLike):
        locations = [locations]
    sources: list[object] = []
    precomputed: dict[tuple[str, str], tuple[int, str, str]] = {}
    media = []
    written_failures: list[tuple[IsoSource, Mapping[str, object], Digests]] = []
    try:
        for location in locations:
            if Path(location).is_dir():
                sources.append(verifier.DirectorySource(location))
                continue
            source = IsoSource(location)
            sources.append(source)
            known = _as_expected(written) if written is not None else {}
            if written_files is not None and known.get("sm3") and known.get("sha256"):
                size = source.image.stat().st_size
                digests = Digests(str(known["sha256"]), str(known["sm3"]), size)
                if size != known.get("size", size):
                    written_failures.append((source, known, Digests("", None, size)))
                found = {
                    rel: value
                    for rel, (extents, value) in written_files.items()
                    if rel in source._records and source.extents(rel) == list(extents)
                }
            else:
                digests, found = source.scan(
                    files=files, file_sm3=sm3 != "skip", image_sm3=not known.get("sm3")
                )
            if known.get("sm3") and written_files is None:
                same = digests.sha256 == str(known.get("sha256", "")).lower() and (
                    digests.size == known.get("size", digests.size)
                )
                digests = Digests(digests.sha256, str(known["sm3"]) if same else None, digests.size)
                if not same:
                    written_failures.append((source, known, digests))
            precomputed.update({(source.label, rel): v for rel, v in found.items()})
            media.append((source, digests))
        if not files:
            report = verifier.Report()
            report.locations = [s.label for s in sources]
        else:
            report = verifier.Verifier(
                sources,
                sm3=sm3,
                fingerprint=fingerprint,
                sm2_fingerprint=sm2_fingerprint,
                precomputed=precomputed,
            ).run()
        for source, known, digests in written_failures:
            report.add(
                verifier.FAIL,
                "image.readback",
                f"映像回读的 SHA-256 与写入时计算的不符：写入时 {known.get('sha256')}，"
                f"回读 {digests.sha256}（{digests.size} 字节）。",
                f"the image read back differs from what was written: SHA-256 written "
                f"{known.get('sha256')}, read back {digests.sha256} ({digests.size} bytes).",
                location=source.label,
            )
        for source, digests in media:
            _check_image(
                report,
                source,
                digests,
                _as_expected(expected) if len(media) == 1 else {},
                names=files,
            )
    finally:
        for source in sources:
            if isinstance(source, IsoSource):
                source.close()
    return report


def _check_image(
    report: verifier.Report,
    source: IsoSource,
    digests: Digests,
    expected: Mapping[str, object],
    *,
    names: bool,
) -> None:
    found = {"size": digests.size, "sha256": digests.sha256, "sm3": digests.sm3}
    report.media = {**(report.media or {}), source.label: found}
    for key in ("size", "sha256", "sm3"):
        want = expected.get(key)
        if want is not None and str(want).lower() != str(found[key]):
            report.add(
                verifier.FAIL,
                f"image.{key}",
                f"光盘映像的 {key} 与登记的不符：登记 {want}，实际 {found[key]}。",
                f"the image's {key} differs from the register: recorded {want}, "
                f"found {found[key]}.",
                location=source.label,
            )
    if not names:
        return
    rock_ridge = {rel for rel, _kind in source.entries()}
    joliet = source.joliet_names()
    if joliet != rock_ridge:
        differing = sorted(joliet ^ rock_ridge)[:5]
        report.add(
            verifier.FAIL,
            "image.joliet",
            f"Joliet 文件名（Windows 所见）与 Rock Ridge 文件名不一致：{differing}",
            f"the Joliet names (what Windows shows) differ from the Rock Ridge names: {differing}",
            location=source.label,
        )
    elif source.iso9660_count() != len(rock_ridge):
        report.add(
            verifier.FAIL,
            "image.iso9660",
            "ISO 9660 目录中的文件数与 Rock Ridge 不一致。",
            "the ISO 9660 directory holds a different number of files than Rock Ridge.",
            location=source.label,
        )
    else:
        report.add(
            verifier.PASS,
            "image.names",
            f"映像的 Joliet 与 Rock Ridge 文件名一致（{len(rock_ridge)} 个文件，中文名完好）。",
            f"the image's Joliet and Rock Ridge names agree ({len(rock_ridge)} files, "
            f"Chinese names intact).",
            location=source.label,
        )
