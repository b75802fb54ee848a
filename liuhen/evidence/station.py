"""The ingest station (采集站): empties a body camera's dump folder into the vault.

Used by ``liuhen ingest``. Each file is hashed once locally (SHA-256 and SM3), skipped when the
server already holds the same bytes, otherwise stored through the one ingest service — in
this process (on the server) or over tus with per-chunk sha256 checksums (remote) — and the
server's digests are compared with the station's own. The receipt (CSV and JSON) says for
every file whether it is now safe to erase from the camera; the station never erases
anything itself (第十三条: stored within 24 hours; 第二十六条: nothing lost on the way).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import platform
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from liuhen.core.exports import safe_cell
from liuhen.evidence import media
from liuhen.evidence.choices import CaptureTimeSource, IngestChannel
from liuhen.evidence.classify import filename_patterns
from liuhen.evidence.digests import CHUNK, Digests, DigestWriter
from liuhen.evidence.services import ingest_recording

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
    "file": "文件", "size": "大小（字节）", "sha256": "SHA-256 摘要", "sm3": "SM3 摘要",
    "captured_at": "拍摄时间", "capture_time_source": "拍摄时间来源", "recording_id": "记录编号",
    "status": "结果", "safe_to_erase": "可从设备删除", "message": "说明",
}
STATUS_LABELS = {STORED: "已存储", DUPLICATE: "已存在（重复）", FAILED: "失败"}
ERASE_LABELS = {"yes": "是", "no": "否"}
SKIP_NAMES = {"thumbs.db", "desktop.ini"}


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

    def ingest(self, path: Path, progress) -> dict:
        result = ingest_recording(
            source_path=path,
            original_name=path.name,
            actor=self.actor,
            channel=IngestChannel.STATION,
            device=self.device,
            officer=self.officer,
            link_duplicate=False,
        )
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


class RemoteTarget:
    """Upload over tus (tuspy) with sha256 per chunk; resumable across station restarts."""

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
        import requests
        from tusclient import client
        from tusclient.storage.filestorage import FileStorage

        self.server = server.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.device, self.officer = device, officer
        self.session = requests.Session()
        self.session.headers.update(self.headers)
        self.client = client.TusClient(f"{self.server}/api/uploads/", headers=self.headers)
        state_file.parent.mkdir(parents=True, exist_ok=True)
        self.url_storage = FileStorage(str(state_file))
        self.chunk_size = chunk_size

    def _json(self, response) -> dict:
        try:
            return response.json()
        except ValueError:
            return {"message": response.text[:200]}

    def known(self, digests: Digests) -> dict | None:
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

    def store(self, path: Path, digests: Digests, progress) -> dict:
        # The remote mode's client library (see RemoteTarget.__init__).
        from tusclient.exceptions import TusCommunicationError
        from tusclient.uploader import Uploader

        class Sha256Uploader(Uploader):
            CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

        metadata = {"filename": path.name, "sha256": digests.sha256, "channel": "station"}
        if self.device:
            metadata["device"] = self.device
        if self.officer:
            metadata["officer"] = str(self.officer)
        uploader = Sha256Uploader(
            file_path=str(path),
            client=self.client,
            chunk_size=self.chunk_size,
            metadata=metadata,
            upload_checksum=True,
            store_url=True,
            url_storage=self.url_storage,
            retries=3,
            retry_delay=2,
        )
        try:
            done = uploader.offset
            progress(done)
            if not uploader.url:
                uploader.set_url(uploader.create_url())
                uploader.offset = 0
            while uploader.offset < digests.size:
                uploader.upload_chunk()
                progress(uploader.offset - done)
                done = uploader.offset
        except TusCommunicationError as exc:
            body = exc.response_content
            message = ""
            if body:
                try:
                    message = json.loads(body).get("message", "")
                except (ValueError, AttributeError):
                    message = str(body[:200])
            raise RuntimeError(message or str(exc)) from exc
        response = self.session.get(f"{uploader.url}/result", timeout=30)
        result = self._json(response)
        if response.status_code != 200 or not result.get("completed"):
            raise RuntimeError(
                result.get("error", {})
                and result["error"].get("message")
                or f"服务器未确认存储（{response.status_code}）"
            )
        self.url_storage.remove_item(
            uploader.fingerprinter.get_fingerprint(uploader.get_file_stream())
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
    for path in files:
        item = Item(file=str(path.relative_to(folder)))
        receipt.items.append(item)
        try:
            item.size = path.stat().st_size
            progress = bar.update if bar is not None else (lambda n: None)
            if getattr(target, "one_pass", False):
                _store_in_one_pass(item, target.ingest(path, progress))
                continue
            digests = hash_file(path)
            item.sha256, item.sm3 = digests.sha256, digests.sm3
            moment, source = read_capture_time(path)
            item.captured_at = moment.isoformat() if moment else ""
            item.capture_time_source = source
            known = target.known(digests)
            if known is not None:
                item.status, item.recording_id = DUPLICATE, known.get("id")
                item.message = "服务器已存有相同文件（SHA-256 一致），本次未重复上传"
                _check_digests(item, known, digests, allow_hidden=True)
                progress(digests.size)
                continue
            stored = target.store(path, digests, progress)
            item.recording_id = stored["id"]
            item.status = DUPLICATE if stored.get("duplicate") else STORED
            _check_digests(item, stored, digests)
            if stored.get("flags"):
                item.message = "已存储，带标记：" + ",".join(stored["flags"])
        except Exception as exc:  # noqa: BLE001 - recorded per file on the receipt, exit != 0
            log.warning("station: %s failed: %s", path, exc)
            item.status, item.safe_to_erase = FAILED, "no"
            item.message = (getattr(exc, "message", None) or str(exc) or type(exc).__name__)[:500]
    receipt.finished_at = timezone.now().isoformat()
    return receipt


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
