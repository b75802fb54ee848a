from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "liuhen.evidence"
    label = "evidence"
    verbose_name = "音像记录"

    def ready(self):
        from liuhen.audit.anchors import register_anchor_store
        from liuhen.evidence import checks  # noqa: F401 (registers the system check)
        from liuhen.evidence.anchors import EvidenceAnchorStore

        register_anchor_store(EvidenceAnchorStore())
