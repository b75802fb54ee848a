"""`liuhen storage check`: is the evidence store set up and does it hold what the database says?

Issue 14 item 5 (第二十六条 (二): nobody may alter or delete a recording unnoticed). With S3 the
bucket must keep versions and Object Lock; each original's row names the version written at
ingest (``storage_version``), and that version must still be there with the size and digest
recorded. A version put on the key afterwards is an attempt to alter the original: it is never
served (reads use the pinned version) and is reported here and by fixity. Metadata is compared
for every object (one HEAD each); a sample is re-read and re-hashed through fixity, which
records the check and alerts as any fixity run does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from liuhen.core.errors import LiuhenError
from liuhen.evidence.fixity import check_recording, stored_kinds
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import get_storage

MISSING, CHANGED, NEW_VERSION, UNPINNED = "missing", "changed", "new_version", "unpinned"
LABELS = {
    MISSING: "缺失",
    CHANGED: "已改变",
    NEW_VERSION: "存储键上出现新版本（疑似篡改）",
    UNPINNED: "未固定版本",
}


@dataclass
class StorageCheckReport:
    """What `liuhen storage check` found: the bucket's set-up and every object's state."""

    storage: str = ""
    setup: dict = field(default_factory=dict)
    setup_problems: list[str] = field(default_factory=list)
    checked: int = 0
    problems: list[dict] = field(default_factory=list)  # {kind, id, key, problem, detail}
    pinned_now: int = 0
    rehashed: int = 0
    rehash_failed: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.setup_problems or self.rehash_failed or any(
            p["problem"] != UNPINNED for p in self.problems))

    def count(self, problem: str) -> int:
        return sum(1 for p in self.problems if p["problem"] == problem)

    def summary(self) -> str:
        return (f"已检查 {self.checked} 个对象：缺失 {self.count(MISSING)}，"
                f"已改变 {self.count(CHANGED)}，出现新版本 {self.count(NEW_VERSION)}，"
                f"未固定版本 {self.count(UNPINNED)}"
                + (f"（本次固定 {self.pinned_now}）" if self.pinned_now else "")
                + f"；抽样重算摘要 {self.rehashed} 个，不一致 {self.rehash_failed}")


def _setup(storage, report: StorageCheckReport) -> None:
    if storage.name != "s3":
        report.setup = {"root": str(getattr(storage, "root", ""))}
        return
    report.setup = storage.bucket_report()
    if report.setup["versioning"] != "Enabled":
        report.setup_problems.append(
            f"存储桶 {storage.bucket} 未启用版本控制（{report.setup['versioning']}）："
            "原件被覆盖时旧版本不会保留")
    if not report.setup["object_lock"]:
        report.setup_problems.append(
            f"存储桶 {storage.bucket} 未启用对象锁定（Object Lock）：原件可被删除。"
            "对象锁定只能在创建存储桶时启用（docs/scale-out.md）")


def _check_object(storage, kind: str, row, report: StorageCheckReport, *, pin: bool) -> None:
    """One HEAD of the pinned version (S3) or a stat (folder); newer versions listed."""
    version = getattr(row, "storage_version", "")

    def problem(code: str, **detail) -> None:
        report.problems.append({"kind": kind, "id": row.pk, "key": row.storage_key,
                                "problem": code, "detail": detail})

    try:
        if storage.name != "s3":
            size = storage.size(row.storage_key)
            if size != row.size:
                problem(CHANGED, size=size, expected_size=row.size)
            return
        head = storage.head(row.storage_key, version)
    except FileNotFoundError:
        problem(MISSING, version=version)
        return
    stored_digest = head.get("Metadata", {}).get("sha256", "")
    if int(head["ContentLength"]) != row.size or (stored_digest and stored_digest != row.sha256):
        problem(CHANGED, version=version, size=int(head["ContentLength"]),
                expected_size=row.size, sha256=stored_digest)
        return
    others = [v for v in storage.versions_of(row.storage_key) if v["VersionId"] != version]
    if not version:
        if kind != "recording" or not others:
            return  # documents keep no version field; a bucket without versioning keeps none
        if pin and len(others) == 1:
            _pin(storage, row, others[0]["VersionId"], report)
        else:
            problem(UNPINNED, versions=len(others))
        return
    if others:
        problem(NEW_VERSION, version=version,
                others=[f"{v['VersionId']} ({v['Size']} B, {v['LastModified'].isoformat()})"
                        for v in others][:20])


def _pin(storage, recording: Recording, version: str, report: StorageCheckReport) -> None:
    """Pin an original stored before versions were pinned, only after re-hashing that very
    version (fixity records the check); the database allows "" → a version once, never a
    change afterwards (evidence.triggers.install_version_pin)."""
    recording.storage_version = version
    check = check_recording(recording, storage=storage)
    report.rehashed += 1
    if check.outcome != "ok":
        report.rehash_failed += 1
        return
    Recording.objects.filter(pk=recording.pk, storage_version="").update(storage_version=version)
    report.pinned_now += 1


def check_storage(*, sample: int = 10, pin: bool = False, progress=None,
                  storage=None) -> StorageCheckReport:
    """Check the store's set-up and every stored original (kept, not disposed), re-hash a
    random sample of ``sample`` recordings; ``pin`` pins unpinned originals that have a single
    version, after re-hashing it."""
    storage = storage or get_storage()
    report = StorageCheckReport(storage=storage.name)
    _setup(storage, report)
    for kind in stored_kinds():
        for row in kind.rows().order_by("pk").iterator(chunk_size=500):
            report.checked += 1
            before = len(report.problems)
            try:
                _check_object(storage, kind.code, row, report, pin=pin)
            except LiuhenError as exc:  # the store answered with an error: the run goes on
                report.problems.append({"kind": kind.code, "id": row.pk, "key": row.storage_key,
                                        "problem": MISSING, "detail": {"error": str(exc)[:300]}})
            if progress and len(report.problems) > before:
                progress(report.problems[-1])
    ids = list(Recording.objects.filter(disposed_at__isnull=True).values_list("pk", flat=True))
    for pk in random.sample(ids, min(sample, len(ids))):
        check = check_recording(Recording.objects.get(pk=pk), storage=storage)
        report.rehashed += 1
        report.rehash_failed += check.outcome != "ok"
    return report
