"""Pages for the signed-in user's own things: personal API tokens (for ingest stations)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from liuhen.core.errors import LiuhenError
from liuhen.core.pages import handles_errors
from liuhen.org import services
from liuhen.org.models import ApiToken


def _tokens(user):
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def token_list(request):
    """我的 API 令牌: create (the plain token is shown once, here), list, revoke.

    Only a hash is stored; creating and revoking are audited (org.services).
    """
    context = {"error": "", "name": "", "days": 365}
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        raw_days = (request.POST.get("days") or "").strip()
        context.update(name=name, days=raw_days)
        try:
            days = int(raw_days) if raw_days else None
        except ValueError:
            context["error"] = "有效天数应为 1 到 3650 之间的整数"
        else:
            try:
                token, plain = services.create_token(user=request.user, name=name, days=days)
            except LiuhenError as exc:
                context["error"] = exc.message
            else:
                context.update(created=token, plain=plain, name="", days=365)
    context["tokens"] = _tokens(request.user)
    response = render(request, "org/token_list.html", context,
                      status=400 if context["error"] else 200)
    return response


@login_required
@require_POST
@handles_errors
def token_revoke(request, pk):
    """Revoke one of the user's own tokens; someone else's answers 404 (org.services)."""
    token = services.revoke_token(user=request.user, token_id=pk)
    messages.success(request, f"令牌「{token.name}」已吊销")
    return redirect("token_list")
