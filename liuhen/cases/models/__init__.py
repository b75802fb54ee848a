"""Models of the cases app: the case itself (core) and its written records (records)."""

from liuhen.cases.models.core import Case, CaseCounter, Party, Patrol, StageLog
from liuhen.cases.models.records import Approval, Document, Service

__all__ = [
    "Approval", "Case", "CaseCounter", "Document", "Party", "Patrol", "Service", "StageLog",
]
