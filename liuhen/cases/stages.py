"""The stage machine per kind of enforcement act: the law's steps, in the law's order, each in one
of 第二条's phases (:data:`PHASES`, the names cases are reported by).

行政处罚 (行政处罚法): 立案 → 调查取证 (第五十四条、第五十五条) → 事先告知 (第四十四条、第六十二条:
the party is told of the intended penalty and of the rights to state, defend and ask for a
hearing) → 行政听证 only when the party asked for one (第六十三条、第六十四条) → 法制审核 where
第五十八条 applies → 集体讨论 where 第五十七条第二款 applies → 决定 (第五十七条; after the hearing,
第六十五条) → 送达 (第六十一条) → 执行 (第六十六条、第六十七条, 催告 and 申请强制执行, 行政强制法第五十三条、
第五十四条; none for 警告 only or 不予处罚) → 结案 → 案卷制作 → 归档管理 (第十二条).

行政强制 (行政强制法) has no hearing: 催告 and 陈述、申辩 (第三十五条、第三十六条; for a 强制措施,
第十八条) come before the decision (第三十七条), then 送达 (第三十八条), 执行, 结案.

The rules are a table (:data:`PATHS`): each :class:`Step` names its stage, the article that
allows moving into it and, for a conditional step, the fact that makes it required. From a stage
a case may move to the next step that applies; conditional steps that do not apply are passed
over. Only those moves exist (:func:`allowed_next`), and each names its article (:func:`article`).

Cases moved under the earlier order keep their history: a case heard after its decision may
still go on (:data:`LEGACY`), and migration ``cases.0008`` put existing cases on these steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from liuhen.cases.choices import NOTHING_TO_ENFORCE, CaseKind, Phase, Stage

S = Stage

#: The 第二条 phase each step belongs to (what reports and the case list group by).
PHASES: dict[str, str] = {
    S.INITIATION: Phase.INITIATION,
    S.PATROL: Phase.INITIATION,
    S.INVESTIGATION: Phase.INVESTIGATION,
    S.NOTICE: Phase.DECISION,
    S.REMINDER: Phase.DECISION,
    S.HEARING: Phase.HEARING,
    S.LEGAL_REVIEW: Phase.DECISION,
    S.COLLECTIVE: Phase.DECISION,
    S.DECISION: Phase.DECISION,
    S.SERVICE: Phase.SERVICE,
    S.ENFORCEMENT: Phase.SERVICE,
    S.CLOSING: Phase.SERVICE,
    S.CASE_FILE: Phase.CASE_FILE,
    S.ARCHIVING: Phase.ARCHIVING,
}


def _hearing_requested(case) -> bool:
    return bool(case.hearing_requested)


def _legal_review_required(case) -> bool:
    # 第五十八条第一款: (二) 经过听证程序的; (三) 案件情况疑难复杂、涉及多个法律关系的.
    return bool(case.hearing_requested or case.is_complex_or_major)


def _collective_required(case) -> bool:
    # 第五十七条第二款: 情节复杂或者重大违法行为给予行政处罚，行政机关负责人应当集体讨论决定.
    return bool(case.is_complex_or_major)


def _something_to_enforce(case) -> bool:
    # 警告 only or 不予行政处罚 leaves the party nothing to do (第六十六条): no 执行.
    return case.penalty_outcome not in NOTHING_TO_ENFORCE


@dataclass(frozen=True)
class Step:
    """One step of a kind's procedure: its stage, the article that allows moving into it and,
    for a conditional step, the condition (a case → bool) and its words."""

    stage: str
    article: str
    when: Callable | None = None
    when_text: str = ""

    def applies(self, case) -> bool:
        return self.when is None or self.when(case)


_CASE_FILE = Step(S.CASE_FILE, "第十二条（案卷制作）")
_ARCHIVING = Step(S.ARCHIVING, "第十二条（归档）")

PATHS: dict[str, tuple[Step, ...]] = {
    CaseKind.PENALTY: (
        Step(S.INITIATION, "行政处罚法第五十四条（立案）"),
        Step(S.INVESTIGATION, "行政处罚法第五十四条、第五十五条"),
        Step(S.NOTICE, "行政处罚法第四十四条、第六十二条"),
        Step(S.HEARING, "行政处罚法第六十三条、第六十四条", _hearing_requested,
             "当事人申请听证"),
        Step(S.LEGAL_REVIEW, "行政处罚法第五十八条", _legal_review_required,
             "经过听证程序或者情节复杂、重大违法（第五十八条第一款）"),
        Step(S.COLLECTIVE, "行政处罚法第五十七条第二款", _collective_required,
             "情节复杂或者重大违法行为"),
        Step(S.DECISION, "行政处罚法第五十七条、第六十二条、第六十五条"),
        Step(S.SERVICE, "行政处罚法第六十一条"),
        Step(S.ENFORCEMENT, "行政处罚法第六十六条、第六十七条、第七十二条；行政强制法第五十三条",
             _something_to_enforce, "处罚决定须当事人履行（非仅警告、不予处罚）"),
        Step(S.CLOSING, "第五条第四款（结案）"),
        _CASE_FILE,
        _ARCHIVING,
    ),
    CaseKind.COERCION: (
        Step(S.INITIATION, "行政强制法第十八条"),
        Step(S.INVESTIGATION, "行政强制法第十八条"),
        Step(S.REMINDER, "行政强制法第三十五条、第三十六条（强制措施：第十八条）"),
        Step(S.DECISION, "行政强制法第三十七条"),
        Step(S.SERVICE, "行政强制法第三十八条"),
        Step(S.ENFORCEMENT, "行政强制法第五十三条、第五十四条"),
        Step(S.CLOSING, "第五条第四款（结案）"),
        _CASE_FILE,
        _ARCHIVING,
    ),
    # 第七条: declaration, acceptance (verification), assessment, then the file.
    CaseKind.LEVY: (
        Step(S.INITIATION, "第七条"),
        Step(S.INVESTIGATION, "第七条（受理、核定）"),
        Step(S.DECISION, "第七条（征收决定）"),
        _CASE_FILE,
        _ARCHIVING,
    ),
    # 第九条: a fee is assessed and receipted, then filed.
    CaseKind.FEE: (
        Step(S.INITIATION, "第九条"),
        Step(S.DECISION, "第九条（收费）"),
        _CASE_FILE,
        _ARCHIVING,
    ),
    # 第八条: an inspection is carried out and written up.
    CaseKind.INSPECTION: (
        Step(S.INITIATION, "第八条"),
        Step(S.INVESTIGATION, "第八条（检查）"),
        _CASE_FILE,
        _ARCHIVING,
    ),
}

#: Moves kept for cases left by the earlier order on a stage their kind no longer has there:
#: (kind, stage) → (condition on the case, the stages it may go to). A penalty case heard after
#: its decision goes on to 结案; a coercion case at 行政听证 (which 行政强制法 does not have) too.
LEGACY: dict[tuple[str, str], tuple[Callable, tuple[str, ...]]] = {
    (CaseKind.PENALTY, S.HEARING): (
        lambda case: _reached(case, S.DECISION),
        (S.CLOSING, S.CASE_FILE),
    ),
    (CaseKind.COERCION, S.HEARING): (lambda case: True, (S.CLOSING, S.CASE_FILE)),
}


def phase(stage: str) -> str:
    """The 第二条 phase of ``stage``."""
    return PHASES.get(stage, Phase.INITIATION)


def phase_label(stage: str) -> str:
    return Phase(phase(stage)).label


def article(kind: str, to_stage: str) -> str:
    """The article that allows moving a case of ``kind`` into ``to_stage``."""
    for step in PATHS.get(kind, ()):
        if step.stage == to_stage:
            return step.article
    return "第二条"


def path(kind: str) -> list[str]:
    """The stages of a kind in order (every step, conditional ones included)."""
    return [step.stage for step in PATHS[kind]]


def steps(case) -> list[Step]:
    """The steps that apply to this case, in order (conditional ones only where they apply)."""
    return [step for step in PATHS[case.kind] if step.applies(case) or step.stage == case.stage]


def allowed_next(case) -> list[str]:
    """The stages this case may move to now: the next step that applies (conditional steps
    that do not apply are passed over), or what :data:`LEGACY` keeps for an earlier order."""
    legacy = LEGACY.get((case.kind, case.stage))
    if legacy is not None and legacy[0](case):
        return list(legacy[1])
    order = PATHS[case.kind]
    stages_ = [step.stage for step in order]
    if case.stage not in stages_:
        return []
    for step in order[stages_.index(case.stage) + 1:]:
        if step.applies(case):
            return [step.stage]
    return []


def skipped_between(case, to_stage: str) -> list[Step]:
    """The conditional steps passed over when moving ``case`` to ``to_stage`` (for the log)."""
    order = PATHS[case.kind]
    stages_ = [step.stage for step in order]
    if case.stage not in stages_ or to_stage not in stages_:
        return []
    return [s for s in order[stages_.index(case.stage) + 1 : stages_.index(to_stage)]
            if not s.applies(case)]


def _reached(case, stage: str) -> bool:
    return case.stage_logs.filter(to_stage=stage).exists()
