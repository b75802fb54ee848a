"""End to end in a real browser (Debian's Chromium through Playwright) against a real server:
an officer logs in, opens a case (第二条), finds it in the list, opens it and moves it one stage.
No page may trigger a Content-Security-Policy violation (no inline scripts or styles).

Set LIUHEN_SCREENSHOT_DIR to keep a screenshot of every step (for reviewing the pages).
"""

from __future__ import annotations

import re

import pytest

from conftest import Watch
from liuhen.cases.validators import uscc_check_char

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-2026"
# A small bureau, seeded in the server's own database (cheaper than the 60-case `liuhen demo`).
SEED = f"""
from datetime import date, timedelta
from django.contrib.auth import get_user_model
from liuhen.org.models import Officer, Unit
from liuhen.core.testing import TEST_TODAY
bureau = Unit.objects.create(name="某市人力资源和社会保障局", kind="bureau", case_number_prefix="冀人社")
detachment = Unit.objects.create(name="劳动保障监察支队", parent=bureau, case_number_prefix="冀人社监")
team = Unit.objects.create(name="监察一大队", parent=detachment, kind="team")
for n, (username, name, valid) in enumerate([("zhang", "张伟", True), ("wang", "王芳", True),
                                             ("li", "李强", False)]):
    user = get_user_model().objects.create_user(username, password="{PASSWORD}")
    Officer.objects.create(user=user, name=name, unit=team, role="officer",
                           credential_number=f"130100{{n:04d}}", qualification_number=f"Q{{n}}",
                           qualification_valid_from=TEST_TODAY - timedelta(days=700),
                           qualification_valid_to=TEST_TODAY + timedelta(days=365 if valid else -30))
"""
def test_officer_opens_a_case_finds_it_and_moves_it_one_stage(server_process, browser):
    server = server_process()
    server.manage("shell", "-c", SEED)
    server.start()
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15_000)
    watch = Watch(page)

    # Log in as 张伟, an officer of 监察一大队.
    page.goto(f"{server.url}/login/")
    watch.shot("01-login")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    assert page.inner_text("h1") == "工作台"
    watch.shot("02-dashboard")

    # Open a case with a new organisation as party.
    page.click("nav >> text=新建案件")
    page.wait_for_selector("#case-form")
    first17 = "91130100MA0BRW7XK"
    uscc = first17 + uscc_check_char(first17)
    page.select_option("select[name=kind]", "penalty")
    page.select_option("select[name=source]", "complaint")
    page.fill("input[name=cause]", "浏览器测试：拖欠劳动者工资")
    page.check("#case-people label:has-text('张伟') input")
    page.check("#case-people label:has-text('王芳') input")
    # 李强's qualification has expired: listed, marked, and refused if chosen (第十一条).
    assert "第十一条" in page.inner_text("#case-people label:has-text('李强')")
    page.select_option("select[name=new_party_kind]", "organisation")
    page.fill("input[name=new_party_name]", "某某浏览器科技有限公司")
    page.fill("input[name=new_party_id_number]", uscc)
    watch.shot("03-case-form")
    page.click("#case-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    number = page.inner_text("h1").split()[0]
    assert re.fullmatch(r"冀人社监〔\d{4}〕\d+号", number), number
    assert "已立案" in page.inner_text(".messages")

    # See it in the list, filtered by text, and open it from there.
    page.goto(f"{server.url}/cases/")
    page.fill("input[name=q]", "浏览器测试")
    page.click("#case-filters button[type=submit]")
    row = page.locator("table.list tbody tr", has_text=number)
    assert row.count() == 1
    assert "某某浏览器科技有限公司" in row.inner_text()
    watch.shot("04-case-list")
    row.locator("a", has_text=number).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert page.inner_text(".stagepath li.current") == "程序启动"

    # Move it one stage: 程序启动 → 调查取证.
    page.fill("#stage-actions input[name=note]", "已完成现场检查")
    page.click("#stage-actions button:has-text('调查取证')")
    page.wait_for_selector(".messages")
    assert "案件已转入「调查取证」环节" in page.inner_text(".messages")
    assert page.inner_text(".stagepath li.current") == "调查取证"
    assert "已完成现场检查" in page.inner_text(".timeline")
    watch.shot("05-case-detail")

    assert watch.problems == [], watch.problems
