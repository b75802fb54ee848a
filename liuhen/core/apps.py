from django.apps import AppConfig
from django.apps import apps as app_registry
from django.core.exceptions import FieldDoesNotExist

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

# Their fields' labels on the admin pages: model label → {field: label}. Only the label shown
# (``verbose_name``) changes: the field's deconstruction reads ``_verbose_name``, so the apps'
# migrations do not see a change.
_AXES_FIELDS = {"user_agent": "浏览器标识", "ip_address": "IP 地址", "username": "用户名",
                "http_accept": "HTTP Accept 头", "path_info": "路径", "attempt_time": "尝试时间",
                "get_data": "GET 参数", "post_data": "POST 参数",
                "failures_since_start": "失败次数", "logout_time": "退出时间",
                "session_hash": "会话标识摘要（SHA-256）", "locked_out": "已锁定"}
THIRD_PARTY_FIELDS = {
    "otp_totp.totpdevice": {
        "user": "用户", "name": "名称", "confirmed": "已确认", "key": "密钥", "step": "时间步长（秒）",
        "t0": "起始时间", "digits": "位数", "tolerance": "容差", "drift": "时钟漂移",
        "last_t": "最后使用的时间步", "throttling_failure_timestamp": "最近失败时间",
        "throttling_failure_count": "连续失败次数", "created_at": "创建时间",
        "last_used_at": "最后使用时间"},
    "axes.accessattempt": _AXES_FIELDS,
    "axes.accesslog": _AXES_FIELDS,
    "axes.accessfailurelog": _AXES_FIELDS,
    "django_tasks_database.dbtaskresult": {
        "id": "任务编号", "status": "状态", "enqueued_at": "入队时间", "started_at": "开始时间",
        "finished_at": "完成时间", "args_kwargs": "参数", "priority": "优先级",
        "task_path": "任务", "worker_ids": "执行进程", "queue_name": "队列",
        "backend_name": "后端", "run_after": "最早执行时间", "return_value": "返回值",
        "exception_class_path": "异常类型", "traceback": "错误堆栈"},
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
    for model_label, fields in THIRD_PARTY_FIELDS.items():
        try:
            model = app_registry.get_model(model_label)
        except LookupError:
            continue
        for name, label in fields.items():
            try:
                model._meta.get_field(name).verbose_name = label
            except FieldDoesNotExist:  # a field renamed upstream keeps its own label
                continue


class CoreConfig(AppConfig):
    name = "liuhen.core"
    label = "core"
    verbose_name = "系统"

    def ready(self):
        from liuhen.core.limits import install_messages

        name_third_party_apps()
        install_messages()
