"""A module imported on first use (start-up time, issue 9).

Every ``liuhen`` process (web workers, the job worker, ``liuhen ingest`` on the ingest station,
each CLI command) loads every app's modules when Django starts. The redaction code (第十七条第四款)
needs numpy, OpenCV and pypdf, about 0.25 s of CPU to import on this 2-core machine, which
only a process making a copy or a preview ever uses. ``np = lazy_module("numpy")`` in place
of ``import numpy as np`` defers that import to the first attribute read.

Not ``importlib.util.LazyLoader``: OpenCV's package replaces itself in ``sys.modules`` while it
loads, which LazyLoader refuses. Here the real import is an ordinary one, made once.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str):
    """The module ``name``, imported when one of its attributes is first read."""
    return _LazyModule(name)
