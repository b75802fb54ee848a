from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "liuhen.access"
    label = "access"
    verbose_name = "权限与令牌"

    def ready(self):
        from liuhen.access import otp  # noqa: F401  (who must use TOTP is decided at login)
        from liuhen.access.permissions import ACTIONS
        from liuhen.access.use import BY_RIGHT
        from liuhen.core import display

        # 权限的名称 (issue 13 item 1): "recording.upload" reads 上传音像记录 wherever it shows.
        display.register_codes(lambda: dict(ACTIONS))
        # The right a use relied on (an audit entry's "依据"): the by-right rows and a grant.
        display.register_codes(lambda: {row.code: row.label for row in BY_RIGHT}
                               | {"grant": "经批准的调阅授权（第十六条）"})
