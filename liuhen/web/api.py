"""The JSON API: one NinjaAPI assembling every app's router, token or session auth, errors as
{code, message, detail?, request_id}."""

from __future__ import annotations

from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from liuhen.access.api import router as access_router
from liuhen.access.grant_api import router as grant_router
from liuhen.access.services import authenticate_token
from liuhen.audit import context
from liuhen.cases.api import router as cases_router
from liuhen.core import limits
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.core.middleware import request_id
from liuhen.deadlines.api import router as deadlines_router
from liuhen.devices.api import router as devices_router
from liuhen.disclosure.api import router as disclosure_router
from liuhen.disclosure.use_api import router as use_router
from liuhen.evidence.api import router as evidence_router
from liuhen.keeping.api import router as keeping_router
from liuhen.org.api import router as org_router
from liuhen.records.api import router as records_router
from liuhen.rules.api import router as rules_router
from liuhen.supervision.api import router as supervision_router
from liuhen.web.auditlog.api import router as audit_router
from liuhen.web.openapi import add_error_responses


class TokenAuth(HttpBearer):
    """Personal API tokens (Authorization: Bearer lh_…) for machine clients."""

    def authenticate(self, request, token):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
            request.auth_via_token = True
            context._current.set(context.AuditContext(
                session="token", ip=request.META.get("REMOTE_ADDR", ""), via="api"))
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session; unsafe methods need the CSRF token as for any form."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def _refuse_nul(value, loc: tuple) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError([{"loc": loc, "msg": "不能包含空字符（\\x00）"}])
        if len(value) > limits.MAX_FIELD_CHARS:
            # The net behind the schemas' own limits (issue 13 item 4): never a 500, the field
            # named, code too_long.
            field = ".".join(str(p) for p in loc) or "请求内容"
            raise InvalidInput(limits.TOO_LONG_MESSAGE.format(
                field=field, limit=limits.MAX_FIELD_CHARS, length=len(value)),
                code="too_long", detail={"field": field, "limit": limits.MAX_FIELD_CHARS})
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, loc)
            _refuse_nul(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, (*loc, str(index)))


class LiuhenParser(Parser):
    """JSON and query strings as usual, but text with NUL characters is refused up front:
    PostgreSQL cannot store it, and the insert would otherwise fail as a 500."""

    def parse_body(self, request):
        data = super().parse_body(request)
        _refuse_nul(data, ())
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul(result, ())
        return result


# operationIds are part of the published API (clients generate code from them). django-ninja
# derives them from the view's module; these modules were published under the names they had
# before issue 15 moved them, and keep them (web/tests/fixtures/openapi.json holds them all).
PUBLISHED_MODULE_NAMES = {
    "liuhen.access.api": "liuhen.org.api",
    "liuhen.devices.api": "liuhen.evidence.api",
    "liuhen.records.api": "liuhen.cases.records_api",
    "liuhen.deadlines.api": "liuhen.rules.deadline_api",
    "liuhen.web.auditlog.api": "liuhen.audit.api",
}


class LiuhenAPI(NinjaAPI):
    """NinjaAPI whose operationIds stay as published (``PUBLISHED_MODULE_NAMES``)."""

    def get_openapi_operation_id(self, operation) -> str:
        module = operation.view_func.__module__
        name = PUBLISHED_MODULE_NAMES.get(module, module)
        return f"{name}_{operation.view_func.__name__}".replace(".", "_")

    def validation_error_from_error_contexts(self, error_contexts):
        # django-ninja drops each error's input; keep the length of a text over its limit so
        # the message can say how long it was (issue 13 item 4: 最多 N 个字（现有 M 个字）).
        lengths = {}
        for ctx in error_contexts:
            model = ctx.model
            for err in ctx.pydantic_validation_error.errors(include_url=False):
                if err.get("type") == "string_too_long" and isinstance(err.get("input"), str):
                    loc = (model.__ninja_param_source__,) + \
                        model.__ninja_flatten_map_reverse__.get(err["loc"], err["loc"])
                    lengths[loc] = len(err["input"])
        exc = super().validation_error_from_error_contexts(error_contexts)
        for err in exc.errors:
            if tuple(err.get("loc", ())) in lengths:
                err["length"] = lengths[tuple(err["loc"])]
        return exc

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # The error answers each operation can give, with their schema (issue 16 item 15).
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return add_error_responses(schema)


api = LiuhenAPI(
    title="留痕 Liuhen API",
    version="1",
    description=("执法全过程记录系统接口。错误统一返回 JSON 对象 {code, message, detail?, request_id}："
                 "code 为稳定的错误代码，message 为中文说明，detail 给出字段等细节（可选），"
                 "request_id 与响应头 X-Request-ID 相同，报告问题时请提供。"
                 "文本字段的长度上限见各字段的 maxLength。"),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
    parser=LiuhenParser(),
)


def _error(request, status: int, code: str, message: str, detail=None):
    body = {"code": code, "message": message}
    if detail:
        body["detail"] = detail
    body["request_id"] = request_id(request)  # the same id as the X-Request-ID header
    return api.create_response(request, body, status=status)


@api.exception_handler(LiuhenError)
def _liuhen_error(request, exc: LiuhenError):
    return api.create_response(request, {**exc.as_dict(), "request_id": request_id(request)},
                               status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload", "form", "file")]
        entry = {"field": ".".join(loc), "message": err.get("msg", "")}
        if err.get("type") == "string_too_long":
            # The field's own limit (core.limits, declared as maxLength), in plain words.
            limit = err.get("ctx", {}).get("max_length")
            entry.update(code="too_long", limit=limit, message=limits.LENGTH_MESSAGE % {
                "limit_value": limit, "show_value": err.get("length", limit + 1)})
        fields.append(entry)
    return _error(request, 422, "invalid_input", "输入有误：" + "；".join(
        f"{f['field']} {f['message']}" for f in fields)[:500], {"fields": fields})


@api.exception_handler(OverflowError)
def _overflow_error(request, exc: OverflowError):
    # A safety net behind the typed ids (core.schemas.Id): a number too large for the database
    # is the client's mistake, never a 500 (issue 16 item 12).
    return _error(request, 400, "invalid_input", "输入的数值超出范围")


@api.exception_handler(DataError)
def _data_error(request, exc: DataError):
    # PostgreSQL refuses a text longer than its column or a number out of range: the client's
    # input, never a 500 (SQLite stores it as given).
    return _error(request, 400, "too_long", "输入的内容超出允许的长度或范围，未保存任何内容")


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return _error(request, 401, "unauthenticated", "请先登录或提供有效的 API 令牌")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "对象不存在或无权访问")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, LiuhenError):  # the parser's refusal (too long), as it is
        return _liuhen_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # Malformed JSON (or text with NUL characters): say so in Chinese, with a stable code.
        return _error(request, 400, "invalid_input", "请求内容无法解析：应为有效的 JSON，且不含空字符")
    return _error(request, exc.status_code, "http_error", str(exc))


def register_routers() -> None:
    for router in (org_router, access_router, cases_router, audit_router, evidence_router,
                   devices_router, rules_router, records_router, deadlines_router,
                   supervision_router, grant_router, disclosure_router, use_router,
                   keeping_router):
        api.add_router("/", router)


register_routers()
