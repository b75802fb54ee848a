"""The permission matrix: which role may do which action, and over which units.

Kept in this one place and shown on an admin page. Anything not listed is denied.
Scopes: ``own`` = the user's own unit; ``tree`` = own unit and its sub-units;
``bureau`` = every unit. Child objects (recordings, documents) inherit their case's scope.
"""

from __future__ import annotations

from liuhen.access.choices import Role

OWN, TREE, BUREAU = "own", "tree", "bureau"
SCOPE_LABELS = {OWN: "本单位", TREE: "本单位及下级", BUREAU: "全局"}

# Actions (permission_* names in the glossary's terms).
ACTIONS = {
    "case.view": "查看案件",
    "case.create": "新建案件",
    "case.change": "修改案件",
    "case.transition": "变更环节",
    "case.archive": "归档",
    "patrol.view": "查看巡查",
    "patrol.create": "登记巡查",
    "party.view": "查看当事人",
    "party.create": "登记当事人",
    "recording.view": "查看音像记录",
    "recording.upload": "上传音像记录",
    "recording.download": "下载音像记录",
    "recording.mark": "标注音像记录",
    "recording.late_report": "查看逾期上传",
    "recording.link": "关联音像记录与案件",
    "recording.fixity": "查看固定值校验",
    "device.view": "查看设备",
    "device.manage": "登记设备",
    "device.use": "领用和检查设备",
    "document.view": "查看文字记录",
    "document.create": "添加文字记录",
    "approval.decide": "内部审批",
    "rules.view": "查看记录完整性",
    "rules.waive": "批准缺项说明",
    "report.view": "查看统计",
    "audit.view": "查看审计日志",
    "audit.export": "导出审计日志",
    "org.manage": "管理单位和人员",
    "retention.change": "修改保存期限表（第十四条）",
    "hold.view": "查看冻结（暂停销毁）",
    "hold.manage": "冻结与解除冻结",
    "disposal.view": "查看销毁清册",
    "disposal.propose": "提出销毁（档案管理人员）",
    "disposal.approve": "批准销毁（单位负责人、法制机构）",
    "disposal.execute": "执行销毁",
    "violation.view": "查看违规事项（第二十六条）",
    "violation.handle": "核查处理违规事项（第二十六条）",
    "casefile.assemble": "制作卷宗（第十二条）",
    "casefile.bind": "检查装订卷宗（档案管理人员）",
    "longterm.mark": "标记长期保存（第十五条）",
    "spotcheck.view": "查看抽查与台帐（第二十三条）",
    "spotcheck.manage": "组织抽查、评查（第二十三条）",
    "rectification.view": "查看限期整改",
    "rectification.report": "报告整改情况",
}

_OFFICER = {
    "case.view": OWN, "case.create": OWN, "case.change": OWN, "case.transition": OWN,
    "patrol.view": OWN, "patrol.create": OWN, "party.view": OWN, "party.create": OWN,
    "recording.view": OWN, "recording.upload": OWN, "recording.download": OWN,
    "recording.mark": OWN, "recording.link": OWN, "device.view": OWN, "device.use": OWN,
    "document.view": OWN,
    "document.create": OWN, "rules.view": OWN, "violation.view": OWN,
    "casefile.assemble": OWN,
}

MATRIX: dict[str, dict[str, str]] = {
    Role.OFFICER: _OFFICER,
    Role.UNIT_HEAD: {
        **{action: TREE for action in _OFFICER},
        "case.archive": TREE, "approval.decide": TREE, "rules.waive": TREE,
        "report.view": TREE, "recording.late_report": TREE,
        "recording.fixity": TREE,
        "hold.view": TREE, "hold.manage": TREE, "disposal.view": TREE, "disposal.approve": TREE,
        "longterm.mark": TREE,
        "rectification.view": TREE, "rectification.report": TREE,
    },
    Role.BUREAU_LEADER: {
        "case.view": BUREAU, "patrol.view": BUREAU, "party.view": BUREAU,
        "recording.view": BUREAU, "device.view": BUREAU, "document.view": BUREAU,
        "approval.decide": BUREAU, "rules.view": BUREAU, "report.view": BUREAU,
        "retention.change": BUREAU, "hold.view": BUREAU, "disposal.view": BUREAU,
        "violation.view": BUREAU, "spotcheck.view": BUREAU, "rectification.view": BUREAU,
    },
    Role.LEGAL_OFFICE: {
        "case.view": BUREAU, "patrol.view": BUREAU, "party.view": BUREAU,
        "recording.view": BUREAU, "recording.download": BUREAU, "recording.late_report": BUREAU,
        "recording.fixity": BUREAU,
        "device.view": BUREAU, "document.view": BUREAU, "rules.view": BUREAU,
        "report.view": BUREAU, "audit.view": BUREAU, "audit.export": BUREAU,
        # 行政处罚法第五十八条: 法制审核 (approvals.toml gives this role nothing else to approve).
        "approval.decide": BUREAU,
        "retention.change": BUREAU, "hold.view": BUREAU, "hold.manage": BUREAU,
        "disposal.view": BUREAU, "disposal.approve": BUREAU,
        "violation.view": BUREAU, "violation.handle": BUREAU,
        "spotcheck.view": BUREAU, "spotcheck.manage": BUREAU, "rectification.view": BUREAU,
    },
    Role.RECORDS_KEEPER: {
        "case.view": TREE, "case.archive": TREE, "patrol.view": TREE, "party.view": TREE,
        "recording.view": TREE, "recording.upload": TREE, "recording.download": TREE,
        "recording.mark": TREE, "recording.late_report": TREE, "device.view": TREE,
        "recording.link": TREE, "recording.fixity": TREE,
        "document.view": TREE, "document.create": TREE, "rules.view": TREE,
        "hold.view": TREE, "hold.manage": TREE, "disposal.view": TREE,
        "disposal.propose": TREE, "disposal.execute": TREE,
        "casefile.assemble": TREE, "casefile.bind": TREE, "longterm.mark": TREE,
    },
    Role.DEVICE_KEEPER: {"device.view": TREE, "device.manage": TREE, "device.use": TREE},
    Role.ADMIN: {"org.manage": BUREAU, "device.view": BUREAU, "device.manage": BUREAU},
}

# Officers' credential numbers and qualification dates (第十一条) are personal data: seen where
# the role works, not bureau-wide for everyone (issue 16 item 9). A device is issued to an
# officer of the keeper's units (第十八条). Kept apart so the rows above stay as they were.
ACTIONS["officer.view"] = "查看执法人员"
for _role, _scope in {Role.OFFICER: OWN, Role.UNIT_HEAD: TREE, Role.RECORDS_KEEPER: TREE,
                      Role.DEVICE_KEEPER: TREE, Role.BUREAU_LEADER: BUREAU,
                      Role.LEGAL_OFFICE: BUREAU, Role.ADMIN: BUREAU}.items():
    MATRIX[_role]["officer.view"] = _scope

# 第二十四条: circulars go to every unit (a unit head reads the whole circular, its ranking
# included); the legal affairs office makes and publishes them. 第二十五条: training records,
# an officer his own, a unit head his units', kept by the legal affairs office.
ACTIONS["circular.view"] = "查看通报与绩效评分（第二十四条）"
ACTIONS["circular.manage"] = "制作、发布通报（第二十四条）"
for _role, _scope in {Role.UNIT_HEAD: BUREAU, Role.BUREAU_LEADER: BUREAU,
                      Role.LEGAL_OFFICE: BUREAU}.items():
    MATRIX[_role]["circular.view"] = _scope
MATRIX[Role.LEGAL_OFFICE]["circular.manage"] = BUREAU
ACTIONS["training.view"] = "查看培训记录（第二十五条）"
ACTIONS["training.manage"] = "登记培训与考勤（第二十五条）"
for _role, _scope in {Role.OFFICER: OWN, Role.UNIT_HEAD: TREE, Role.BUREAU_LEADER: BUREAU,
                      Role.LEGAL_OFFICE: BUREAU}.items():
    MATRIX[_role]["training.view"] = _scope
MATRIX[Role.LEGAL_OFFICE]["training.manage"] = BUREAU


# What leaves the bureau (第十七条): the register of party copies and supplies to review bodies
# and courts, who may register them, who sets confidentiality marks (第十七条第四款), and who
# reads the unusual-use listing (第二十六条(三)). Approval of a copy or a supply is the leader
# in charge's (disclosure.services / disclosure.supply), not a matrix row.
ACTIONS.update({
    "disclosure.view": "查看复制与提供登记（第十七条）",
    "disclosure.register": "登记复制申请和复议、诉讼提供（第十七条）",
    "confidentiality.mark": "设定保密标记（第十七条第四款）",
    "use.unusual": "查看异常使用（第二十六条第三项）",
})
for _role, _rows in {
    Role.OFFICER: {"disclosure.view": OWN, "disclosure.register": OWN},
    Role.UNIT_HEAD: {"disclosure.view": TREE, "disclosure.register": TREE,
                     "confidentiality.mark": TREE},
    Role.RECORDS_KEEPER: {"disclosure.view": TREE, "disclosure.register": TREE},
    Role.BUREAU_LEADER: {"disclosure.view": BUREAU, "confidentiality.mark": BUREAU},
    Role.LEGAL_OFFICE: {"disclosure.view": BUREAU, "disclosure.register": BUREAU,
                        "confidentiality.mark": BUREAU, "use.unusual": BUREAU},
}.items():
    MATRIX[_role].update(_rows)


def scope_for(role: str | None, action: str) -> str | None:
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}: add it to ACTIONS in access/permissions.py")
    if not role:
        return None
    return MATRIX.get(role, {}).get(action)


def rows() -> list[dict]:
    """The matrix as table rows for the admin page: one row per action, one cell per role."""
    return [
        {"action": action, "label": label,
         "cells": [SCOPE_LABELS.get(MATRIX.get(role, {}).get(action), "—") for role in Role]}
        for action, label in ACTIONS.items()
    ]
