"""One look for errors (issue 13 item 7): every 400/403/404/500/503 page is the same card —
what happened, what to do, the way home, the request id — and the API answers JSON with a
stable code and the same request id, also for a path that matches no route.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import OperationalError
from django.template import loader
from django.test import Client, RequestFactory

from conftest import logged_in
from liuhen.core import outage
from liuhen.core.apps import THIRD_PARTY_FIELDS

pytestmark = pytest.mark.django_db

CARD = re.compile(r'<section class="card narrow error-page">\s*<h1>(?P<heading>[^<]+)</h1>')


def _card(response) -> str:
    html = response.content.decode()
    match = CARD.search(html)
    assert match, html[:2000]
    assert "发生了什么：" in html and "您可以：" in html and 'href="/">返回工作台' in html
    rid = response.headers["X-Request-ID"]
    assert f"请求编号：<code>{rid}</code>" in html
    return match.group("heading")


@pytest.mark.parametrize("url", ["/audit/", "/keeping/disposal/", "/supervision/spot-checks/",
                                 "/recordings/late/"])
def test_every_refusal_is_the_same_403_card(people, url):
    """The audit page refuses through core.pages, the others through their app's own helper;
    before, one showed 无权操作 and another 无法完成 in a different design."""
    response = logged_in(people["device_keeper"].user).get(url)
    assert response.status_code == 403
    assert _card(response) == "无权操作"


def test_unknown_page_and_unknown_object_are_the_same_404_card(people):
    client = logged_in(people["officer_a"].user)
    for url in ("/no-such-page/", "/cases/999999/", "/devices/999999/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert _card(response) == "未找到", url


def test_request_id_comes_from_a_well_formed_proxy_header_only(people):
    client = logged_in(people["officer_a"].user)
    given = "a" * 32
    assert client.get("/no-such-page/", HTTP_X_REQUEST_ID=given).headers["X-Request-ID"] == given
    bad = client.get("/no-such-page/", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", bad)
    assert client.get("/").headers["X-Request-ID"] != client.get("/").headers["X-Request-ID"]


def test_csrf_failure_is_the_same_card(people):
    client = logged_in(people["officer_a"].user, enforce_csrf_checks=True)
    response = client.post("/logout/")
    assert response.status_code == 403
    assert _card(response) == "请求已失效"


def test_api_errors_are_json_with_a_code_and_the_request_id(people):
    client = logged_in(people["officer_a"].user)
    for url, status, code in [("/api/no-such-route", 404, "not_found"),
                              ("/api/cases/999999", 404, "not_found"),
                              ("/api/cases?page=0", 400, "invalid_input")]:
        response = client.get(url)
        assert response.status_code == status, (url, response.content[:300])
        body = response.json()
        assert body["code"] == code and body["message"], url
        assert re.search(r"[\u4e00-\u9fff]", body["message"]), body  # Chinese
        assert body["request_id"] == response.headers["X-Request-ID"]
    anonymous = Client().get("/api/cases")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"



def test_500_and_503_use_the_card_without_the_database():
    factory = RequestFactory()
    for path, exc, status, heading in [("/cases/", RuntimeError("bug"), 500, "系统错误"),
                                       ("/cases/", OperationalError("connection refused"), 503,
                                        "系统暂时不可用，数据未丢失")]:
        request = factory.get(path)
        request.request_id = "rid-test-0001"
        try:
            raise exc
        except type(exc):
            response = outage.server_error(request)
        assert response.status_code == status
        html = response.content.decode()
        assert f"<h1>{heading}</h1>" in html and "请求编号：<code>rid-test-0001</code>" in html
        api_request = factory.get("/api/cases")
        api_request.request_id = "rid-test-0002"
        try:
            raise exc
        except type(exc):
            body = outage.server_error(api_request)
        assert body.status_code == status
        data = json.loads(body.content)
        assert data["request_id"] == "rid-test-0002" and data["code"] in (
            "server_error", "database_unavailable")


def test_every_error_template_uses_the_one_card():
    for name in ("400.html", "403.html", "404.html", "403_csrf.html", "500.html", "503.html",
                 "core/error.html"):
        source = loader.get_template(name).template.source
        assert "core/_error_card.html" in source or "core/_error_shell.html" in source, name


def test_third_party_admin_fields_read_in_chinese():
    from django.apps import apps

    for label, fields in THIRD_PARTY_FIELDS.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for field in model._meta.get_fields():
            if field.name in fields:
                assert not str(field.verbose_name).isascii(), (label, field.name)
        shown = {f.name for f in model._meta.get_fields() if hasattr(f, "verbose_name")} - {"id"}
        assert shown <= set(fields), (label, shown - set(fields))
