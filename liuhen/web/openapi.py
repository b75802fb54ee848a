"""The error answers every API operation can give, written into the OpenAPI document (issue 16
item 15): before, the document declared only 200/201, so clients and fuzzers could not tell a
documented refusal from a fault.

Every error is the same JSON object, ``{code, message, detail?, request_id}`` (``ErrorOut``), whatever the
status. Which statuses an operation can give follows from what it takes and does, by one rule
that ``web/tests/test_openapi_errors.py`` checks against real answers for every operation:

- every operation: 401 (no session or token), 403 (the role may not do it, 第十六条; or the
  CSRF check of a session), 503 (database or disk unavailable, ``core.outage``), 414 and 431
  (a request line or headers longer than the HTTP server takes: ``web.http_errors``, found by
  Schemathesis);
- it takes input (path, query or body): 400 (a value the service refuses, a number out of
  range, malformed JSON) and 422 (a value of the wrong type or shape);
- it names an object in its path, or changes something: 404 (missing, or not visible to the
  caller: the same answer, so existence is not revealed);
- it changes something: 409 (the object's state does not allow it, e.g. a stage change).

Anything else a server answers (a 500) is a fault, never part of the contract.
"""

from __future__ import annotations

ERROR_SCHEMA_NAME = "ErrorOut"

ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "错误：稳定的代码和中文说明；detail 给出字段等细节（可选）。",
    "properties": {
        "code": {"title": "Code", "type": "string", "minLength": 1,
                 "description": "稳定的错误代码，如 invalid_input、not_found、forbidden"},
        "message": {"title": "Message", "type": "string", "minLength": 1,
                    "description": "中文说明"},
        "detail": {"title": "Detail", "type": "object"},
        "request_id": {"title": "Request Id", "type": "string",
                       "description": "请求编号（与响应头 X-Request-ID 相同），报告问题时请提供"},
    },
    "required": ["code", "message"],
}

ERROR_DESCRIPTIONS = {
    400: "输入无法接受（数值超出范围、JSON 无法解析、业务规则不允许）",
    401: "未登录或 API 令牌无效",
    403: "无权执行此操作（或会话的 CSRF 校验未通过）",
    404: "对象不存在或无权访问",
    409: "与对象当前状态冲突",
    414: "请求地址过长（含查询参数，请求行超过 4094 字节）",
    422: "输入的类型或格式有误（detail.fields 列出字段）",
    431: "请求头过大",
    503: "数据库或存储暂不可用，未保存任何内容；请按 Retry-After 稍后重试",
}

UNSAFE_METHODS = {"post", "put", "patch", "delete"}


def error_statuses(method: str, operation: dict) -> list[int]:
    """The error statuses the rule above gives one operation of the document."""
    params = operation.get("parameters") or []
    takes_input = bool(params) or "requestBody" in operation
    names_object = any(p.get("in") == "path" for p in params)
    changes = method.lower() in UNSAFE_METHODS
    statuses = {401, 403, 414, 431, 503}
    if takes_input:
        statuses |= {400, 422}
    if names_object or changes:
        statuses.add(404)
    if changes:
        statuses.add(409)
    return sorted(statuses)


def add_error_responses(schema: dict) -> dict:
    """Declare ``ErrorOut`` and each operation's error statuses in an OpenAPI document."""
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = \
        ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                entry = {"description": ERROR_DESCRIPTIONS[status],
                         "content": {"application/json": {"schema": ref}}}
                if status == 503:
                    entry["headers"] = {"Retry-After": {
                        "description": "建议等待的秒数", "schema": {"type": "integer"}}}
                responses.setdefault(status, entry)
    return schema
