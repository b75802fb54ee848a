"""Choices of the evidence vault (音像记录), with the labels the UI shows."""

from django.db import models


class RecordingKind(models.TextChoices):
    VIDEO = "video", "视频"
    AUDIO = "audio", "音频"
    PHOTO = "photo", "照片"
    OTHER = "other", "其他"


class CaptureTimeSource(models.TextChoices):
    """Where a recording's capture time came from, best first (第十八条: time of use)."""

    METADATA = "metadata", "媒体元数据"
    EXIF = "exif", "EXIF"
    FILENAME = "filename", "文件名"
    UPLOADER = "uploader", "上传人填写"
    UPLOAD_TIME = "upload_time", "上传时间（无其他来源）"


class IngestChannel(models.TextChoices):
    WEB = "web", "网页上传"
    TUS = "tus", "API上传"
    STATION = "station", "采集站"


class RecordingFlag(models.TextChoices):
    """Reasons a recording was accepted (it is evidence) but needs a second look."""

    UNREADABLE = "unreadable", "无法解析"
    DEVICE_FAULTY = "device_faulty", "设备故障"
    DEVICE_RETIRED = "device_retired", "设备已报废"
    DEVICE_OTHER_UNIT = "device_other_unit", "设备属其他单位"
    DEVICE_UNDER_REPAIR = "device_under_repair", "设备维修中"
    DEVICE_UNASSIGNED = "device_unassigned", "设备当时无人领用或配发"
    DEVICE_HELD_BY_OTHER = "device_held_by_other", "设备当时由他人持有"
    OFFICER_OTHER_UNIT = "officer_other_unit", "执法人员属其他单位"
    LATE = "late", "超过24小时存储"
    TIME_UNKNOWN = "time_unknown", "拍摄时间不明"


class MarkLabel(models.TextChoices):
    """What a mark on a recording's timeline shows, one item of the regulation each."""

    # 第六条: 程序启动、调查取证、审查决定、送达执行等环节
    CREDENTIALS_SHOWN = "credentials_shown", "表明身份出示证件"
    PARTY_IDENTITY_CHECKED = "party_identity_checked", "当事人到场及身份核实"
    DOCUMENTS_READ = "documents_read", "宣读催告书/决定书"
    STATEMENT_HEARD = "statement_heard", "听取陈述申辩"
    PARTY_SIGNED = "party_signed", "当事人签收或确认文书"
    # 第八条: 日常巡查、行政检查
    VEHICLE_USED = "vehicle_used", "执法车辆使用"
    OFFICER_CONDUCT = "officer_conduct", "执法人员风纪"
    INSPECTED_PARTY = "inspected_party", "被检查对象情况"
    PREMISES_GOODS = "premises_goods", "被检查场所物品"
    INSPECTION_CONDUCT = "inspection_conduct", "检查行为实施"
    # 第二十条
    RECORDING_NOTICE = "recording_notice", "告知当事人正在录音录像"
    # 第五条
    SIGNATURE_REFUSED = "signature_refused", "当事人拒绝签字"
    SERVICE_LEFT = "service_left", "留置送达"
    SERVICE_PUBLIC_NOTICE = "service_public_notice", "公告送达"
    OTHER = "other", "其他"


class DerivativeKind(models.TextChoices):
    PROXY = "proxy", "播放代理"
    POSTER = "poster", "封面"
    THUMBNAIL = "thumbnail", "缩略图"


class FixityOutcome(models.TextChoices):
    OK = "ok", "一致"
    MISMATCH = "mismatch", "不一致"
    MISSING = "missing", "缺失"
    ERROR = "error", "错误"
    # The pinned version is intact, but another version was put on the original's S3 key: an
    # attempt to alter it (第二十六条 (二)); the new bytes are never served (issue 14 item 5).
    NEW_VERSION = "tampered", "存储键上出现新版本（疑似篡改）"


class FixityObjectKind(models.TextChoices):
    """What a fixity check re-read: a recording's original, or another kind of stored original
    that an app above registers (``fixity.register_stored_kind``: the records app's document
    scans, 第二十六条 (二) covers 文字记录 as much as 音像记录; the keeping app's case-file PDFs,
第十二条), or an orphan object."""

    RECORDING = "recording", "音像记录"
    DOCUMENT = "document", "文字记录扫描件"
    CASE_FILE = "case_file", "卷宗"
    ORPHAN = "orphan", "孤立对象"


class DerivationStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    DONE = "done", "已完成"
    NOT_NEEDED = "not_needed", "无需处理"
    FAILED = "failed", "失败"
