"""Every role's daily pages in a real browser (issue 13, "How it must be shown"): Debian's
Chromium through Playwright against `liuhen serve` on the demo bureau (`liuhen demo`).

For each demo role (and the administrator) the test logs in through the login form, visits
every page of its menu (the main menu and the user menu) and every page its 待办 inbox links
to (two of each kind of page, as the page walk does: two cases, not twenty), takes a screenshot
of each (the window, 1366×900), and fails on:

- visible text that looks like a code (``word.word``, ``word_word``, JSON braces), with the
  checker and allow-list of the page walk (``test_words_not_codes.code_like``);
- any answer of 400 or more, to the page or to anything it loads (styles, scripts, htmx);
- console errors and Content-Security-Policy violations;
- a page whose navigation took longer than the limit: 1 s, the issue's figure, unless
  ``LIUHEN_BROWSER_PAGE_LIMIT_S`` says otherwise (the helpers' shared 2-core machine runs at a
  load of 10 and more, where a 1 s page is the machine, not the code; the test prints the
  limit it enforced).

Timing is the browser's own Navigation Timing: from the start of the navigation to the end of
the load event (server time, transfer, parsing, styles and scripts). Every page's time is
printed with p50/p95/p99 (the issue's "99 % of requests under 300 ms" is reported, from these
figures, in the README; it is not asserted here, because it depends on the machine's load).
Screenshots go to ``LIUHEN_SCREENSHOT_DIR`` when set, else to the test's temporary folder;
``LIUHEN_BROWSER_TIMINGS`` names a JSON file to write the timings to.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from conftest import Watch
from liuhen.web.management.commands.demo import DEMO_PASSWORD
from liuhen.web.tests.test_words_not_codes import ROLE_USERS, code_like

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]
PER_KIND = 2  # inbox links of one kind of page (its path without numbers) visited

PAGE_LIMIT_S = float(os.environ.get("LIUHEN_BROWSER_PAGE_LIMIT_S", "1.0"))
# Links that are not pages to read: downloads, streams, logging out, the admin's inner pages
# (its index is in the menu and is walked).
NOT_A_PAGE = re.compile(
    r"^/(?:logout|api/|static/|media/)|/(?:original|proxy|poster|file|download)/?$"
    r"|/export|\.(?:csv|xlsx|pdf|zip)$"
)
NAVIGATION_MS = """() => {
  const [e] = performance.getEntriesByType("navigation");
  return e ? {total: e.loadEventEnd - e.startTime, server: e.responseStart - e.requestStart}
           : null;
}"""


def _local_pages(page, selector: str) -> list[str]:
    """The site's own page links under ``selector``, in order, without fragments."""
    found = []
    for href in page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))"):
        href = urldefrag(href or "")[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if not NOT_A_PAGE.search(parts.path) and href not in found:
            found.append(href)
    return found


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_every_role_reads_its_menu_and_inbox_in_words_without_errors_fast(
        server_process, browser, tmp_path):  # noqa: F811 (the browser fixture)
    server = server_process(demo=True)  # the demo's data, made once per session
    server.start()
    shots = Path(os.environ.get("LIUHEN_SCREENSHOT_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    timings: list[dict] = []

    for username in ROLE_USERS:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        watch = Watch(page)
        page.goto(f"{server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        menu = _local_pages(page, "header.topbar a")
        page.goto(f"{server.url}/inbox/")
        inbox, kinds = [], {}
        for url in _local_pages(page, "main section.card a"):
            kind = re.sub(r"\d+", "N", url)
            if url not in menu and kinds.get(kind, 0) < PER_KIND:
                kinds[kind] = kinds.get(kind, 0) + 1
                inbox.append(url)
        assert "/" in menu and "/inbox/" in menu, (username, menu)

        for n, url in enumerate(menu + inbox):
            before = len(watch.problems)
            response = page.goto(f"{server.url}{url}", wait_until="load")
            status = response.status if response else 0
            timing = page.evaluate(NAVIGATION_MS) or {"total": 0.0, "server": 0.0}
            timings.append({"user": username, "url": url, "status": status,
                            "total_ms": round(timing["total"], 1),
                            "server_ms": round(timing["server"], 1)})
            page.screenshot(path=str(shots / f"{username}-{n:03d}.png"))
            found = [f"HTTP {status}"] if status >= 400 else []
            found += code_like(page.inner_text("body"))
            if timing["total"] > PAGE_LIMIT_S * 1000:
                found.append(f"{timing['total']:.0f} ms (limit {PAGE_LIMIT_S * 1000:.0f} ms)")
            found += watch.problems[before:]
            if found:
                problems[f"{username} {url}"] = found
        context.close()

    totals = [t["total_ms"] for t in timings]
    summary = (f"{len(timings)} page loads by {len(ROLE_USERS)} users; navigation ms p50 "
               f"{statistics.median(totals):.0f}, p95 {_percentile(totals, 0.95):.0f}, p99 "
               f"{_percentile(totals, 0.99):.0f}, max {max(totals):.0f}; under 300 ms: "
               f"{sum(t < 300 for t in totals) / len(totals):.1%}; limit enforced "
               f"{PAGE_LIMIT_S:.2f} s per page")
    print(summary)
    for t in sorted(timings, key=lambda t: -t["total_ms"])[:10]:
        print(f"  {t['total_ms']:>7.0f} ms (server {t['server_ms']:.0f}) {t['user']} {t['url']}")
    if os.environ.get("LIUHEN_BROWSER_TIMINGS"):
        Path(os.environ["LIUHEN_BROWSER_TIMINGS"]).write_text(
            json.dumps({"summary": summary, "pages": timings}, ensure_ascii=False, indent=1))

    assert len(timings) >= 8 * 5  # every role saw its menu at least
    assert len(list(shots.glob("*.png"))) >= len(timings)
    assert problems == {}, problems
