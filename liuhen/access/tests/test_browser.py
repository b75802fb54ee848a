"""End to end in Debian's Chromium (第十六条): an officer asks to view a colleague's recording,
the unit head approves in the inbox, the officer plays it with the watermark on the player.
Screenshots of each step are saved under the test's tmp dir (or LIUHEN_SCREENSHOT_DIR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Watch, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A real H.264 recording by 张伟 (team 1), made by PyAV and stored through the ingest service.
SETUP = """
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from django.contrib.auth import get_user_model
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.tests import mediafactory
path = mediafactory.make_h264_mp4(Path(tempfile.mkdtemp()) / "DSJ_调阅测试.mp4", seconds=2,
                                  creation_time=datetime.now(UTC).replace(microsecond=0))
user = get_user_model().objects.get(username="zhang")
result = ingest_recording(source_path=path, original_name=path.name, actor=user, channel="web")
print(result.recording.pk)
"""


def test_officer_requests_head_approves_officer_plays_with_watermark(server_process, browser,
                                                                     tmp_path):
    server = server_process(demo=True)  # the demo's data, made once per session
    pk = int(server.manage("shell", "-c", SETUP).stdout.split()[-1])
    server.start()

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.set_default_timeout(20_000)
    watch = Watch(page)
    watch.shots = watch.shots or str(tmp_path / "screenshots")
    browser_login(page, server.url, "wang")  # 王芳, team 1: neither the uploader nor a case officer
    page.goto(f"{server.url}/recordings/{pk}/")
    assert page.is_visible("#needs-grant") and not page.query_selector("#player")
    page.click("#needs-grant >> text=申请调阅")
    page.fill("textarea[name=reason]", "核对同一用人单位的现场检查情况")
    page.click("#access-request-form button[type=submit]")
    page.wait_for_url(f"{server.url}/access/mine/")
    assert "待审批" in page.inner_text("#my-requests")
    watch.shot("access-01-requested")
    page.click("header >> text=退出")

    browser_login(page, server.url, "head1")  # 王一队, head of team 1
    page.click("nav >> text=调阅审批")
    # The demo's own request of team 2 waits in this inbox too (liuhen demo): take wang's.
    mine = page.locator("article.request", has_text="核对同一用人单位的现场检查情况")
    mine.wait_for()
    assert "王芳" in mine.inner_text()
    watch.shot("access-02-inbox")
    mine.locator("button[value=approve]").click()
    page.wait_for_selector("text=已批准，授权编号")
    page.click("header >> text=退出")

    browser_login(page, server.url, "wang")
    page.goto(f"{server.url}/recordings/{pk}/")
    page.wait_for_function("document.getElementById('player').readyState >= 2", timeout=30_000)
    mark = page.inner_text(".watermark span")
    assert "王芳" in mark and "授权〔" in mark
    box = page.eval_on_selector(".watermark", "e => e.getBoundingClientRect().height")
    assert box > 100  # over the player, not collapsed
    watch.shot("access-03-playing-with-watermark")
    assert (Path(watch.shots) / "access-03-playing-with-watermark.png").stat().st_size > 10_000
    assert not watch.problems, watch.problems
