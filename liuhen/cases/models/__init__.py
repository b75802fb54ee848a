"""Models of the cases app: the case itself (core) and its written records (records)."""

from liuhen.cases.models.core import Case, CaseCounter, Party, Patrol, StageLog

__all__ = ["Case", "CaseCounter", "Party", "Patrol", "StageLog"]
