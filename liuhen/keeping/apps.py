from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class KeepingConfig(AppConfig):
    """Keeping the records (第十二条至第十五条): retention periods, legal holds, disposal,
    case files and long-term preservation."""

    name = "liuhen.keeping"
    label = "keeping"
    verbose_name = "档案保管"

    def ready(self):
        # Imported here: models may only be imported once the app registry is ready.
        from liuhen.core import display
        from liuhen.evidence import fixity
        from liuhen.keeping import checks  # noqa: F401 (registers the system check)
        from liuhen.keeping.models import CaseFile
        from liuhen.keeping.retention import RetentionDataError, load_table

        # The retention table is data (keeping/data/retention.toml): a malformed file stops
        # start-up naming the row, instead of computing disposal dates wrongly.
        try:
            load_table()
        except RetentionDataError as exc:
            raise ImproperlyConfigured(f"保存期限表有误：{exc}") from None
        # 保存期限表的条目名称 (core.display, issue 13 item 1): "recording.patrol" reads as its title.
        display.register_codes(lambda: {row.id: row.title for row in load_table().rows})
        # A case file's PDF lies in the vault's store (casefiles/…): `liuhen verify` re-reads
        # every version, drafts and bound ones, against the digests on its row (第十二条: a
        # bound file is immutable; the triggers guard the row, this the bytes).
        fixity.register_stored_kind(fixity.StoredKind(
            code="case_file", label="卷宗", stored_field="assembled_at",
            rows=lambda: CaseFile.objects.exclude(storage_key="").filter(disposed_at__isnull=True),
            pending_erasure=lambda: CaseFile.objects.filter(
                disposed_at__isnull=False, disposal__object_erased_at__isnull=True),
        ))
