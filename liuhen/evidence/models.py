"""The evidence vault: stored originals, their marks, derivatives and fixity checks.

An original, once stored, is never altered or deleted (第二十六条 (二)); only derived-media
status and the audited links to case, patrol and party may change.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.access.use import UseTarget
from liuhen.core.per_request import remembered
from liuhen.evidence.choices import (
    CaptureTimeSource,
    DerivationStatus,
    DerivativeKind,
    FixityObjectKind,
    FixityOutcome,
    IngestChannel,
    MarkLabel,
    RecordingFlag,
    RecordingKind,
)

hex64 = RegexValidator(r"^[0-9a-f]{64}$", "应为64位小写十六进制摘要")


class Recording(models.Model):
    """One stored original (video, audio or photo) with what is known about it (第十八条).

    Immutable once created, except ``derivation_status`` and the audited links to case,
    patrol and party. A recording may be evidence in several cases (``case_links``, each
    with who, when and why); ``case`` is the primary link, and the recording takes that
    case's unit. Access follows every link (``scope_links``).
    """

    kind = models.CharField("类型", max_length=8, choices=RecordingKind.choices)
    original_name = models.CharField("原始文件名", max_length=255)
    size = models.BigIntegerField("大小（字节）")
    media_type = models.CharField("媒体类型", max_length=100, default="application/octet-stream")
    container = models.CharField("封装格式", max_length=50, blank=True)
    video_codec = models.CharField("视频编码", max_length=50, blank=True)
    audio_codec = models.CharField("音频编码", max_length=50, blank=True)
    duration_seconds = models.FloatField("时长（秒）", null=True, blank=True)
    width = models.PositiveIntegerField("宽", null=True, blank=True)
    height = models.PositiveIntegerField("高", null=True, blank=True)
    media_info = models.JSONField("媒体信息", default=dict, blank=True)

    captured_start = models.DateTimeField("拍摄开始时间")
    captured_end = models.DateTimeField("拍摄结束时间", null=True, blank=True)
    capture_time_source = models.CharField("拍摄时间来源", max_length=16,
                                           choices=CaptureTimeSource.choices)

    device = models.ForeignKey("devices.Device", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="recordings", verbose_name="设备")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="recordings", verbose_name="执法人员")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="recordings",
                             verbose_name="执法单位")
    patrol = models.ForeignKey("cases.Patrol", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="recordings", verbose_name="日常巡查")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="recordings", verbose_name="案件")
    party = models.ForeignKey("cases.Party", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="recordings", verbose_name="当事人")
    location = models.CharField("地点", max_length=200, blank=True)

    sha256 = models.CharField("SHA-256 摘要", max_length=64, unique=True, validators=[hex64])
    sm3 = models.CharField("SM3 摘要", max_length=64, validators=[hex64])
    storage_key = models.CharField("存储键", max_length=300)
    # The S3 VersionId written at ingest (issue 14 item 5): reads, streams, derivation and
    # fixity use this version only, so a newer version put on the key is never served
    # (第二十六条 (二)). "" for the local folder and for originals stored before pinning.
    # Set once: the database refuses to change it afterwards (triggers.install_version_pin).
    storage_version = models.CharField("对象版本", max_length=200, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="上传人")
    channel = models.CharField("上传方式", max_length=8, choices=IngestChannel.choices)
    stored_at = models.DateTimeField("存储时间", default=timezone.now)

    # 第十三条: stored within 24 hours after the end of the capture day.
    deadline_at = models.DateTimeField("存储期限")
    late_seconds = models.BigIntegerField("逾期（秒）", default=0)
    is_late = models.BooleanField("逾期存储", default=False, db_index=True)

    readable = models.BooleanField("可解析", default=True)
    read_error = models.TextField("解析错误", blank=True)
    flags = models.JSONField("标记", default=list, blank=True)
    is_flagged = models.BooleanField("有标记", default=False, db_index=True)
    derivation_status = models.CharField("派生处理", max_length=12,
                                         choices=DerivationStatus.choices,
                                         default=DerivationStatus.PENDING)
    # A tombstone (第十四条, disposal): the original was destroyed through the one lawful path
    # (evidence.disposal, with both approvals and the register number); the row, its digests
    # and dates stay, so the audit chain and statistics stay whole.
    disposed_at = models.DateTimeField("销毁时间", null=True, blank=True)
    disposal_register = models.CharField("销毁清册编号", max_length=60, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "音像记录"
        verbose_name_plural = "音像记录"
        ordering = ["-captured_start", "-id"]
        indexes = [
            models.Index(fields=["unit", "-captured_start"], name="rec_unit_captured"),
            models.Index(fields=["-captured_start", "-id"], name="rec_captured"),
            models.Index(fields=["device", "-captured_start"], name="rec_device"),
            models.Index(fields=["officer", "-captured_start"], name="rec_officer"),
            models.Index(fields=["case", "-captured_start"], name="rec_case"),
            models.Index(fields=["kind", "-captured_start"], name="rec_kind"),
            # List filters within a unit (vault pages): a "late" or "flagged" or kind filter
            # that matches few or none of a unit's rows must not scan all of them.
            models.Index(fields=["unit", "kind", "-captured_start"], name="rec_unit_kind"),
            models.Index(fields=["unit", "-captured_start"], name="rec_unit_late",
                         condition=models.Q(is_late=True)),
            models.Index(fields=["unit", "-captured_start"], name="rec_unit_flagged",
                         condition=models.Q(is_flagged=True)),
            models.Index(fields=["-captured_start", "-id"], name="rec_late",
                         condition=models.Q(is_late=True)),
            models.Index(fields=["-captured_start", "-id"], name="rec_flagged",
                         condition=models.Q(is_flagged=True)),
            # Case and party searches (an id list from the case or party text): the matches of
            # each id in capture order, within one unit for a unit's own list, so that SQLite
            # does not walk the unit's whole time index looking for the few linked rows
            # (bench/bench_recording_list.py "case cause text", "party text": 30–130 → 0.4–4 ms).
            models.Index(fields=["party", "-captured_start"], name="rec_party",
                         condition=models.Q(party__isnull=False)),
            models.Index(fields=["unit", "case", "-captured_start"], name="rec_unit_case",
                         condition=models.Q(case__isnull=False)),
            models.Index(fields=["unit", "party", "-captured_start"], name="rec_unit_party",
                         condition=models.Q(party__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.sha256[:12]}）"

    @classmethod
    def scope_links(cls, unit_ids):
        """Recordings owned by other units but linked to a case of ``unit_ids``: a unit sees
        the evidence of its own cases (``RestrictedQuerySet.restrict`` ORs this in)."""
        ids = linked_recording_ids(unit_ids)
        return models.Q(pk__in=ids) if ids else None

    def use_target(self) -> UseTarget:
        """What ``access.use.check_use`` needs: the owning unit, every case the recording is
        evidence in, who handles those cases, and who recorded and uploaded it. Built once per
        reading request (``core.per_request``): the recording page asks for the view right and
        the copy right."""
        return remembered(("recording_use_target", self.pk), self._build_use_target)

    def _build_use_target(self) -> UseTarget:
        cases = {c.pk: c for c in self.linked_cases()}
        handled = [c for c in cases.values() if c.is_handled]
        handling = frozenset().union(*(c.handling_user_ids() for c in handled))
        producers = {self.uploaded_by_id}
        if self.officer_id:
            producers.add(self.officer.user_id)
        return UseTarget(type="evidence.recording", id=str(self.pk), label=str(self)[:200],
                         unit=self.unit, case_ids=frozenset(cases), handling_user_ids=handling,
                         producer_user_ids=frozenset(producers),
                         open=not cases or bool(handled))

    def linked_cases(self) -> list:
        """The primary case and the cases of active links (each recording's evidence role)."""
        found = [self.case] if self.case_id else []
        found += [link.case for link in self.active_links() if link.case_id != self.case_id]
        return found

    def active_links(self) -> tuple[CaseLink, ...]:
        """Its active case links with their cases, primary first; read once per reading
        request (``core.per_request``). The recording page needed them ten times (the use
        rights, retention, long-term marks, legal holds, the confidentiality mark and its
        panel), each a query of its own. Callers read them and change nothing."""

        def read() -> tuple[CaseLink, ...]:
            # Ordered by the link's own columns: the model's ordering starts with the
            # recording, which joined evidence_recording to sort the links of one recording.
            return tuple(
                CaseLink.objects.filter(recording_id=self.pk, ended_at__isnull=True)
                .select_related("case", "case__unit")
                .order_by("-is_primary", "linked_at", "id")
            )

        return remembered(("recording_active_links", self.pk), read)

    def mark_list(self) -> tuple:
        """Its marks (标注) by offset, with who made them; read once per reading request
        (``core.per_request``: the recording page shows them, its retention panel asks whether
        one shows a party refusing to sign, 第十五条). Ordered by the mark's own columns (the
        model's ordering starts with the recording, which joined evidence_recording)."""

        def read() -> tuple:
            return tuple(self.marks.select_related("created_by", "created_by__officer")
                         .order_by("offset_seconds", "id"))

        return remembered(("recording_marks", self.pk), read)

    def active_case_ids(self) -> list[int]:
        """The cases of its active links (``active_links``), primary first."""
        return [link.case_id for link in self.active_links()]

    @property
    def flag_labels(self) -> list[str]:
        return [RecordingFlag(f).label if f in RecordingFlag.values else f for f in self.flags]


def linked_recording_ids(unit_ids) -> list[int]:
    """Ids of recordings whose own unit is outside ``unit_ids`` but which an active link ties
    to a case of one of them. A literal list, usually short (cross-unit links are few), so the
    list queries keep their per-unit index scans (see ``RestrictedQuerySet.restrict``).

    Only secondary links can cross units: a recording belongs to its primary case's unit
    (``links.py`` moves it there with the link; ingest puts it there). Reading them through
    their own partial index (``caselink_secondary``) instead of every active link of the
    units' cases, and without the model's ordering (which joined every recording to sort
    it), took this query, run by every ``restrict()`` of a unit-scoped user, from 111 ms to
    0.4 ms for a detachment on 100,000 recordings (bench_pages_load.py, issue 9 item 3).

    No DISTINCT in SQL: with it SQLite's planner walked every link in ``recording_id`` order
    (to drop duplicates as it went) instead of the partial index, 20,000 links for each call
    on 100,000 recordings (64 ms, 4 calls per recording page), ten times that on a million;
    without it the partial index is the plan. Duplicates (a recording in two cases of the
    scope) are dropped here, in first-seen order. Read once per reading request
    (``core.per_request``): a unit head's recording page asked it four times."""
    units = sorted(unit_ids)

    def read() -> tuple[int, ...]:
        rows = (
            CaseLink.objects.filter(ended_at__isnull=True, is_primary=False,
                                    case__unit_id__in=units)
            .exclude(recording__unit_id__in=units)
            .order_by()
            .values_list("recording_id", flat=True)
        )
        return tuple(dict.fromkeys(rows))

    return list(remembered(("linked_recording_ids", tuple(units)), read))


class _RecordingChild:
    """Child rows of a recording are seen wherever the recording is (its case links too)."""

    @classmethod
    def scope_links(cls, unit_ids):
        ids = linked_recording_ids(unit_ids)
        return models.Q(recording_id__in=ids) if ids else None


class CaseLink(models.Model):
    """A recording's link to one case: who linked it, when and why (第十四条, 第十八条).

    One recording can be evidence in several cases (a patrol recording that led to a case,
    one visit concerning two employers). Completeness, access and retention follow every
    active link. A link is never deleted: ending it records who, when and why. At most one
    active link is primary; ``Recording.case`` mirrors it (and the recording's unit is that
    case's unit).
    """

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="case_links",
                                  verbose_name="音像记录")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT,
                             related_name="recording_links", verbose_name="案件")
    is_primary = models.BooleanField("主关联", default=False)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="关联人")
    linked_at = models.DateTimeField("关联时间", default=timezone.now)
    reason = models.CharField("关联理由", max_length=500)
    ended_at = models.DateTimeField("解除时间", null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name="解除人")
    end_reason = models.CharField("解除理由", max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "音像记录与案件的关联"
        verbose_name_plural = "音像记录与案件的关联"
        ordering = ["recording", "-is_primary", "linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "case"],
                                    condition=models.Q(ended_at__isnull=True),
                                    name="caselink_one_active_per_case"),
            models.UniqueConstraint(fields=["recording"],
                                    condition=models.Q(ended_at__isnull=True, is_primary=True),
                                    name="caselink_one_primary"),
        ]
        indexes = [
            models.Index(fields=["case", "recording"], name="caselink_active_case",
                         condition=models.Q(ended_at__isnull=True)),
            # The few links that can tie a recording to another unit (linked_recording_ids).
            models.Index(fields=["case"], name="caselink_secondary",
                         condition=models.Q(ended_at__isnull=True, is_primary=False)),
        ]

    def __str__(self) -> str:
        return f"{self.recording_id} → {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class DisposalApproval(models.Model):
    """What every disposal permit carries, a recording's (:class:`RecordingDisposal`) and a
    stored record's (:class:`DisposalPermit`) alike (第十四条): the 销毁清册 number, the records
    keeper's proposal, both approvals (unit head and legal affairs office, two different
    people: the database checks it, ``triggers.py``), the retention that ended, who executed it
    and when, and the erasure of the stored object."""

    register_number = models.CharField("销毁清册编号", max_length=60)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="提出人（档案管理人员）")
    proposed_at = models.DateTimeField("提出时间")
    unit_head_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                              related_name="+", verbose_name="单位负责人")
    unit_head_approved_at = models.DateTimeField("单位负责人批准时间")
    legal_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                          related_name="+", verbose_name="法制机构")
    legal_approved_at = models.DateTimeField("法制机构批准时间")
    retention = models.JSONField("保存期限依据", default=dict, blank=True)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="执行人")
    executed_at = models.DateTimeField("执行时间", default=timezone.now)
    object_erased_at = models.DateTimeField("文件删除时间", null=True, blank=True)
    erase_detail = models.JSONField("删除情况", default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["-executed_at", "-id"]


class RecordingDisposal(_RecordingChild, DisposalApproval):
    """The authority for destroying one original, and what remains of it (a tombstone).

    Written once by ``evidence.disposal.dispose_original`` (the only path that deletes an
    original, 第二十六条 (二)) after the records keeper's proposal was approved by the unit
    head AND the legal affairs office: the register number (销毁清册), both approvals and the
    retention that ended (:class:`DisposalApproval`). The database lets
    ``Recording.disposed_at`` be set only when this row exists with both approvals by two
    different people (``triggers.py``); this row is never deleted, and afterwards only the
    erasure of the object is recorded on it. The digests stay on the recording's own row.
    """

    recording = models.OneToOneField(Recording, on_delete=models.PROTECT, related_name="disposal",
                                     verbose_name="音像记录")
    object_erased_at = models.DateTimeField("原件删除时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta(DisposalApproval.Meta):
        verbose_name = "原件销毁记录"
        verbose_name_plural = "原件销毁记录"

    def __str__(self) -> str:
        return f"{self.register_number}: {self.recording_id}"

    @property
    def tombstone(self):
        """The row this permit disposed of (storage.check_erase_permit reads it)."""
        return self.recording


class DisposalPermit(DisposalApproval):
    """The permit of a stored record (a written record's scan, a case file's PDF): the
    approvals of :class:`DisposalApproval` and the digests of what was destroyed (the
    record's own row keeps them too, but the permit must show them after the file is gone).

    A concrete permit adds a one-to-one ``tombstone`` field to the row it disposes of."""

    storage_key = models.CharField("存储键", max_length=300, blank=True)
    sha256 = models.CharField("SHA-256 摘要", max_length=64, blank=True)
    sm3 = models.CharField("SM3 摘要", max_length=64, blank=True)
    size = models.BigIntegerField("大小（字节）", null=True, blank=True)

    class Meta(DisposalApproval.Meta):
        abstract = True

    def __str__(self) -> str:
        return f"{self.register_number}: {self.tombstone_id}"


class RecordingSubmission(_RecordingChild, models.Model):
    """Every time bytes were submitted: the first time and each duplicate (same SHA-256)."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT,
                                  related_name="submissions", verbose_name="音像记录")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="提交人")
    channel = models.CharField("上传方式", max_length=8, choices=IngestChannel.choices)
    original_name = models.CharField("原始文件名", max_length=255)
    at = models.DateTimeField("提交时间", default=timezone.now)
    was_duplicate = models.BooleanField("重复提交", default=False)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta:
        verbose_name = "提交记录"
        verbose_name_plural = "提交记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} @ {self.at:%Y-%m-%d %H:%M}"


class Mark(_RecordingChild, models.Model):
    """A labelled point on a recording's timeline, one regulation item each (第六条, 第八条)."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="marks",
                                  verbose_name="音像记录")
    offset_seconds = models.FloatField("时间点（秒）")
    label = models.CharField("标注", max_length=32, choices=MarkLabel.choices)
    note = models.CharField("说明", max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="标注人")
    created_at = models.DateTimeField("标注时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta:
        verbose_name = "标注"
        verbose_name_plural = "标注"
        ordering = ["recording", "offset_seconds", "id"]

    def __str__(self) -> str:
        return f"{self.get_label_display()} @ {self.offset_seconds:.1f}s"


class Derivative(_RecordingChild, models.Model):
    """A file derived from an original (proxy, poster, thumbnail); never replaces it."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT,
                                  related_name="derivatives", verbose_name="音像记录")
    kind = models.CharField("类型", max_length=12, choices=DerivativeKind.choices)
    storage_key = models.CharField("存储键", max_length=300, unique=True)
    size = models.BigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256 摘要", max_length=64, validators=[hex64])
    media_type = models.CharField("媒体类型", max_length=100)
    width = models.PositiveIntegerField("宽", null=True, blank=True)
    height = models.PositiveIntegerField("高", null=True, blank=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    tool_version = models.CharField("工具版本", max_length=200)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta:
        verbose_name = "派生文件"
        verbose_name_plural = "派生文件"
        ordering = ["recording", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.recording_id}"


class FixityCheck(_RecordingChild, models.Model):
    """One re-read of a stored original and its outcome; failures are recorded too.

    ``recording`` is null for an orphan (an object in storage with no row) and for the other
    kinds of stored original registered by the apps above (``object_kind`` and ``object_id``
    name the row, e.g. a document scan of the records app).
    """

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="fixity_checks", verbose_name="音像记录")
    object_kind = models.CharField("对象类型", max_length=16, choices=FixityObjectKind.choices,
                                   default=FixityObjectKind.RECORDING, db_index=True)
    object_id = models.PositiveBigIntegerField("对象编号", null=True, blank=True)
    storage_key = models.CharField("存储键", max_length=300)
    at = models.DateTimeField("检查时间", default=timezone.now, db_index=True)
    outcome = models.CharField("结果", max_length=10, choices=FixityOutcome.choices)
    expected_sha256 = models.CharField("应有SHA-256", max_length=64, blank=True)
    found_sha256 = models.CharField("实测SHA-256", max_length=64, blank=True)
    expected_sm3 = models.CharField("应有SM3", max_length=64, blank=True)
    found_sm3 = models.CharField("实测SM3", max_length=64, blank=True)
    tool_version = models.CharField("工具版本", max_length=200)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta:
        verbose_name = "固定值校验"
        verbose_name_plural = "固定值校验"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["outcome", "-at"], name="fixity_outcome")]

    def __str__(self) -> str:
        return f"{self.storage_key}: {self.get_outcome_display()}"


class UploadSession(models.Model):
    """An unfinished (or just finished) tus upload; private to its uploader.

    ``offset`` is written only after the received bytes are fsynced, so after a crash the
    client resumes from a point that is really on disk.
    """

    id = models.UUIDField("上传编号", primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name="上传人")
    channel = models.CharField("上传方式", max_length=8, choices=IngestChannel.choices,
                               default=IngestChannel.TUS)
    length = models.BigIntegerField("总长度")
    offset = models.BigIntegerField("已接收", default=0)
    metadata = models.JSONField("元数据", default=dict, blank=True)
    declared_sha256 = models.CharField("声明SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="音像记录")
    duplicate = models.BooleanField("重复提交", default=False)
    error = models.JSONField("错误", default=dict, blank=True)
    # The running digests live in one process (the hasher, leased here) that follows the
    # partial file as it grows, whichever worker or node receives a PATCH (uploads/hashing.py).
    hasher = models.CharField("计算摘要的进程", max_length=120, blank=True)
    hasher_until = models.DateTimeField("摘要租约到期", null=True, blank=True)
    hashed_offset = models.BigIntegerField("已计算摘要", default=0)
    sha256 = models.CharField("SHA-256 摘要", max_length=64, blank=True)
    sm3 = models.CharField("SM3 摘要", max_length=64, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "user__officer__unit"

    class Meta:
        verbose_name = "上传会话"
        verbose_name_plural = "上传会话"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.metadata.get('filename', '')} {self.offset}/{self.length}"
