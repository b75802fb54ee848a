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

# A waiver (缺项说明) is requested for a requirement: ``case=``, ``requirement_code=``. The
# rules app owns the requirements and refuses an unknown one by raising InvalidInput.
waiver_requested = DomainEvent("records.waiver_requested")
