"""End to end in Debian's Chromium (第十七条): a party copy registered by the records keeper from
the recording page, approved by the leader in charge, made and downloaded — a watermarked,
redacted derived file whose digest is the one on record, never the original (第十七条第二款、
第四款); and a supply to a court registered from the case page, approved, built and
downloaded — the ZIP whose SHA-256 the register holds (第十七条第三款). Screenshots of each
step are saved under the test's tmp dir (and LIUHEN_SCREENSHOT_DIR when set). The 第十六条
flow (request, the head approves in the inbox, play with the watermark) is
access/tests/test_browser.py."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import Watch, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

# A real H.264 recording by 张伟 (team 1), stored through the ingest service and linked to one
# of his cases, so the case has a record to supply.
SETUP = """
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from django.contrib.auth import get_user_model
from liuhen.cases.models import Case
from liuhen.evidence import links
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.tests import mediafactory
path = mediafactory.make_h264_mp4(Path(tempfile.mkdtemp()) / "DSJ_复制测试.mp4", seconds=2,
                                  creation_time=datetime.now(UTC).replace(microsecond=0))
user = get_user_model().objects.get(username="zhang")
result = ingest_recording(source_path=path, original_name=path.name, actor=user, channel="web")
case = Case.objects.filter(officers__user=user).order_by("pk").first()
links.add_case_link(actor=user, recording=result.recording, case=case, reason="现场检查录像")
from django.utils import timezone
print(result.recording.pk, result.recording.sha256, case.pk, case.number, timezone.localdate())
"""


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_party_copy_and_court_supply_in_the_browser(server_process, browser, tmp_path):  # noqa: F811
    server = server_process(demo=True)  # the demo's data, made once per session
    server.manage("signing_key")
    pk, original_sha, case_pk, case_number, today = \
        server.manage("shell", "-c", SETUP).stdout.split()[-5:]  # the server's (test) clock
    server.start()
    url = server.url

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                            accept_downloads=True)
    page.set_default_timeout(30_000)
    watch = Watch(page)
    shots = tmp_path / "screenshots"
    watch.shots = str(shots)

    def shot(name):
        watch.shot(name)
        if kept := os.environ.get("LIUHEN_SCREENSHOT_DIR"):
            Path(kept).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{kept}/{name}.png", full_page=True)

    # 第十七条第二款: the records keeper registers the party's request from the recording page.
    browser_login(page, url, "keeper1")
    page.goto(f"{url}/recordings/{pk}/")
    assert "没有保密标记" in page.inner_text("#disclosure")
    page.click("#register-copy")
    page.fill("#recipient_name", "李某")
    page.fill("#recipient_number", "130102199001011234")
    page.select_option("#identity_check", "id_card")
    page.fill("#reason", "申请行政复议需要现场录像")
    page.click("form.form-grid button[type=submit]")
    page.wait_for_selector("#copy-status")
    assert page.inner_text("#copy-status") == "已登记待审批"
    copy_url = page.url
    page.fill("#plan-text", "静音 0 0.5 第三人姓名")
    page.click("#plan button[type=submit]")
    page.wait_for_selector("#plan li")
    assert page.query_selector("#actions >> text=批准") is None  # the registrar never approves
    shot("copy-01-registered-with-plan")
    page.click("header >> text=退出")

    browser_login(page, url, "leader1")  # 孙局长, the leader in charge
    page.goto(copy_url)
    page.fill("#actions input[name=note]", "同意复制")
    page.click("#actions >> button:has-text('批准')")
    page.wait_for_selector("text=已批准待制作")
    shot("copy-02-approved-by-leader")
    page.click("header >> text=退出")

    browser_login(page, url, "keeper1")
    page.goto(copy_url)
    page.click("#actions >> text=制作复制件")
    page.wait_for_selector("#download")
    assert page.inner_text("#copy-status") == "副本已制作"
    facts = page.inner_text("dl.facts")
    with page.expect_download() as info:
        page.click("#download")
    saved = tmp_path / "copy.mp4"
    info.value.save_as(saved)
    digest = _sha256(saved)
    assert digest in facts and digest != original_sha  # what is on record, never the original
    import av  # the copy is a playable video, not the bytes of something else

    with av.open(str(saved)) as played:
        assert next(played.decode(video=0)).width > 0
    shot("copy-03-made-and-downloaded")
    page.click("header >> text=退出")

    # 第十七条第三款: the legal affairs office registers a court's request from the case page.
    browser_login(page, url, "legal1")
    page.goto(f"{url}/cases/{case_pk}/")
    page.click("#register-supply")
    page.select_option("#body_kind", "court")
    page.fill("#body_name", "某市某区人民法院")
    page.fill("#letter_number", "（2026）冀0102行初15号")
    page.fill("#received_on", today)
    page.check(f"input[name=recordings][value='{pk}']")
    page.click("form.form-grid button[type=submit]")
    page.wait_for_load_state()
    shot("supply-01-registered")
    page.wait_for_selector("#supply-status")
    assert page.inner_text("#supply-status") == "已登记待审批"
    assert case_number in page.inner_text("dl.facts")
    supply_url = page.url
    page.click("header >> text=退出")

    browser_login(page, url, "leader1")
    page.goto(supply_url)
    page.fill("#actions input[name=note]", "同意提供")
    page.click("#actions >> button:has-text('批准')")
    page.wait_for_selector("text=已批准提供")
    shot("supply-02-approved-by-leader")
    page.click("header >> text=退出")

    browser_login(page, url, "legal1")
    page.goto(supply_url)
    page.click("#actions >> text=制作证据包")
    page.wait_for_selector("text=证据包已制作并留存", timeout=120_000)
    facts = page.inner_text("dl.facts")
    with page.expect_download() as info:
        page.click("#download")
    archive = tmp_path / "supply.zip"
    info.value.save_as(archive)
    assert f"压缩包的 SHA-256 摘要 {_sha256(archive)}" in facts  # the bytes the register describes
    page.click("#actions >> text=核对留存")
    page.wait_for_selector("#check-result")
    assert "与登记一致" in page.inner_text("#check-result")
    shot("supply-03-built-downloaded-checked")

    assert sorted(p.name for p in shots.iterdir()) == [
        "copy-01-registered-with-plan.png", "copy-02-approved-by-leader.png",
        "copy-03-made-and-downloaded.png", "supply-01-registered.png",
        "supply-02-approved-by-leader.png", "supply-03-built-downloaded-checked.png"]
    assert not watch.problems, watch.problems
