from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "liuhen.disclosure"
    label = "disclosure"
    verbose_name = "对外提供"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from liuhen.access.use import register_use_limit
        from liuhen.core import display, inbox
        from liuhen.disclosure import inbox as disclosure_inbox
        from liuhen.disclosure.marks import use_limit

        # 第十七条第四款: a record marked 国家秘密 is never copied or exported through the system.
        register_use_limit(use_limit)
        # The right a redaction preview relies on (services._preview_right).
        display.register_codes(lambda: {"party_copy": "办理当事人复制申请（登记人、审批人）"})
        # 待办: approvals of the leader in charge, supplies still to answer.
        inbox.register("disclosure_approvals", disclosure_inbox.approvals, order=15)
        inbox.register("disclosure_supplies", disclosure_inbox.supplies_due, order=95)
