"""The stage machine per kind of enforcement act: 第二条's phases, in the order the law gives.

行政处罚 (行政处罚法): 立案 → 调查取证 → (事先告知, 第四十四条) → 行政听证 when the party asked for
one (第六十三条、第六十四条) → 审查决定 (第五十七条; the decision follows the hearing, 第六十五条) →
送达执行 (第六十一条) → 案卷制作 → 归档管理. 行政强制 (行政强制法) has no hearing: 催告 and
陈述申辩 (第三十五至三十七条) come before its decision. Only the moves listed here exist, and each
names the article that allows it (:func:`article`).

Cases opened under the earlier order (a hearing after 送达执行) keep their history: a case
that reached 行政听证 after its decision may still go on to 案卷制作 (:func:`allowed_next`).
"""

from __future__ import annotations

from liuhen.cases.choices import CaseKind, Stage

S = Stage

#: The main line of each kind, in order (the hearing only where the law has one).
PATHS: dict[str, tuple[str, ...]] = {
    CaseKind.PENALTY: (
        S.INITIATION, S.INVESTIGATION, S.HEARING, S.DECISION, S.SERVICE, S.CASE_FILE,
        S.ARCHIVING,
    ),
    CaseKind.COERCION: (
        S.INITIATION, S.INVESTIGATION, S.DECISION, S.SERVICE, S.CASE_FILE, S.ARCHIVING,
    ),
    # 第七条: declaration, acceptance (verification), assessment, then the file.
    CaseKind.LEVY: (S.INITIATION, S.INVESTIGATION, S.DECISION, S.CASE_FILE, S.ARCHIVING),
    # 第九条: a fee is assessed and receipted, then filed.
    CaseKind.FEE: (S.INITIATION, S.DECISION, S.CASE_FILE, S.ARCHIVING),
    # 第八条: an inspection is carried out and written up.
    CaseKind.INSPECTION: (S.INITIATION, S.INVESTIGATION, S.CASE_FILE, S.ARCHIVING),
}

TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    CaseKind.PENALTY: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.HEARING, S.DECISION),
        # 案卷制作 only for a case heard after its decision under the earlier order.
        S.HEARING: (S.DECISION, S.CASE_FILE),
        S.DECISION: (S.SERVICE,),
        S.SERVICE: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    CaseKind.COERCION: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.DECISION,),
        S.DECISION: (S.SERVICE,),
        S.HEARING: (S.CASE_FILE,),  # only cases left there by the earlier order
        S.SERVICE: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    CaseKind.LEVY: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.DECISION,),
        S.DECISION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    CaseKind.FEE: {
        S.INITIATION: (S.DECISION,),
        S.DECISION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
    CaseKind.INSPECTION: {
        S.INITIATION: (S.INVESTIGATION,),
        S.INVESTIGATION: (S.CASE_FILE,),
        S.CASE_FILE: (S.ARCHIVING,),
        S.ARCHIVING: (),
    },
}

#: The article that allows each move, per kind; a default per target stage.
_ARTICLES = {
    S.INVESTIGATION: "第五条第二款、第三款（立案后调查取证）",
    S.DECISION: "第五条第四款（审查决定）",
    S.SERVICE: "第五条第四款（送达、履行）",
    S.CASE_FILE: "第十二条（案卷制作）",
    S.ARCHIVING: "第十二条（归档）",
}
_KIND_ARTICLES = {
    CaseKind.PENALTY: {
        S.INVESTIGATION: "行政处罚法第五十四条、第五十五条",
        S.HEARING: "行政处罚法第六十三条、第六十四条",
        S.DECISION: "行政处罚法第五十七条、第六十二条、第六十五条",
        S.SERVICE: "行政处罚法第六十一条",
    },
    CaseKind.COERCION: {
        S.DECISION: "行政强制法第三十五条至第三十七条",
        S.SERVICE: "行政强制法第三十八条",
    },
}


def article(kind: str, to_stage: str) -> str:
    """The article that allows moving a case of ``kind`` into ``to_stage``."""
    return _KIND_ARTICLES.get(kind, {}).get(to_stage) or _ARTICLES.get(to_stage, "第二条")


def path(kind: str) -> list[str]:
    """The stages of a kind in order (the main line, hearing included where it can occur)."""
    return list(PATHS[kind])


def allowed_next(case) -> list[str]:
    """The stages this case may move to now, given its facts."""
    options = list(TRANSITIONS[case.kind].get(case.stage, ()))
    if case.kind == CaseKind.PENALTY and case.stage == Stage.INVESTIGATION:
        # 第六十三、六十四条: a requested hearing is held before the decision (第六十五条).
        wants = case.hearing_requested and not _reached(case, Stage.HEARING)
        options = [Stage.HEARING] if wants else [Stage.DECISION]
    elif case.stage == Stage.HEARING and case.kind == CaseKind.PENALTY:
        # Heard after the decision (the earlier order): on to the file; else to the decision.
        options = [Stage.CASE_FILE] if _reached(case, Stage.DECISION) else [Stage.DECISION]
    return options


def _reached(case, stage: str) -> bool:
    return case.stage_logs.filter(to_stage=stage).exists()
