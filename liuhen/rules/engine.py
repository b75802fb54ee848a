"""The requirements engine: rules loaded from data files, evaluated against a case's facts.

Pure: no database access here. ``services.py`` gathers a case's facts (``CaseFacts``) and
stores the result. One readable TOML file per kind of enforcement act lives in ``data/``
(第五条 penalty, 第六条 coercion, 第七条 levy, 第八条 inspection, 第九条 fee); every rule names
its article, the stage from which it applies, the facts that trigger it and what meets it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from liuhen.cases import stages
from liuhen.cases.choices import CaseKind, Stage
from liuhen.records.choices import (
    ApprovalAction,
    ApprovalDecision,
    DocumentType,
    SignatureStatus,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
KIND_FILES = {
    CaseKind.PENALTY: "penalty.toml",
    CaseKind.COERCION: "coercion.toml",
    CaseKind.LEVY: "levy.toml",
    CaseKind.FEE: "fee.toml",
    CaseKind.INSPECTION: "inspection.toml",
}

MET, MISSING, NOT_APPLICABLE, WAIVED = "met", "missing", "not_applicable", "waived"
STATUS_LABELS = {MET: "已具备", MISSING: "缺失", NOT_APPLICABLE: "不适用", WAIVED: "已豁免"}

# Facts of a case that can trigger a rule (``when`` / ``when_any``).
CONDITIONS = {
    "is_random_inspection": "随机抽查",
    "is_disputed": "易引发争议的现场检查",
    "is_major_incident": "重大、突发事件",
    "hearing_requested": "当事人申请听证",
    "is_complex_or_major": "情节复杂或者重大违法行为",
    "written_record_impractical": "当场不利于制作执法文书及书面记录",
    "av_other": "其他需要音像记录的情况",
    "enforcement_started": "申请强制执行（已催告、已申请或已报批强制执行）",
    "signature_refused": "当事人拒绝签字",
    "service_left_at_premises": "留置送达",
    "service_public_notice": "公告送达",
    # 行政处罚法第四十五条、第六十二条至第六十五条; 行政强制法第三十五至三十七条、第五十四条.
    "procedure_flagged": "决定或强制执行早于当事人陈述申辩、听证或催告期届满",
}
# Documents whose presence says the decision is being enforced (第五条第四款).
ENFORCEMENT_DOCUMENTS = frozenset({
    DocumentType.REMINDER_NOTICE,
    DocumentType.ENFORCEMENT_APPLICATION,
    DocumentType.ENFORCEMENT_DECISION,
    DocumentType.ENFORCEMENT_RESULT,
})
# Mark labels agreed with the vault (liuhen.evidence.choices.MarkLabel).
MARK_LABELS = {
    "credentials_shown": "表明身份出示证件",
    "party_identity_checked": "当事人到场及身份核实",
    "documents_read": "宣读催告书/决定书",
    "statement_heard": "听取陈述申辩",
    "party_signed": "当事人签收或确认文书",
    "vehicle_used": "执法车辆使用",
    "officer_conduct": "执法人员风纪",
    "inspected_party": "被检查对象情况",
    "premises_goods": "被检查场所物品",
    "inspection_conduct": "检查行为实施",
    "recording_notice": "告知当事人正在录音录像",
    "signature_refused": "当事人拒绝签字",
    "service_left": "留置送达",
    "service_public_notice": "公告送达",
    "other": "其他",
}
NEED_KEYS = {
    "document": {"document", "signature", "extra_key", "count"},
    "approval": {"approval"},
    "recording": {"recording"},
    "mark": {"mark"},
    "officers": {"officers"},
    "approvals_settled": {"approvals_settled"},
}
RULE_KEYS = {"id", "title", "article", "from_stage", "when", "when_any", "needs", "add", "note"}
# What to add when a rule is missing: documents, approvals, service, recordings.
ADD_TARGETS = {"document", "approval", "service", "recording", "officers"}


class RuleDataError(Exception):
    """A rules data file is malformed; the message names the file and rule."""


# --- facts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocFact:
    id: int
    doc_type: str
    signature: str
    extra_keys: frozenset = frozenset()
    label: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalFact:
    id: int
    action: str
    decision: str
    requirement_code: str = ""
    approver: str = ""
    reason: str = ""
    opinion: str = ""


@dataclass(frozen=True, slots=True)
class ServiceFact:
    id: int
    method: str
    signature: str


@dataclass(frozen=True, slots=True)
class RecordingFact:
    id: int
    kind: str
    labels: frozenset = frozenset()
    label: str = ""


@dataclass(slots=True)
class CaseFacts:
    """Everything the rules read about one case."""

    case_id: int
    kind: str
    stage: str
    flags: dict = field(default_factory=dict)
    documents: list = field(default_factory=list)
    approvals: list = field(default_factory=list)
    services: list = field(default_factory=list)
    recordings: list = field(default_factory=list)
    qualified_officers: int = 0


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    title: str
    article: str
    from_stage: str
    when: tuple = ()
    when_any: tuple = ()
    needs: tuple = ()
    add: str = "document"
    note: str = ""

    @property
    def trigger_text(self) -> str:
        parts = [CONDITIONS[c] for c in self.when]
        if self.when_any:
            parts.append("或".join(CONDITIONS[c] for c in self.when_any))
        return "、".join(parts)

    def needs_text(self) -> str:
        return "；".join(describe_need(n) for n in self.needs)


def describe_need(need: dict) -> str:
    if "document" in need:
        text = DocumentType(need["document"]).label
        if need.get("signature"):
            text += "（" + "/".join(SignatureStatus(s).label for s in need["signature"]) + "）"
        if need.get("extra_key"):
            text += f"（含{need['extra_key']}）"
        if need.get("count", 1) > 1:
            text += f" ×{need['count']}"
        return text
    if "approval" in need:
        return f"内部审批「{ApprovalAction(need['approval']).label}」已同意"
    if "recording" in need:
        return "关联音像记录"
    if "mark" in need:
        return f"音像记录标注「{MARK_LABELS[need['mark']]}」"
    if "officers" in need:
        return f"不少于{need['officers']}名具备执法资格的执法人员"
    if "approvals_settled" in need:
        return "所有内部审批均已审结"
    return str(need)


def _fail(path: Path, rule_id: str, message: str):
    raise RuleDataError(f"{path.name} 规则 {rule_id or '?'}：{message}")


def _check_need(path: Path, rule_id: str, need) -> dict:
    if not isinstance(need, dict) or not need:
        _fail(path, rule_id, "needs 的每一项必须是非空表")
    kinds = [k for k in NEED_KEYS if k in need]
    if len(kinds) != 1:
        _fail(path, rule_id, f"needs 项必须且只能包含 {sorted(NEED_KEYS)} 之一：{need}")
    kind = kinds[0]
    unknown = set(need) - NEED_KEYS[kind]
    if unknown:
        _fail(path, rule_id, f"needs 项含未知键 {sorted(unknown)}")
    if kind == "document":
        if need["document"] not in DocumentType.values:
            _fail(path, rule_id, f"未知文书类型 {need['document']!r}")
        for s in need.get("signature", []):
            if s not in SignatureStatus.values:
                _fail(path, rule_id, f"未知签收情况 {s!r}")
        if not isinstance(need.get("count", 1), int) or need.get("count", 1) < 1:
            _fail(path, rule_id, "count 必须是正整数")
    elif kind == "approval" and need["approval"] not in ApprovalAction.values:
        _fail(path, rule_id, f"未知审批事项 {need['approval']!r}")
    elif kind == "mark" and need["mark"] not in MARK_LABELS:
        _fail(path, rule_id, f"未知标注 {need['mark']!r}")
    elif kind == "officers" and (not isinstance(need["officers"], int) or need["officers"] < 1):
        _fail(path, rule_id, "officers 必须是正整数")
    elif kind in ("recording", "approvals_settled") and need[kind] is not True:
        _fail(path, rule_id, f"{kind} 只能为 true")
    return dict(need)


def load_file(path: Path, kind: str) -> list[Rule]:
    """Read and check one kind's rules file; raise RuleDataError naming what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleDataError(f"缺少规则文件 {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(f"{path.name} 不是有效的 TOML：{exc}") from None
    if data.get("kind") != kind:
        raise RuleDataError(f"{path.name}：kind 应为 {kind!r}，实为 {data.get('kind')!r}")
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleDataError(f"{path.name}：至少需要一条 [[rule]]")
    valid_stages = set(stages.path(kind))
    rules, seen = [], set()
    for raw in raw_rules:
        rule_id = raw.get("id", "") if isinstance(raw, dict) else ""
        unknown = set(raw) - RULE_KEYS
        if unknown:
            _fail(path, rule_id, f"未知字段 {sorted(unknown)}")
        for key in ("id", "title", "article", "from_stage", "needs"):
            if not raw.get(key):
                _fail(path, rule_id, f"缺少字段 {key}")
        if rule_id in seen:
            _fail(path, rule_id, "规则编号重复")
        seen.add(rule_id)
        if not rule_id.startswith(f"{kind}."):
            _fail(path, rule_id, f"规则编号须以 {kind}. 开头")
        if raw["from_stage"] not in valid_stages:
            _fail(path, rule_id, f"环节 {raw['from_stage']!r} 不属于该类执法行为")
        if "第" not in raw["article"] or "条" not in raw["article"]:
            _fail(path, rule_id, f"条款引用不规范：{raw['article']!r}")
        for key in ("when", "when_any"):
            for cond in raw.get(key, []):
                if cond not in CONDITIONS:
                    _fail(path, rule_id, f"未知触发条件 {cond!r}（可用：{sorted(CONDITIONS)}）")
        add = raw.get("add", "document")
        if add not in ADD_TARGETS:
            _fail(path, rule_id, f"add 应为 {sorted(ADD_TARGETS)} 之一")
        needs = tuple(_check_need(path, rule_id, n) for n in raw["needs"])
        rules.append(
            Rule(
                id=rule_id,
                kind=kind,
                title=raw["title"],
                article=raw["article"],
                from_stage=raw["from_stage"],
                when=tuple(raw.get("when", ())),
                when_any=tuple(raw.get("when_any", ())),
                needs=needs,
                add=add,
                note=raw.get("note", ""),
            )
        )
    return rules


@cache
def load_rules(data_dir: str | None = None) -> dict[str, tuple[Rule, ...]]:
    """All rules per kind, checked. Cached: the files are read once per process."""
    base = Path(data_dir or DATA_DIR)
    return {kind: tuple(load_file(base / name, kind)) for kind, name in KIND_FILES.items()}


@cache
def extra_doc_types() -> tuple[str, ...]:
    """Document types whose ``extra`` fields some rule reads (``extra_key``)."""
    return tuple(
        sorted(
            {
                n["document"]
                for r in rules_by_id().values()
                for n in r.needs
                if "document" in n and n.get("extra_key")
            }
        )
    )


def reload() -> None:
    """Forget the cached rules (after the data files changed, and in tests)."""
    load_rules.cache_clear()
    _compiled.cache_clear()
    extra_doc_types.cache_clear()


def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for rules in load_rules().values() for r in rules}


# --- evaluation --------------------------------------------------------------------------


def _conditions(facts: CaseFacts) -> set[str]:
    active = {
        name
        for name in (
            "is_random_inspection",
            "is_disputed",
            "is_major_incident",
            "hearing_requested",
            "is_complex_or_major",
            "written_record_impractical",
            "av_other",
            "procedure_flagged",
        )
        if facts.flags.get(name)
    }
    # 第五条第四款: 履行行政决定、申请强制执行过程和执行结果 are recorded once enforcement begins.
    if any(d.doc_type in ENFORCEMENT_DOCUMENTS for d in facts.documents) or any(
        a.action == ApprovalAction.ENFORCEMENT for a in facts.approvals
    ):
        active.add("enforcement_started")
    for s in facts.services:
        if s.method == "left_at_premises":
            active.add("service_left_at_premises")
        elif s.method == "public_notice":
            active.add("service_public_notice")
        if s.signature == SignatureStatus.REFUSED:
            active.add("signature_refused")
    if any(d.signature == SignatureStatus.REFUSED for d in facts.documents):
        active.add("signature_refused")
    return active


class _Index:
    """One case's records grouped for the rules' look-ups (built once per evaluation)."""

    __slots__ = ("docs", "approved", "pending", "recordings", "facts")

    def __init__(self, facts: CaseFacts):
        self.facts = facts
        self.docs: dict[str, list] = {}
        for d in facts.documents:
            self.docs.setdefault(d.doc_type, []).append(d)
        self.approved: dict[str, list] = {}
        self.pending = False
        for a in facts.approvals:
            if a.decision == ApprovalDecision.APPROVED:
                self.approved.setdefault(a.action, []).append(a)
            elif a.decision == ApprovalDecision.PENDING:
                self.pending = True
        self.recordings = facts.recordings


def _need_check(need: dict):
    """One need as a function of the case's ``_Index`` that returns the records meeting it as
    ``[type, id, label]``, or None when it is not met. Built once per rule by ``_compiled``,
    so evaluating 100,000 cases does not re-read the need's keys each time."""
    if "document" in need:
        doc_type, key, count = need["document"], need.get("extra_key"), need.get("count", 1)
        sigs = frozenset(need.get("signature") or ())
        if not sigs and not key and count == 1:

            def check(ix):
                docs = ix.docs.get(doc_type)
                return [["document", d.id, d.label] for d in docs] if docs else None

            return check

        def check(ix):
            docs = ix.docs.get(doc_type)
            if not docs:
                return None
            found = [
                ["document", d.id, d.label]
                for d in docs
                if (not sigs or d.signature in sigs) and (not key or key in d.extra_keys)
            ]
            return found if len(found) >= count else None

        return check
    if "approval" in need:
        action = need["approval"]
        return lambda ix: [
            ["approval", a.id, f"审批人：{a.approver}"] for a in ix.approved.get(action, ())
        ] or None
    if "recording" in need:
        return lambda ix: [["recording", r.id, r.label] for r in ix.recordings] or None
    if "mark" in need:
        label = need["mark"]
        return lambda ix: [
            ["recording", r.id, r.label] for r in ix.recordings if label in r.labels
        ] or None
    if "officers" in need:
        wanted = need["officers"]

        def check(ix):
            n = ix.facts.qualified_officers
            return [["officers", None, f"{n}名具备资格的执法人员"]] if n >= wanted else None

        return check
    if "approvals_settled" in need:
        return lambda ix: None if ix.pending else [["approvals", None, "无待审批事项"]]
    return lambda ix: None


# Why a requirement does not apply, stored as a short code and spelled out for display.
NOT_TRIGGERED, NOT_YET = "trigger", "stage"


@cache
def _compiled(kind: str) -> tuple[dict, tuple]:
    """Per kind: stage → position, and each rule with its stage position, trigger sets and
    its needs as check functions."""
    order = {stage: i for i, stage in enumerate(stages.path(kind))}
    rules = tuple(
        (
            rule,
            order[rule.from_stage],
            frozenset(rule.when),
            frozenset(rule.when_any),
            tuple(_need_check(n) for n in rule.needs),
        )
        for rule in load_rules()[kind]
    )
    return order, rules


def not_applicable_reason(rule: Rule, code: str) -> str:
    if code == NOT_TRIGGERED:
        return "未发生：" + rule.trigger_text
    return f"尚未进入「{Stage(rule.from_stage).label}」环节"


def evaluate(facts: CaseFacts, rules=None) -> dict:
    """Every requirement of the case's kind with its status, and the completeness figure.

    ``met`` counts even before its stage is reached; a rule whose stage has not come yet and
    that is not met is ``not_applicable``. Completeness = (met + waived) / applicable.
    Items are compact (stored as the snapshot): ``{"id", "status"}`` plus ``records``
    (``[type, id, label]``) when met, ``why`` when not applicable, ``reason``/``approver``
    when waived.
    """
    order, compiled = _compiled(facts.kind)
    reached = order.get(facts.stage, len(order))
    active = _conditions(facts)
    ix = _Index(facts)
    waivers = None
    items, missing = [], []
    met = waived = not_applicable = 0
    for rule, from_index, when, when_any, checks in compiled:
        if (when and not when <= active) or (when_any and not when_any & active):
            items.append({"id": rule.id, "status": NOT_APPLICABLE, "why": NOT_TRIGGERED})
            not_applicable += 1
            continue
        records = []
        for check in checks:
            got = check(ix)
            if got is None:
                records = None
                break
            records.extend(got)
        if records is not None:
            items.append({"id": rule.id, "status": MET, "records": records})
            met += 1
            continue
        if from_index > reached:
            items.append({"id": rule.id, "status": NOT_APPLICABLE, "why": NOT_YET})
            not_applicable += 1
            continue
        if waivers is None:
            waivers = {
                a.requirement_code: a
                for a in facts.approvals
                if a.action == ApprovalAction.WAIVER and a.decision == ApprovalDecision.APPROVED
            }
        waiver = waivers.get(rule.id)
        if waiver is not None:
            items.append(
                {
                    "id": rule.id,
                    "status": WAIVED,
                    "reason": waiver.reason,
                    "approver": waiver.approver,
                    "opinion": waiver.opinion,
                    "records": [["approval", waiver.id, waiver.opinion]],
                }
            )
            waived += 1
        else:
            items.append({"id": rule.id, "status": MISSING})
            missing.append(rule.id)
    applicable = met + len(missing) + waived
    ratio = 1.0 if applicable == 0 else (met + waived) / applicable
    return {
        "items": items,
        "applicable": applicable,
        "ratio": ratio,
        "missing": missing,
        "counts": {MET: met, MISSING: len(missing), NOT_APPLICABLE: not_applicable, WAIVED: waived},
    }
