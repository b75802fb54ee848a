"""Words, not codes, on every page a person reads (issue 13 item 1).

Builds the demo bureau once, then, as one person of each demo role, follows every link from
the dashboard (breadth first, pages of this site rendered by templates) and fails on any
visible text that looks like a code: ``word.word`` (``recording.viewed``, ``cases.case``),
``word_word`` (``late_report``, ``filing_approved``) or JSON braces (``{"open_problems": 0}``).
What may look like a code and is not (file names, host names) is in ALLOWED.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

# One person of each demo role, and the administrator.
ROLE_USERS = ["zhang", "head1", "head_zd", "keeper1", "devices1", "legal1", "leader1", "admin"]
PAGES_PER_ROLE = 60
PER_KIND = 2

CODE_PATTERNS = [
    ("word.word", re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)+(?![\w/-])")),
    ("word_word", re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")),
    ("JSON", re.compile(r"\{\s*\"|\"\s*:\s*[\[{\"0-9tfn]")),
]
# Things that look like codes and are what a person expects to read.
ALLOWED = re.compile(
    r"\.(?:mp4|mov|avi|jpg|jpeg|png|heic|wav|mp3|amr|m4a|pdf|csv|xlsx|toml|zip|iso)$"
    r"|^(?:example\.com|localhost)$",
    re.IGNORECASE,
)
SKIP = re.compile(
    r"^/(?:logout|api/|static/|media/)|/(?:original|proxy|poster|file|download)/?$"
    r"|/export|\.(?:csv|xlsx|pdf|zip)$|^/admin/(?!$)"
)


class _Page(HTMLParser):
    """Visible text (not scripts, styles, attributes) and the links of one page."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def code_like(text: str) -> list[str]:
    found = []
    for name, pattern in CODE_PATTERNS:
        for match in pattern.finditer(text):
            word = match.group(0)
            if name != "JSON" and ALLOWED.search(word):
                continue
            found.append(f"{name}: {text[max(0, match.start() - 30): match.end() + 30]!r}")
    return found


@pytest.fixture(scope="module")
def demo_bureau(django_db_setup, django_db_blocker):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def crawl(client: Client) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Every page reachable from the dashboard (up to PAGES_PER_ROLE): codes seen per page,
    pages that did not answer 200, and the pages read."""
    queue, seen, codes, failures, read = ["/"], {"/"}, {}, [], []
    shapes: dict[str, int] = {}
    while queue and len(read) < PAGES_PER_ROLE:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200:
            failures.append(f"{url} → {response.status_code}")
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        read.append(url)
        page = _Page()
        page.feed(response.content.decode())
        found = code_like(" ".join(page.text))
        if found:
            codes[url] = found
        for href in page.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if SKIP.search(parts.path) or href in seen:
                continue
            # Two pages of each kind are enough (two cases, not sixty): the kind is the path
            # with its numbers taken out and the names of its query parameters.
            keys = sorted(q.split("=")[0] for q in parts.query.split("&") if q)
            shape = re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)
            if shapes.get(shape, 0) >= PER_KIND:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(href)
            queue.append(href)
    return codes, failures, read


@pytest.mark.parametrize("username", ROLE_USERS)
def test_every_page_of_every_role_in_words(demo_bureau, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    codes, failures, read = crawl(client)
    assert len(read) >= 3, read  # the dashboard and the pages of its menu at least
    assert failures == []
    assert codes == {}


# Field names a person would read as English (issue 13 item 1): a detail's key shown as it is
# ("path", "sha256", "uuid") is a label missing from core.display.
def _detail_keys(detail, found: set[str]) -> set[str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            found.add(key)
            _detail_keys(value, found)
    elif isinstance(detail, list):
        for item in detail:
            _detail_keys(item, found)
    return found


def test_every_detail_field_of_the_demo_has_a_chinese_label(demo_bureau):
    from liuhen.audit.models import AuditEntry
    from liuhen.core import display

    unlabelled = set()
    seen = 0
    for object_type, detail in AuditEntry.objects.values_list("object_type", "detail"):
        for key in _detail_keys(detail, set()):
            seen += 1
            label = display.field_label(key, object_type)
            if label == key and not re.search(r"[\u4e00-\u9fff]", key):
                unlabelled.add(key)
    assert seen > 100  # the demo's entries carry details
    assert unlabelled == set()


def test_digests_and_storage_are_named_in_chinese():
    from liuhen.core import display

    assert display.field_label("sha256") == "SHA-256 摘要"
    assert display.field_label("sm3") == "SM3 摘要"
    assert display.field_label("path") == display.field_label("storage_key") == "存储路径"
    assert display.field_label("uuid") == "记录编号"
