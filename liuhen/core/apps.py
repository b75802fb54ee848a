from django.apps import AppConfig
from django.apps import apps as app_registry

# The admin of third-party apps in the bureau's words (issue 13 item 1): app label → (app name,
# {model name: (verbose_name, verbose_name_plural)}). Django's own apps are translated already.
THIRD_PARTY_NAMES = {
    "django_otp": ("动态口令", {}),
    "otp_totp": ("动态口令（TOTP）", {"totpdevice": ("动态口令设备", "动态口令设备")}),
    "axes": ("登录防护", {
        "accessattempt": ("登录尝试", "登录尝试"),
        "accessfailurelog": ("登录失败记录", "登录失败记录"),
        "accessattemptexpiration": ("登录尝试有效期", "登录尝试有效期"),
        "accesslog": ("登录记录", "登录记录"),
    }),
    "django_tasks": ("后台任务", {}),
    "django_tasks_database": ("后台任务结果", {"dbtaskresult": ("任务结果", "任务结果")}),
    "django_rq": ("任务队列", {}),
    "humanize": ("数字与日期格式", {}),
}


def name_third_party_apps() -> None:
    for label, (name, models) in THIRD_PARTY_NAMES.items():
        try:
            config = app_registry.get_app_config(label)
        except LookupError:  # django_rq only with Redis
            continue
        config.verbose_name = name
        for model_name, (singular, plural) in models.items():
            try:
                meta = config.get_model(model_name)._meta
            except LookupError:
                continue
            meta.verbose_name, meta.verbose_name_plural = singular, plural


class CoreConfig(AppConfig):
    name = "liuhen.core"
    label = "core"
    verbose_name = "系统"

    def ready(self):
        name_third_party_apps()
