"""The stage machine per kind of enforcement act (第二条). Only forward moves listed here exist."""

from __future__ import annotations

from liuhen.cases.choices import CaseKind, Stage

S = Stage
_FULL = {
    S.INITIATION: (S.INVESTIGATION,),
    S.INVESTIGATION: (S.DECISION,),
    S.DECISION: (S.SERVICE,),
    # A hearing only when the party asked for one; then it must happen before the case file.
    S.SERVICE: (S.HEARING, S.CASE_FILE),
    S.HEARING: (S.CASE_FILE,),
    S.CASE_FILE: (S.ARCHIVING,),
    S.ARCHIVING: (),
}

TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    CaseKind.PENALTY: _FULL,
    CaseKind.COERCION: _FULL,
    # 第七条: declaration, acceptance (verification), assessment, then the file.
    CaseKind.LEVY: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.DECISION,),
        S.DECISION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    # 第九条: a fee is assessed and receipted, then filed.
    CaseKind.FEE: {
        S.INITIATION: (S.DECISION,),
        S.DECISION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    # 第八条: an inspection is carried out and written up.
    CaseKind.INSPECTION: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
}


def path(kind: str) -> list[str]:
    """The stages of a kind in order (the main line, hearing included where it can occur)."""
    order = [s for s in Stage.values if s != Stage.PATROL]
    reachable = {Stage.INITIATION.value}
    for stage in order:
        if stage in reachable:
            reachable.update(TRANSITIONS[kind].get(stage, ()))
    return [s for s in order if s in reachable]


def allowed_next(case) -> list[str]:
    """The stages this case may move to now, given its facts."""
    options = list(TRANSITIONS[case.kind].get(case.stage, ()))
    if case.stage == Stage.SERVICE and case.kind in (CaseKind.PENALTY, CaseKind.COERCION):
        options = [Stage.HEARING] if case.hearing_requested and not _hearing_held(case) else [
            s for s in options if s != Stage.HEARING]
    return options


def _hearing_held(case) -> bool:
    return case.stage_logs.filter(to_stage=Stage.HEARING).exists()
