"""The ingest station (采集站): empties a body camera's dump folder into the vault.

Used by ``liuhen ingest``. Each file is stored through the one ingest service — in this
process (on the server: copied, hashed and probed once) or over tus with per-chunk sha256
checksums (remote: hashed once locally, a file larger than one chunk skipped when the server
already holds the same bytes) — and the server's digests are compared with the station's own;
bytes the vault holds already are reported as duplicates, never stored twice. The receipt (CSV and JSON) says for
every file whether it is now safe to erase from the camera; the station never erases
anything itself (第十三条: stored within 24 hours; 第二十六条: nothing lost on the way).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
import os
import platform
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from liuhen.core.exports import safe_cell
from liuhen.evidence import media, services
from liuhen.evidence.choices import CaptureTimeSource, IngestChannel
from liuhen.evidence.classify import filename_patterns
from liuhen.evidence.digests import CHUNK, Digests, DigestWriter
from liuhen.evidence.services import Prepared, prepare_original

log = logging.getLogger(__name__)

STORED, DUPLICATE, FAILED = "stored", "duplicate", "failed"
RECEIPT_FIELDS = (
    "file",
    "size",
    "sha256",
    "sm3",
    "captured_at",
    "capture_time_source",
    "recording_id",
    "status",
    "safe_to_erase",
    "message",
)
# The CSV is for people (opened in Excel by the records keeper): Chinese column names and
# values. The JSON receipt keeps the field names and codes above, for programs.
RECEIPT_HEADERS = {
    "file": "文件",
    "size": "大小（字节）",
    "sha256": "SHA-256 摘要",
    "sm3": "SM3 摘要",
    "captured_at": "拍摄时间",
    "capture_time_source": "拍摄时间来源",
    "recording_id": "记录编号",
    "status": "结果",
    "safe_to_erase": "可从设备删除",
    "message": "说明",
}
STATUS_LABELS = {STORED: "已存储", DUPLICATE: "已存在（重复）", FAILED: "失败"}
ERASE_LABELS = {"yes": "是", "no": "否"}
SKIP_NAMES = {"thumbs.db", "desktop.ini"}
# Direct mode (issue 9 item 2): the next files are copied, hashed and probed on a pool while
# the main thread registers the current ones (rows, audit entries, commit: database work that
# holds the GIL, while copying, hashing and PyAV release it). Four workers, on a 2-core
# server: each copy ends with its fsync, a disk cache flush of about 4 ms, during which the
# worker holds no CPU; with two, a profile of 200 files had the main thread waiting 1.5 s of
# 8 for them, and the run took 8.3 s against 5.4 s with four (bench_station.py, load 4-6).
# At most AHEAD files and AHEAD_BYTES are staged ahead (a camera's 4 GiB clips must not fill
# the vault's .incoming), never fewer than one.
# The files prepared by the time the main thread is free are registered as one group, in one
# transaction (services.ingest_group): when registering is the slower side, groups grow and
# the commits per file fall; when it is not, a group is one file and waits for nothing.
PREPARE_WORKERS = 4
AHEAD = 16
AHEAD_BYTES = 256 << 20


def _csv_row(item: Item) -> dict:
    """One receipt line as people read it: Chinese column names and values."""
    row = asdict(item)
    row["status"] = STATUS_LABELS.get(item.status, item.status)
    row["safe_to_erase"] = ERASE_LABELS.get(item.safe_to_erase, item.safe_to_erase)
    if item.capture_time_source in CaptureTimeSource.values:
        row["capture_time_source"] = CaptureTimeSource(item.capture_time_source).label
    return {RECEIPT_HEADERS[key]: value for key, value in row.items()}


@dataclass
class Item:
    """One file of the dump folder and what happened to it."""

    file: str
    size: int = 0
    sha256: str = ""
    sm3: str = ""
    captured_at: str = ""
    capture_time_source: str = ""
    recording_id: int | None = None
    status: str = FAILED
    safe_to_erase: str = "no"
    message: str = ""


@dataclass
class Receipt:
    device: str
    officer: str
    server: str
    folder: str
    station: str = field(default_factory=socket.gethostname)
    started_at: str = field(default_factory=lambda: timezone.now().isoformat())
    finished_at: str = ""
    items: list[Item] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if i.status == FAILED)

    def totals(self) -> dict:
        return {
            status: sum(1 for i in self.items if i.status == status)
            for status in (STORED, DUPLICATE, FAILED)
        }

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write ``receipt-<device>-<time>.csv`` and ``.json`` (the JSON names the CSV's
        SHA-256, so a printed JSON summary vouches for the CSV)."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        safe_device = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.device)
        base = folder / f"receipt-{safe_device or 'device'}-{stamp}"
        csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
        with open(csv_path, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=[RECEIPT_HEADERS[f] for f in RECEIPT_FIELDS])
            writer.writeheader()
            for item in self.items:
                # File names come from the device's card: no cell may run as a formula.
                writer.writerow({k: safe_cell(v) for k, v in _csv_row(item).items()})
        csv_sha = hashlib.sha256(csv_path.read_bytes()).hexdigest()
        body = {
            "station": self.station,
            "device": self.device,
            "officer": self.officer,
            "server": self.server or "local",
            "folder": self.folder,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "totals": self.totals(),
            "csv": csv_path.name,
            "csv_sha256": csv_sha,
            "tool": f"liuhen ingest / Python {platform.python_version()}",
            "items": [asdict(i) for i in self.items],
        }
        json_path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
        return csv_path, json_path


def dump_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, in a stable order; hidden and system files out."""
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.lower() in SKIP_NAMES:
                continue
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                files.append(path)
    return files


def hash_file(path: Path, progress: Callable[[int], None] | None = None) -> Digests:
    writer = DigestWriter()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            writer.update(chunk)
            if progress:
                progress(len(chunk))
    return writer.digests()


def read_capture_time(path: Path) -> tuple[datetime | None, str]:
    """What the station can tell about the capture time (shown on the receipt)."""

    info = media.probe(path)
    if info.creation_time is not None:
        return info.creation_time, "exif" if info.kind == "photo" else "metadata"
    moment, _device = media.capture_time_from_filename(path.name, filename_patterns())
    return (moment, "filename") if moment else (None, "")


class LocalTarget:
    """Store through the service in this process (the station runs on the server).

    One pass per file (issue 9 item 2): the ingest service copies the file into the vault
    while computing SHA-256 and SM3, probes the copy once, and the receipt takes the digests
    and the capture time from what it stored; a file the vault holds already is reported as
    a duplicate without a new submission, as a hash-first station would have skipped it."""

    one_pass = True

    def __init__(self, *, actor, device, officer) -> None:
        self.actor, self.device, self.officer = actor, device, officer

    def prepare(self, path: Path) -> Prepared:
        """Copy, hash and probe ``path`` (no database): run ahead on a pool thread."""
        return prepare_original(path)

    def _call(self, path: Path, prepared: Prepared | None) -> dict:
        """The ingest service's arguments for one file of the dump."""
        return {
            "source_path": path,
            "original_name": path.name,
            "actor": self.actor,
            "channel": IngestChannel.STATION,
            "device": self.device,
            "officer": self.officer,
            "link_duplicate": False,
            "prepared": prepared,
        }

    def ingest(self, path: Path, progress, prepared: Prepared | None = None) -> dict:
        return self._stored(services.ingest_recording(**self._call(path, prepared)), progress)

    def ingest_group(self, batch: list[tuple[Path, Prepared]], progress) -> list:
        """Several prepared files registered in one transaction (``services.ingest_group``):
        each file's stored dict, or the exception that refused or failed it, in order."""
        results = services.ingest_group([self._call(path, prep) for path, prep in batch])
        return [r if isinstance(r, Exception) else self._stored(r, progress) for r in results]

    @staticmethod
    def _stored(result, progress) -> dict:
        rec = result.recording
        progress(rec.size)
        return {
            "id": rec.pk,
            "sha256": rec.sha256,
            "sm3": rec.sm3,
            "size": rec.size,
            "duplicate": result.duplicate,
            "flags": rec.flags,
            "captured_at": rec.captured_start,
            "capture_time_source": rec.capture_time_source,
        }


# Answers after which a chunk is sent again (from the offset the server reports): a server
# error or restart, an upload busy in another request (409/423), a chunk damaged on the way
# (460, tus checksum extension). Anything else is the server's refusal, reported as is.
RETRY_STATUSES = frozenset({409, 423, 460, 500, 502, 503, 504})


class RemoteTarget:
    """Upload over tus with a sha256 checksum on every chunk; resumable across station restarts.

    Fewer round trips per file (issue 9 item 2): the first chunk travels in the creation
    request (tus creation-with-upload), so a file of one chunk (most body-camera files) is
    created, sent and stored in one POST, and the server's answer to the last chunk carries
    the stored recording's id, digests and flags (``Liuhen-*`` headers) instead of a further
    ``GET .../result``. A file that needs one chunk only has nothing to resume, so only
    larger ones leave their upload URL in the state file (keyed by the file's SHA-256) until
    they are stored. ``WORKERS`` files are hashed and uploaded at once (the server's web
    workers and the station's hashing overlap); each thread has its own HTTP session."""

    WORKERS = 4
    MEMORY = 256 << 20  # chunks held at once by the upload threads, at most
    RETRIES = 3
    RETRY_DELAY = 2.0

    def __init__(
        self,
        *,
        server: str,
        token: str,
        device: str,
        officer: str,
        state_file: Path,
        chunk_size: int,
    ) -> None:
        # The remote (tus) mode's client libraries load only when a station uploads remotely.
        from tusclient.storage.filestorage import FileStorage

        self.server = server.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        self.device, self.officer = device, officer
        self._local = threading.local()
        state_file.parent.mkdir(parents=True, exist_ok=True)
        self.url_storage = FileStorage(str(state_file))
        self._state_lock = threading.Lock()
        self.chunk_size = chunk_size
        # Each thread holds one chunk in memory: fewer threads for very large chunks.
        self.workers = max(1, min(self.WORKERS, self.MEMORY // chunk_size))

    @property
    def session(self):
        """This thread's HTTP session (a requests.Session is not shared between threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
        return session

    def _new_session(self):
        import requests

        session = requests.Session()
        session.headers.update(self.headers)
        return session

    def _json(self, response) -> dict:
        try:
            return response.json()
        except ValueError:
            return {"message": response.text[:200]}

    def known(self, digests: Digests) -> dict | None:
        """What the server holds of these bytes (its answer), or None.

        A file that travels in one request is not asked about (issue 9 item 2): the server
        recognises bytes it holds when they arrive and answers with the recording they were
        stored as (a duplicate submission, audited; nothing is stored twice), so the question
        would cost every new file a request and an audit entry of its own. A larger file is
        asked about: sending gigabytes to learn that they were there already is the waste."""
        if digests.size <= self.chunk_size:
            return None
        response = self.session.get(
            f"{self.server}/api/recordings/by-digest/{digests.sha256}", timeout=30
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RuntimeError(
                f"查询服务器失败（{response.status_code}）："
                f"{self._json(response).get('message', '')}"
            )
        return self._json(response)

    # -- the resumable state: upload URLs of files sent in more than one chunk -------------
    def _saved_url(self, key: str) -> str | None:
        with self._state_lock:
            return self.url_storage.get_item(key)

    def _save_url(self, key: str, url: str | None) -> None:
        with self._state_lock:
            if url is None:
                self.url_storage.remove_item(key)
            else:
                self.url_storage.set_item(key, url)

    def _metadata(self, path: Path, digests: Digests) -> str:
        metadata = {"filename": path.name, "sha256": digests.sha256, "channel": "station"}
        if self.device:
            metadata["device"] = self.device
        if self.officer:
            metadata["officer"] = str(self.officer)
        return ",".join(
            f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}"
            for k, v in metadata.items()
        )

    def _where(self, url: str):
        """HEAD of a saved upload: the response (``Upload-Offset``; the ``Liuhen-*`` headers
        once stored), or None when the upload is gone (expired, removed, not ours)."""
        response = self.session.head(url, timeout=30)
        if response.status_code in (403, 404, 410):
            return None
        if response.status_code != 200 or "Upload-Offset" not in response.headers:
            raise RuntimeError(f"查询上传进度失败（{response.status_code}）")
        return response

    def _send(self, url: str | None, path: Path, digests: Digests, fh, offset: int):
        """One chunk from ``offset``: in the creation request when ``url`` is None (tus
        creation-with-upload), else a PATCH. Returns the response."""
        fh.seek(offset)
        chunk = fh.read(min(self.chunk_size, digests.size - offset))
        whole = offset == 0 and len(chunk) == digests.size
        # A file sent in one chunk: its chunk checksum is the file's SHA-256, computed already.
        checksum = bytes.fromhex(digests.sha256) if whole else hashlib.sha256(chunk).digest()
        headers = {
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {base64.b64encode(checksum).decode('ascii')}",
        }
        if url is None:
            headers["Upload-Length"] = str(digests.size)
            headers["Upload-Metadata"] = self._metadata(path, digests)
            return self.session.post(
                f"{self.server}/api/uploads/", data=chunk, headers=headers, timeout=300
            )
        headers["Upload-Offset"] = str(offset)
        return self.session.patch(url, data=chunk, headers=headers, timeout=300)

    def _refused(self, response) -> RuntimeError:
        body = self._json(response)
        message = body.get("message") or (body.get("error") or {}).get("message")
        return RuntimeError(message or f"服务器拒绝上传（{response.status_code}）")

    def store(self, path: Path, digests: Digests, progress) -> dict:
        import requests

        key = f"sha256:{digests.sha256}"
        url, offset, response = self._saved_url(key), 0, None
        # The URL the state file holds for this file (None: none): it is written only when it
        # changes and forgotten only when there is one (tuspy's FileStorage rewrites the whole
        # file on every change; twice per one-chunk file, a tenth of the station's CPU over
        # tus, issue 9 item 2).
        saved = url
        if url is not None:
            response = self._where(url)
            if response is None:  # the saved upload is gone: start again
                url = None
            else:
                offset = int(response.headers["Upload-Offset"])
                progress(offset)
        attempts = 0
        with open(path, "rb") as fh:
            while response is None or offset < digests.size:
                error = None
                try:
                    response = self._send(url, path, digests, fh, offset)
                except requests.RequestException as exc:
                    response, error = None, exc
                else:
                    url = url or response.headers.get("Location")
                if response is not None and response.status_code in (200, 201, 204):
                    sent = int(response.headers.get("Upload-Offset", offset))
                    progress(sent - offset)
                    offset, attempts = sent, 0
                    if offset < digests.size and url is not None and url != saved:
                        self._save_url(key, url)  # more chunks to come: resumable
                        saved = url
                    continue
                if response is not None and response.status_code not in RETRY_STATUSES:
                    if saved is not None:
                        self._save_url(key, None)
                    raise self._refused(response)
                attempts += 1
                if attempts > self.RETRIES:
                    if response is not None:
                        raise self._refused(response)
                    raise RuntimeError(f"上传失败：{error}") from error
                time.sleep(self.RETRY_DELAY)
                response = None
                if url is not None:  # go on from where the server stands
                    response = self._where(url)
                    if response is None:
                        url, offset = None, 0
                    else:
                        offset = int(response.headers["Upload-Offset"])
        if saved is not None:
            self._save_url(key, None)
        return self._result(url, response)

    def _result(self, url: str | None, response) -> dict:
        """The stored recording, from the last chunk's answer (``Liuhen-*`` headers), or,
        from a server that does not send them, from ``GET <upload>/result``."""
        headers = response.headers
        if headers.get("Liuhen-Recording-Id"):
            flags = headers.get("Liuhen-Flags", "")
            stored = {
                "id": int(headers["Liuhen-Recording-Id"]),
                "sha256": headers.get("Liuhen-Sha256"),
                "sm3": headers.get("Liuhen-Sm3"),
                "duplicate": headers.get("Liuhen-Duplicate") == "1",
                "flags": [f for f in flags.split(",") if f],
            }
            if "Liuhen-Capture-Time-Source" in headers:
                stored["captured_at"] = headers.get("Liuhen-Captured-At", "")
                stored["capture_time_source"] = headers["Liuhen-Capture-Time-Source"]
            return stored
        if url is None:
            raise RuntimeError(f"服务器未确认存储（{response.status_code}）")
        answer = self.session.get(f"{url}/result", timeout=30)
        result = self._json(answer)
        if answer.status_code != 200 or not result.get("completed"):
            raise RuntimeError(
                result.get("error", {})
                and result["error"].get("message")
                or f"服务器未确认存储（{answer.status_code}）"
            )
        return {
            "id": result["recording_id"],
            "sha256": result["sha256"],
            "sm3": result["sm3"],
            "duplicate": result["duplicate"],
            "flags": result.get("flags", []),
        }


def run(*, folder: Path, target, receipt: Receipt, bar=None) -> Receipt:
    """Hash, skip or store, and verify each file; never raises for one bad file."""
    files = dump_files(folder)
    progress = bar.update if bar is not None else (lambda n: None)
    prepare = getattr(target, "prepare", None)
    workers = getattr(target, "workers", 1)
    if prepare is None and not getattr(target, "one_pass", False) and workers > 1:
        # Over tus: several files hashed and uploaded at once; the receipt keeps their order.
        items = [Item(file=str(path.relative_to(folder))) for path in files]
        receipt.items.extend(items)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="liuhen-upload")
        try:
            for done in [
                pool.submit(_one, i, p, target, progress)
                for i, p in zip(items, files, strict=True)
            ]:
                done.result()
        finally:  # Ctrl-C: the files being sent finish, the others are not started
            pool.shutdown(wait=True, cancel_futures=True)
        receipt.finished_at = timezone.now().isoformat()
        return receipt
    if prepare is None:
        for path in files:
            item = Item(file=str(path.relative_to(folder)))
            receipt.items.append(item)
            _one(item, path, target, progress)  # one per file, in order
        receipt.finished_at = timezone.now().isoformat()
        return receipt
    ahead = _Ahead(prepare, files)
    try:
        while batch := ahead.next_group(services.GROUP_MAX):
            items = [Item(file=str(path.relative_to(folder))) for path, _p in batch]
            receipt.items.extend(items)  # one per file, in order, whatever happens to it
            _group(items, batch, target, progress)
    finally:
        ahead.close()  # staged copies prepared for files never registered are removed
    receipt.finished_at = timezone.now().isoformat()
    return receipt


def _group(items: list[Item], batch: list, target, progress) -> None:
    """The receipt lines of one group of prepared files, registered together."""
    ready = []
    for item, (path, prepared) in zip(items, batch, strict=True):
        item.size = _size(path)
        if isinstance(prepared, _Failed):
            _failed(item, path, prepared.exc)
        else:
            ready.append((item, path, prepared))
    if not ready:
        return
    try:
        results = target.ingest_group([(path, prep) for _i, path, prep in ready], progress)
    except Exception as exc:  # noqa: BLE001 - every file of the group fails, on the receipt
        results = [exc] * len(ready)
    for (item, path, _prep), result in zip(ready, results, strict=True):
        if isinstance(result, Exception):
            _failed(item, path, result)
        else:
            _store_in_one_pass(item, result)


def _failed(item: Item, path: Path, exc: BaseException) -> None:
    """A file the station could not store: kept on the camera (safe to erase: no)."""
    log.warning("station: %s failed: %s", path, exc)
    item.status, item.safe_to_erase = FAILED, "no"
    item.message = (getattr(exc, "message", None) or str(exc) or type(exc).__name__)[:500]


def _one(item: Item, path: Path, target, progress) -> None:
    """One file onto the receipt: stored, duplicate or failed (never raises for the file)."""
    try:
        item.size = path.stat().st_size
        if getattr(target, "one_pass", False):
            _store_in_one_pass(item, target.ingest(path, progress))
        else:
            _hash_then_store(item, path, target, progress)
    except Exception as exc:  # noqa: BLE001 - recorded per file on the receipt, exit != 0
        _failed(item, path, exc)


class _Failed:
    """What preparing one file raised, handed to the main thread in that file's turn."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Ahead:
    """``prepare(path)`` of each file, in order, computed ahead on a pool (see
    PREPARE_WORKERS, AHEAD, AHEAD_BYTES). :meth:`next_group` hands out the next file's result
    (waiting for it) and those after it that are ready already; a result is the file's
    :class:`Prepared`, or a :class:`_Failed` with what preparing it raised. :meth:`close`
    discards whatever was prepared and not handed out."""

    def __init__(self, prepare, files: list[Path]) -> None:
        self._prepare, self._files = prepare, files
        self._pool = ThreadPoolExecutor(max_workers=PREPARE_WORKERS,
                                        thread_name_prefix="liuhen-station")
        self._pending: deque[tuple[Path, Future, int]] = deque()
        self._queued = 0

    def _fill(self) -> None:
        while self._queued < len(self._files) and len(self._pending) < AHEAD:
            path = self._files[self._queued]
            size = _size(path)
            if self._pending and sum(held for *_pf, held in self._pending) + size > AHEAD_BYTES:
                return
            self._pending.append((path, self._pool.submit(_prepare, self._prepare, path), size))
            self._queued += 1

    def next_group(self, limit: int) -> list[tuple[Path, Prepared | _Failed]]:
        """The next file's result and the ready ones after it (at most ``limit``); [] at the end."""
        self._fill()
        group = []
        while self._pending and len(group) < limit and (
                not group or self._pending[0][1].done()):
            path, future, _held = self._pending.popleft()
            self._fill()
            group.append((path, future.result()))
        return group

    def close(self) -> None:
        for _path, future, _held in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
        for _path, future, _held in self._pending:
            if not future.cancelled() and isinstance(future.result(), Prepared):
                future.result().discard()
        self._pending.clear()


def _prepare(prepare, path: Path) -> Prepared | _Failed:
    try:
        return prepare(path)
    except Exception as exc:  # noqa: BLE001 - raised again in the main thread, in order
        return _Failed(exc)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _hash_then_store(item: Item, path: Path, target, progress) -> None:
    """Over tus: hash locally, skip what the server holds, else upload and compare digests.
    The capture time on the receipt is the server's reading of a file it stored now (it
    probed it), the station's own of one it skipped (the server may hide it)."""
    digests = hash_file(path)
    item.sha256, item.sm3 = digests.sha256, digests.sm3
    known = target.known(digests)
    stored = target.store(path, digests, progress) if known is None else {}
    if "capture_time_source" in stored:
        item.captured_at = stored["captured_at"]
        item.capture_time_source = stored["capture_time_source"]
    else:
        moment, source = read_capture_time(path)
        item.captured_at = moment.isoformat() if moment else ""
        item.capture_time_source = source
    if known is not None:
        item.status, item.recording_id = DUPLICATE, known.get("id")
        item.message = "服务器已存有相同文件（SHA-256 一致），本次未重复上传"
        _check_digests(item, known, digests, allow_hidden=True)
        progress(digests.size)
        return
    item.recording_id = stored["id"]
    item.status = DUPLICATE if stored.get("duplicate") else STORED
    _check_digests(item, stored, digests)
    if item.status == DUPLICATE:
        item.message = "服务器已存有相同文件（SHA-256 一致），本次未重复存储"
    elif item.status == STORED and stored.get("flags"):
        item.message = "已存储，带标记：" + ",".join(stored["flags"])


def _store_in_one_pass(item: Item, stored: dict) -> None:
    """The receipt line of a file the ingest service copied, hashed and probed in one pass:
    safe to erase once its row exists (stored now or before)."""
    item.sha256, item.sm3, item.recording_id = stored["sha256"], stored["sm3"], stored["id"]
    item.captured_at = stored["captured_at"].isoformat() if stored["captured_at"] else ""
    item.capture_time_source = stored["capture_time_source"]
    if stored["duplicate"]:
        item.status = DUPLICATE
        item.message = "服务器已存有相同文件（SHA-256 一致），本次未重复存储"
    else:
        item.status = STORED
        if stored.get("flags"):
            item.message = "已存储，带标记：" + ",".join(stored["flags"])
    item.safe_to_erase = "yes"


def _check_digests(item: Item, server: dict, digests: Digests, allow_hidden: bool = False):
    """Safe to erase only when the server's digests equal the station's own."""
    sha_ok = server.get("sha256") == digests.sha256
    sm3 = server.get("sm3")
    sm3_ok = sm3 == digests.sm3 or (allow_hidden and sm3 is None)
    if sha_ok and sm3_ok:
        item.safe_to_erase = "yes"
        return
    item.status, item.safe_to_erase = FAILED, "no"
    item.message = f"服务器返回的固定值与本地不一致：SHA-256 {server.get('sha256')}，SM3 {sm3}"
