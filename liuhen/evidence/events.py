"""Audit actions of the evidence vault (第二十六条 (三): reads and refusals are logged too),
and its domain events (``liuhen.core.domain_events``).

Shared by both vault engineers: add new actions here, do not rename existing ones (they are
stored in the hash-chained audit log).
"""

from liuhen.core.domain_events import DomainEvent

# Pages and playback (views.py).
event_recording_viewed = "recording.viewed"
event_recording_listed = "recording.listed"
event_recording_streamed = "recording.streamed"
event_recording_downloaded = "recording.downloaded"
event_recording_late_report_viewed = "recording.late_report_viewed"
event_upload_page_viewed = "recording.upload_page_viewed"

# Derived media (tasks.py).
event_recording_derived = "recording.derived"
event_recording_derivation_failed = "recording.derivation_failed"

# Ingest, links and marks (services.py, api.py, tus.py, the ingest station).
event_recording_stored = "recording.stored"
event_recording_duplicate_submitted = "recording.duplicate_submitted"
event_recording_refused = "recording.refused"
event_recording_linked = "recording.linked"
event_recording_case_linked = "recording.case_linked"
event_recording_case_unlinked = "recording.case_unlinked"
event_recording_links_viewed = "recording.links_viewed"
event_recording_modification_refused = "recording.modification_refused"
event_recording_marked = "recording.marked"
event_recording_digest_queried = "recording.digest_queried"
event_submissions_viewed = "recording.submissions_viewed"
event_mark_viewed = "recording.mark_viewed"  # one mark opened in the admin
event_upload_created = "upload.created"
event_upload_terminated = "upload.terminated"
event_upload_refused = "upload.refused"

# Fixity (fixity.py).
event_fixity_checked = "fixity.checked"
event_fixity_failed = "fixity.failed"
event_fixity_orphan = "fixity.orphan"
event_fixity_run = "fixity.run"
event_fixity_listed = "fixity.listed"
event_fixity_viewed = "fixity.viewed"  # one check opened in the admin

# Disposal (the one path that deletes an original: disposal.py, called by keeping).
event_recording_disposed = "recording.disposed"
event_recording_object_erased = "recording.object_erased"
event_recording_disposal_refused = "recording.disposal_refused"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_recording_viewed: "查看音像记录",
    event_recording_listed: "查看音像记录列表",
    event_recording_streamed: "播放音像记录",
    event_recording_downloaded: "下载音像记录原件",
    event_recording_late_report_viewed: "查看逾期上传报告",
    event_upload_page_viewed: "打开上传页面",
    event_recording_derived: "生成播放用派生文件",
    event_recording_derivation_failed: "派生文件生成失败",
    event_recording_stored: "存储音像记录",
    event_recording_duplicate_submitted: "重复提交音像记录",
    event_recording_refused: "拒绝存储音像记录",
    event_recording_linked: "关联音像记录",
    event_recording_case_linked: "音像记录关联案件",
    event_recording_case_unlinked: "结束音像记录与案件的关联",
    event_recording_links_viewed: "查看音像记录的关联",
    event_recording_modification_refused: "拒绝修改音像记录",
    event_recording_marked: "标注音像记录",
    event_recording_digest_queried: "按固定值查询音像记录",
    event_submissions_viewed: "查看提交记录",
    event_mark_viewed: "查看标注",
    event_upload_created: "开始上传",
    event_upload_terminated: "取消上传",
    event_upload_refused: "拒绝上传",
    event_fixity_checked: "固定值校验通过",
    event_fixity_failed: "固定值校验未通过",
    event_fixity_orphan: "发现无记录的存储对象",
    event_fixity_run: "执行固定值校验",
    event_fixity_listed: "查看固定值校验列表",
    event_fixity_viewed: "查看固定值校验",
    event_recording_disposed: "销毁音像记录",
    event_recording_object_erased: "擦除存储对象",
    event_recording_disposal_refused: "拒绝销毁音像记录",
}


# A recording was stored, or its links or marks changed: ``recording=``, ``actor=``. The
# keeping app recomputes its retention (第十四条); cases it is linked to get
# ``cases.events.case_changed`` as well.
recording_changed = DomainEvent("evidence.recording_changed")
