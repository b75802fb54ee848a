"""Choices of the written records of a case: documents, approvals and service (第四条, 第五条)."""

from django.db import models


class DocumentType(models.TextChoices):
    """Types of written record (文字记录, 第四条) the regulation and 行政处罚法 name."""

    FILING_APPROVAL = "filing_approval", "立案审批表"
    INQUIRY_RECORD = "inquiry_record", "询问笔录"
    SITE_RECORD = "site_record", "现场笔录"
    STATEMENT_RECORD = "statement_record", "陈述申辩笔录"
    VIOLATION_NOTICE = "violation_notice", "违法行为通知书/行政处罚告知书"
    HEARING_NOTICE = "hearing_notice", "听证告知书"
    HEARING_RECORD = "hearing_record", "听证笔录"
    LEGAL_REVIEW = "legal_review", "法制审核意见"
    COLLECTIVE_DISCUSSION = "collective_discussion", "集体讨论记录"
    PENALTY_DECISION = "penalty_decision", "行政处罚决定书"
    SERVICE_RECEIPT = "service_receipt", "送达回证"
    REMINDER_NOTICE = "reminder_notice", "催告书"
    ENFORCEMENT_DECISION = "enforcement_decision", "强制执行决定书"
    ENFORCEMENT_APPLICATION = "enforcement_application", "强制执行申请书"
    # 第五条第四款 “执行结果”: the court's ruling or the record of what was enforced.
    ENFORCEMENT_RESULT = "enforcement_result", "强制执行结果（裁定书/执行情况记录）"
    PUBLIC_NOTICE = "public_notice", "公告"
    RECTIFICATION_NOTICE = "rectification_notice", "责令改正通知书"
    CLOSING_APPROVAL = "closing_approval", "结案审批表"
    OFFICER_INFO = "officer_info", "执法人员情况"
    INSPECTION_RECORD = "inspection_record", "检查记录"
    LEVY_DECLARATION = "levy_declaration", "缴费申报材料"
    LEVY_PLATFORM_RECORD = "levy_platform_record", "社保核心平台记录"
    FEE_RECEIPT = "fee_receipt", "收费票据"
    OTHER = "other", "其他"


class SignatureStatus(models.TextChoices):
    """Whether the party signed a written record (第五条: a refusal must be recorded on video)."""

    SIGNED = "signed", "已签收"
    REFUSED = "refused", "拒签"
    NOT_PRESENT = "not_present", "当事人不在场"
    PENDING = "pending", "待签"


class ApprovalAction(models.TextChoices):
    """Actions that need internal approval (第五条, 第十九条)."""

    FILING = "filing", "立案"
    INVESTIGATION_END = "investigation_end", "调查终结"
    INVESTIGATION_EXTENSION = "investigation_extension", "延长调查期限"
    LEGAL_REVIEW = "legal_review", "法制审核"
    PENALTY_DECISION = "penalty_decision", "处罚决定"
    ENFORCEMENT = "enforcement", "强制执行"
    CLOSING = "closing", "结案"
    WAIVER = "waiver", "缺项说明（豁免）"
    EVIDENCE_PRESERVATION = "evidence_preservation", "证据先行登记保存"
    SEIZURE_EXTENSION = "seizure_extension", "延长查封扣押"


class ApprovalDecision(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "同意"
    REJECTED = "rejected", "不同意"


class ServiceMethod(models.TextChoices):
    """Methods of service (送达); 留置送达 and 公告送达 require audio-visual recording (第五条)."""

    DIRECT = "direct", "直接送达"
    LEFT_AT_PREMISES = "left_at_premises", "留置送达"
    POSTAL = "postal", "邮寄送达"
    PUBLIC_NOTICE = "public_notice", "公告送达"
    ELECTRONIC = "electronic", "电子送达"
    ENTRUSTED = "entrusted", "委托送达"
