"""The JSON API: one NinjaAPI, token or session auth, errors as {code, message}."""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from liuhen.core.errors import LiuhenError


class TokenAuth(HttpBearer):
    """Personal API tokens (Authorization: Bearer lh_…) for machine clients."""

    def authenticate(self, request, token):
        from liuhen.audit import context
        from liuhen.org.services import authenticate_token

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


api = NinjaAPI(
    title="留痕 Liuhen API",
    version="1",
    description="执法全过程记录系统接口。错误统一返回 {code, message}。",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
)


def _error(request, status: int, code: str, message: str, detail=None):
    body = {"code": code, "message": message}
    if detail:
        body["detail"] = detail
    return api.create_response(request, body, status=status)


@api.exception_handler(LiuhenError)
def _liuhen_error(request, exc: LiuhenError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        fields.append({"field": ".".join(loc), "message": err.get("msg", "")})
    return _error(request, 422, "invalid_input", "输入有误：" + "；".join(
        f"{f['field']} {f['message']}" for f in fields)[:500], {"fields": fields})


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return _error(request, 401, "unauthenticated", "请先登录或提供有效的 API 令牌")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "对象不存在或无权访问")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "http_error", str(exc))


def register_routers() -> None:
    from liuhen.audit.api import router as audit_router
    from liuhen.cases.api import router as cases_router
    from liuhen.evidence.api import router as evidence_router
    from liuhen.org.api import router as org_router
    from liuhen.rules.api import router as rules_router

    api.add_router("/", org_router)
    api.add_router("/", cases_router)
    api.add_router("/", audit_router)
    api.add_router("/", evidence_router)
    api.add_router("/", rules_router)
    from liuhen.rules.deadline_api import router as deadline_router  # statutory deadlines
    api.add_router("/", deadline_router)


register_routers()
