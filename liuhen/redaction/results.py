"""What every function here returns: a new file, its own digests, and what was done to it.

The description is the record of what was handed over (第十七条第二款): it names the source by
its digests, lists each operation with its parameters, and the output's digests, so the access
app can store it beside the copy and anyone can later check the file against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import av
import PIL

from liuhen.core.lazy import lazy_module
from liuhen.evidence.digests import Digests, digest_file

cv2 = lazy_module("cv2")  # imported on first use (core.lazy)


@dataclass(frozen=True)
class DerivedFile:
    """A new file made from an original (which is never touched) and what was done to it."""

    path: Path
    digests: Digests
    description: dict

    @property
    def sha256(self) -> str:
        return self.digests.sha256

    @property
    def sm3(self) -> str:
        return self.digests.sm3

    def description_json(self) -> str:
        return json.dumps(self.description, ensure_ascii=False, indent=2, sort_keys=True)


def digests_dict(digests: Digests) -> dict:
    return {"sha256": digests.sha256, "sm3": digests.sm3, "size": digests.size}


def finish(*, kind: str, source: Path, target: Path, operations: dict) -> DerivedFile:
    """Hash the finished output (and the source, to name it) and assemble the description."""
    output = digest_file(target)
    description = {
        "kind": kind,
        "source": {"name": source.name, **digests_dict(digest_file(source))},
        "output": {"name": target.name, **digests_dict(output)},
        "operations": operations,
        "software": {
            "pyav": av.__version__,
            "ffmpeg": av.ffmpeg_version_info,
            "opencv": cv2.__version__,
            "pillow": PIL.__version__,
        },
    }
    return DerivedFile(path=target, digests=output, description=description)
