"""Errors that services raise. Each carries a stable code and a Chinese message, which the API
returns as JSON and the pages show; none of them ever becomes a 500."""

from __future__ import annotations


class LiuhenError(Exception):
    code = "error"
    status = 400
    message = "请求无法完成"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, detail: dict | None = None):
        self.message = message or self.message
        if code:
            self.code = code
        if status:
            self.status = status
        self.detail = detail or {}
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body


class InvalidInput(LiuhenError):
    code = "invalid_input"
    status = 400
    message = "输入有误"


class NotFound(LiuhenError):
    """Also what a forbidden object answers, so its existence is not revealed."""

    code = "not_found"
    status = 404
    message = "对象不存在或无权访问"


class Forbidden(LiuhenError):
    code = "forbidden"
    status = 403
    message = "无权执行此操作"


class Conflict(LiuhenError):
    code = "conflict"
    status = 409
    message = "与当前状态冲突"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message = "不允许的环节变更"


class UnqualifiedOfficer(LiuhenError):
    code = "officer_unqualified"
    status = 400
    message = "执法人员不具备执法资格（依据第十一条）"


class StorageUnavailable(LiuhenError):
    code = "storage_unavailable"
    status = 503
    message = "存储暂不可用，未保存任何内容，请稍后重试"
