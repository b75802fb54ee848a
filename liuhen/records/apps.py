from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "liuhen.records"
    label = "records"
    verbose_name = "文字记录"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from django.core.exceptions import ImproperlyConfigured

        from liuhen.evidence import fixity
        from liuhen.records.models import Document
        from liuhen.records.services import approval_authority

        # Who may approve what (records/data/approvals.toml, 第五条第四款): a malformed file
        # stops start-up with a message naming it.
        try:
            approval_authority()
        except RuntimeError as exc:
            raise ImproperlyConfigured(f"全过程记录要求数据文件有误：{exc}") from None
        # A document's scan lies in the vault's store like a recording's original: `liuhen
        # verify` re-reads it as its own kind and never calls it an orphan (第二十六条 (二)).
        fixity.register_stored_kind(fixity.StoredKind(
            code="document", label="文字记录扫描件", stored_field="created_at",
            rows=lambda: Document.objects.exclude(storage_key="").filter(disposed_at__isnull=True),
            pending_erasure=lambda: Document.objects.filter(
                disposed_at__isnull=False, disposal__object_erased_at__isnull=True),
        ))
