"""Anchors of the audit chain: its head (sequence number and hash) written down outside the
database, so that rewriting the whole chain from an edited entry onwards is caught too.

The hash chain proves that no entry was edited, deleted or reordered *unless* someone with
write access to the database recomputes every later hash. An anchor closes that gap (第二十六条
(二), (三)): ``liuhen audit anchor`` writes ``anchor-<seq>-<time>.json`` with the head's hash
(and the scheduler does so daily into ``LIUHEN_AUDIT_ANCHOR_DIR``); copies kept elsewhere — a
printed line in the legal office's ledger, a file on another server or a disc — then pin the
chain: ``liuhen audit verify`` checks that the entry numbered in every anchor still has that hash.

With several nodes each node's folder holds only the anchors it wrote, so every anchor is also
written to the stores registered here (issue 14 item 3): the evidence app registers the
evidence store (S3 under Object Lock, or the vault folder), where every node and an auditor
find all of them, and ``liuhen audit verify`` checks them too and says how many it checked.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from liuhen.audit.events import event_audit_anchored
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import format_time, record
from liuhen.core.files import write_atomically


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str  # the anchored entry's time (UTC, as hashed)
    made_at: str
    tool: str = f"liuhen audit anchor / Python {platform.python_version()}"

    def line(self) -> str:
        """One line to copy into a paper ledger."""
        return f"留痕审计日志锚点：第 {self.seq} 条  SM3 {self.hash}  （{self.at}）"


def anchor_dir() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


class AnchorStore(Protocol):
    """Somewhere besides the local folder that keeps every anchor (registered by an app above
    the audit app, which may not import it)."""

    label: str

    def put(self, name: str, data: bytes) -> str:
        """Keep the anchor file ``name``; return where it went (for the audit entry)."""

    def items(self) -> list[tuple[str, bytes]]:
        """Every anchor kept: (where, content)."""


_STORES: list[AnchorStore] = []


def register_anchor_store(store: AnchorStore) -> None:
    """Write every anchor to ``store`` too and check the anchors found there (apps' ready())."""
    if all(type(known) is not type(store) for known in _STORES):
        _STORES.append(store)


def anchor_stores() -> tuple[AnchorStore, ...]:
    return tuple(_STORES)


def make_anchor(out_dir: Path | None = None, *, actor_name: str = "liuhen audit anchor"
                ) -> tuple[Anchor, Path] | None:
    """Write an anchor of the current head into ``out_dir``; None while the log is empty.

    The file is written atomically (temporary name, fsync, rename) and the anchoring itself is
    audited, so the next anchor covers this one.
    """
    head = AuditEntry.objects.order_by("-seq").only("seq", "hash", "at").first()
    if head is None:
        return None
    anchor = Anchor(seq=head.seq, hash=head.hash, at=format_time(head.at),
                    made_at=timezone.now().isoformat())
    folder = Path(out_dir or anchor_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"anchor-{anchor.seq:012d}-{timezone.now():%Y%m%d%H%M%S}.json"
    content = json.dumps(asdict(anchor), ensure_ascii=False, indent=2)
    write_atomically(path, content)
    stored = [store.put(path.name, content.encode()) for store in _STORES]
    record(actor=None, actor_name=actor_name, action=event_audit_anchored,
           detail={"seq": anchor.seq, "hash": anchor.hash, "file": path.name,
                   **({"stored": stored} if stored else {})})
    return anchor, path


def anchor_files(paths: list[Path] | None = None) -> list[Path]:
    """The anchor files named (files, or folders searched for ``anchor-*.json``); by default
    the anchor folder's."""
    found = []
    for path in paths if paths is not None else [anchor_dir()]:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(path.glob("anchor-*.json")))
        elif path.exists():
            found.append(path)
    return found


def stored_anchors() -> list[tuple[str, bytes]]:
    """Every anchor kept in the registered stores: (where, content)."""
    return [item for store in _STORES for item in store.items()]


def check_anchors(files: list[Path], stored: list[tuple[str, bytes]] = ()) -> list[str]:
    """Problems found (empty: every anchor matches its entry), for anchor files and stored
    anchors alike. An unreadable anchor is a problem too: it cannot vouch for anything."""
    problems = []
    items = [(path.name, path) for path in files] + list(stored)
    for name, source in items:
        try:
            raw = source.read_bytes() if isinstance(source, Path) else source
            data = json.loads(raw.decode("utf-8"))
            seq, expected = int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(f"{name}：锚点文件无法读取")
            continue
        found = AuditEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if found is None:
            problems.append(f"{name}：第 {seq} 条已不存在（日志被截短或重编号）")
        elif found != expected:
            problems.append(f"{name}：第 {seq} 条的哈希与锚点不符（日志可能被整体重算）")
    return problems
