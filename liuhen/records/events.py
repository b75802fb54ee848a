"""Audit actions of the written records: documents, approvals, service, generated documents and
the levy and fee imports (第四条, 第十九条). Domain events (``liuhen.core.domain_events``) that
higher apps may react to are at the end."""

from liuhen.core.domain_events import DomainEvent

event_document_added = "document.added"
event_document_viewed = "document.viewed"
event_document_downloaded = "document.downloaded"
event_document_refused = "document.refused"
event_document_generated = "document.generated"
event_approval_requested = "approval.requested"
event_approval_decided = "approval.decided"
event_approval_refused = "approval.refused"
event_service_recorded = "service.recorded"
event_levy_imported = "levy.imported"
event_fee_receipt_added = "fee_receipt.added"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_document_added: "添加文字记录",
    event_document_viewed: "查看文字记录",
    event_document_downloaded: "下载文字记录扫描件",
    event_document_refused: "拒绝添加文字记录",
    event_document_generated: "生成执法文书",
    event_approval_requested: "提请内部审批",
    event_approval_decided: "作出审批决定",
    event_approval_refused: "拒绝审批操作",
    event_service_recorded: "登记送达",
    event_levy_imported: "导入征收记录",
    event_fee_receipt_added: "登记收费票据",
}


# A waiver (缺项说明) is requested for a requirement: ``case=``, ``requirement_code=``. The
# rules app owns the requirements and refuses an unknown one by raising InvalidInput.
waiver_requested = DomainEvent("records.waiver_requested")
