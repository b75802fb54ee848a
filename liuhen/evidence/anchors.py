"""The evidence store keeps the audit chain's anchors (issue 14 item 3).

Each node's ``LIUHEN_AUDIT_ANCHOR_DIR`` holds only the anchors that node wrote; the evidence
store (S3 under Object Lock, or the vault folder) is reached by every node and by an auditor,
so every anchor goes there too, under ``audit-anchors/``, and ``liuhen audit verify`` on any
node checks all of them (第二十六条 (二), (三)). Registered with the audit app in ready():
the audit app sits below this one and cannot import the storage.
"""

from __future__ import annotations

from liuhen.evidence.storage import get_storage
from liuhen.evidence.storage.base import ANCHORS_PREFIX


class EvidenceAnchorStore:
    """Anchors as small objects in the evidence store (retained like originals on S3)."""

    label = "证据存储"

    def put(self, name: str, data: bytes) -> str:
        return get_storage().put_bytes(ANCHORS_PREFIX + name, data)

    def items(self) -> list[tuple[str, bytes]]:
        """Every anchor, and on S3 every version of it: someone who rewrote the chain and put
        matching anchors on the keys still meets the locked originals."""
        storage = get_storage()
        found = []
        for key in storage.iter_keys(ANCHORS_PREFIX):
            if not key.endswith(".json"):
                continue
            versions = [v["VersionId"] for v in storage.versions_of(key)] if hasattr(
                storage, "versions_of") else []
            if not versions:
                found.append((key, storage.read_bytes(key)))
            for version in versions:
                found.append((f"{key}?versionId={version}", storage.read_bytes(key, version)))
        return found
