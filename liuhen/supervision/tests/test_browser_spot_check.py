"""End to end in Debian's Chromium (第二十三条): the legal affairs office opens a spot check
(the draw), reviews a recording of team 1 with two findings at moments of its timeline, asks for
a rectification; team 1's head sees it in his rectifications; the inspection ledger's XLSX has
the row. Screenshots (LIUHEN_SCREENSHOT_DIR) show each step."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from conftest import Watch, browser_login
from liuhen.core.testing import TEST_TODAY

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REQUEST = "浏览器测试：执法开始时先行告知并录入告知过程"


def test_draw_review_finding_rectification_ledger(server_process, browser):  # noqa: F811
    import openpyxl

    server = server_process(demo=True)  # devices, real recordings of teams 1 and 2 (issue 12)
    server.start()
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                            accept_downloads=True)
    page.set_default_timeout(20_000)
    watch = Watch(page)

    # The legal affairs office draws a sample: one recording per unit, a seed of its own.
    browser_login(page, server.url, "legal1")
    page.click("nav >> text=抽查")
    page.fill("input[name=title]", "浏览器抽查")
    page.select_option("select[name=population]", "recordings")
    page.select_option("select[name=strata]", "unit")
    page.fill("input[name=per_stratum]", "1")
    page.fill("input[name=seed]", "browser-2026")
    page.click("button:has-text('抽取样本')")
    page.wait_for_selector("text=browser-2026")
    watch.shot("spotcheck-01-drawn")
    row = page.locator("table.list tbody tr", has_text="监察一大队")
    assert row.count() == 1
    row.locator("a", has_text="待评查").click()

    # The review: two findings at 00:01 and 00:02 of the recording, result 存在问题.
    page.wait_for_selector("text=评查表")
    rows = page.locator(".finding-row")
    rows.nth(0).locator("select").select_option("prior_notice")
    rows.nth(0).locator("input[name=finding_at]").fill("00:01")
    rows.nth(0).locator("input[name=finding_note]").fill("开始执法时未告知当事人录音录像")
    rows.nth(1).locator("select").select_option("appearance")
    rows.nth(1).locator("input[name=finding_at]").fill("00:02")
    rows.nth(1).locator("input[name=finding_note]").fill("一名执法人员未按规定着装")
    page.select_option("select[name=result]", "problems")
    page.click("button:has-text('保存评查')")
    page.wait_for_selector("table.findings >> text=未按规定着装")
    findings = page.inner_text("table.findings")
    assert "1 秒" in findings and "2 秒" in findings and "事先告知录音录像" in findings
    page.fill("input[name=request]", REQUEST)
    page.fill("input[name=deadline]", (TEST_TODAY + timedelta(days=20)).isoformat())
    page.click("button:has-text('发出限期整改')")
    page.wait_for_selector(f"text={REQUEST}")
    watch.shot("spotcheck-02-reviewed")
    page.click("header >> text=退出")

    # Team 1's head sees the rectification with the findings.
    browser_login(page, server.url, "head1")
    page.click("nav >> text=限期整改")
    row = page.locator("table.rectifications tbody tr", has_text=REQUEST)
    assert row.count() == 1 and "未按规定着装" in row.inner_text()
    watch.shot("spotcheck-03-unit-head")
    page.click("header >> text=退出")

    # The ledger's XLSX has the row.
    browser_login(page, server.url, "legal1")
    page.goto(f"{server.url}/supervision/ledger/")
    with page.expect_download() as download:
        page.click("text=导出 XLSX")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    ledger = [row for row in book.active.values if row[0] == "浏览器抽查"]
    reviewed = [row for row in ledger if row[11]]
    assert len(reviewed) == 1 and reviewed[0][4] == "监察一大队"
    assert REQUEST in reviewed[0][10] and "未按规定着装" in reviewed[0][9]
    # The player's derived copy is still pending (no worker runs here): its 404, and the
    # console line saying so, are expected; anything else is a problem.
    pending = any("HTTP 404" in p and "/proxy" in p for p in watch.problems)
    problems = [p for p in watch.problems if "/proxy" not in p
                and not (pending and "status of 404" in p)]
    assert not problems, problems
