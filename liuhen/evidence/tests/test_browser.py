"""End to end in Debian's Chromium (Playwright) against a real server with its job worker.

An officer uploads an HEVC body-camera video through the upload page (tus, 第十三条), sees its
digests, opens its recording page, and the player reaches readyState >= 2 on the H.264 proxy
made by the background job (browsers cannot play HEVC; the original stays untouched). No page
may violate the Content-Security-Policy.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from conftest import Watch, browser_login
from liuhen.evidence.tests import mediafactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_upload_hevc_then_play_its_proxy(server_process, browser, tmp_path):
    server = server_process(demo=True)  # the demo's data, made once per session
    server.start(worker=True)  # the db worker makes the proxy
    video = mediafactory.make_hevc_mp4(
        tmp_path / "DSJ_HEVC_浏览器测试.mp4",
        seconds=2,
        creation_time=datetime.now(UTC).replace(microsecond=0),
    )

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.set_default_timeout(20_000)
    watch = Watch(page)
    browser_login(page, server.url, "zhang")

    page.click("nav >> text=上传")
    page.wait_for_selector("#dropzone")
    page.fill("input[name=location]", "某区某路1号工地")
    page.set_input_files("#file-input", str(video))
    link = page.wait_for_selector("#upload-list a.recording-link", timeout=60_000)
    row = page.inner_text("#upload-list tbody tr")
    assert "SHA-256" in row and "SM3" in row
    watch.shot("vault-01-uploaded")
    link.click()
    page.wait_for_selector("#player")
    assert "HEVC" in page.inner_text("body").upper()  # the codec is shown

    # The worker makes the proxy in the background: reload until the page plays it.
    deadline = time.time() + 120
    while "/proxy" not in (page.get_attribute("#player", "src") or ""):
        assert time.time() < deadline, "the proxy was not made in time"
        time.sleep(2)
        page.reload()
    page.wait_for_function("document.getElementById('player').readyState >= 2", timeout=30_000)
    info = page.evaluate(
        "(() => { const v = document.getElementById('player');"
        " return {src: v.currentSrc, w: v.videoWidth, d: v.duration}; })()"
    )
    assert info["src"].endswith("/proxy") and info["w"] > 0 and 1.5 < info["d"] < 2.6
    watch.shot("vault-02-playing")
    assert not watch.problems, watch.problems
