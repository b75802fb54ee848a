"""Audit actions of what leaves the bureau: party copies (第十七条第二款), supplies to review
bodies and courts (第十七条第三款)."""

event_copy_registered = "party_copy.registered"
event_copy_approved = "party_copy.approved"
event_copy_refused = "party_copy.refused"
event_copy_made = "party_copy.made"
event_copy_handed_over = "party_copy.handed_over"
event_copy_downloaded = "party_copy.downloaded"
event_copies_viewed = "party_copy.list_viewed"
event_copy_plan_set = "party_copy.plan_set"
event_copy_previewed = "party_copy.previewed"

event_supply_registered = "supply.registered"
event_supply_approved = "supply.approved"
event_supply_refused = "supply.refused"
event_supply_built = "supply.built"
event_supply_supplied = "supply.supplied"
event_supply_downloaded = "supply.downloaded"
event_supply_checked = "supply.checked"
event_supplies_viewed = "supply.register_viewed"
event_supplies_exported = "supply.register_exported"
event_mark_set = "confidentiality.marked"
event_document_viewer_opened = "document.viewer_opened"
event_unusual_viewed = "use.unusual_viewed"
event_unusual_thresholds_set = "use.unusual_thresholds_set"

# Internal copies and exports under a grant (复制、拷贝/导出, 第十六条): the entry of a use names
# the record (its chain of custody shows it) and the grant number.
event_record_copied = "record.copied"
event_copy_file_downloaded = "record.copy_downloaded"
event_record_exported = "record.exported"
event_export_made = "export.made"
event_export_downloaded = "export.downloaded"
event_use_register_viewed = "use.register_viewed"

# 审计操作的名称 (core.display, issue 13 item 1): what the audit log page and its exports show.
ACTION_LABELS = {
    event_copy_registered: "登记当事人复制申请",
    event_copy_approved: "批准当事人复制",
    event_copy_refused: "拒绝当事人复制",
    event_copy_made: "制作当事人复制件",
    event_copy_handed_over: "交付当事人复制件",
    event_copy_downloaded: "下载当事人复制件",
    event_copies_viewed: "查看当事人复制登记",
    event_copy_plan_set: "制定复制件遮挡方案",
    event_copy_previewed: "预览复制件遮挡效果（查看原件画面）",
    event_supply_registered: "登记复议、诉讼调取",
    event_supply_approved: "批准向复议机关、法院提供",
    event_supply_refused: "不批准向复议机关、法院提供",
    event_supply_built: "制作提供证据包",
    event_supply_supplied: "登记已提供证据包",
    event_supply_downloaded: "下载提供证据包",
    event_supply_checked: "核对留存证据包",
    event_supplies_viewed: "查看提供登记",
    event_supplies_exported: "导出提供登记",
    event_mark_set: "设定保密标记",
    event_document_viewer_opened: "在水印阅览器中查阅文字记录",
    event_unusual_viewed: "查看异常使用",
    event_unusual_thresholds_set: "调整异常使用阈值",
    event_record_copied: "制作加水印的复制件（第十六条）",
    event_copy_file_downloaded: "下载加水印的复制件",
    event_record_exported: "拷贝/导出记录（第十六条）",
    event_export_made: "制作拷贝/导出包",
    event_export_downloaded: "下载拷贝/导出包",
    event_use_register_viewed: "查看复制与拷贝/导出登记",
}

# Detail fields of the supply entries (core.display): what a package built, checked or handed
# over was (第十七条第三款, 复制留存).
DETAIL_LABELS = {
    "package": "证据包编号",
    "manifest_sha256": "清单的 SHA-256 摘要",
    "zip_sha256": "压缩包的 SHA-256 摘要",
    "zip_sm3": "压缩包的 SM3 摘要",
    "files": "文件数",
    "key_fingerprint": "Ed25519 签名公钥指纹",
    "sm2_key_fingerprint": "SM2 签名公钥指纹",
    "how": "提供方式",
    "zip_ok": "压缩包与登记一致",
    "package_ok": "留存件核验通过",
    "failures": "未通过项",
    "copy": "复制件编号",
    "preview_at": "预览画面的时间点（秒）",
    "export": "导出编号",
    "source_sha256": "原件的 SHA-256 摘要",
    "source_sm3": "原件的 SM3 摘要",
    "skipped": "未导出（格式不能加水印）",
    "case_file": "附入的卷宗",
    "archive_number": "档号",
    "auto_faces": "自动人脸模糊",
    "boxes": "手动遮挡框数",
    "mutes": "静音区间数",
    "suppressions": "取消的自动检测框",
    "track": "检测框编号",
    "x": "区域横坐标",
    "y": "区域纵坐标",
    "w": "区域宽",
    "h": "区域高",
}
