"""Exports meant for staff read in the bureau's words (issue 13 item 1): every column header of
every CSV and XLSX download is Chinese, and the only Latin it may hold is a term GLOSSARY.md
keeps as it is (the SHA-256 and SM3 digests, UTC in the time's offset, IP, JSON for the raw
detail of an audit entry); the downloaded file is named in Chinese too. The registers are
downloaded empty: their first row is the header."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest

from conftest import logged_in
from liuhen.evidence.station import RECEIPT_HEADERS
from liuhen.rules.management.commands.completeness import CSV_HEADER
from liuhen.supervision.circulars import XLSX_COLUMNS

CHINESE = re.compile(r"[\u3400-\u9fff]")
KEPT = {"SHA", "SM3", "UTC", "IP", "JSON"}  # GLOSSARY.md: 固定值 SHA-256 / SM3; the rest


def _foreign(header: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]*", header)) - KEPT


def _assert_in_chinese(headers, where: str) -> None:
    assert headers, where
    for header in headers:
        assert CHINESE.search(str(header)) and not _foreign(str(header)), (where, header)


DOWNLOADS = [  # (who, URL, kind): the supply register is the one issue 13 found ("ZIP SHA-256")
    ("legal", "/disclosure/supplies/export.xlsx", "xlsx"),
    ("legal", "/supervision/ledger.xlsx", "xlsx"),
    ("legal", "/audit/export.csv", "csv"),
    ("legal", "/audit/export.csv?format=xlsx", "xlsx"),
    ("keeper_a", "/keeping/burns/export.csv", "csv"),
]


@pytest.mark.parametrize(("who", "url", "kind"), DOWNLOADS)
def test_every_export_has_chinese_headers_and_name(people, who, url, kind):
    response = logged_in(people[who]).get(url)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if kind == "csv":
        header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(body)).active.rows)]
    _assert_in_chinese(header, url)
    name = re.search(r"filename\*=utf-8''(\S+)", response["Content-Disposition"], re.IGNORECASE)
    assert name and CHINESE.search(unquote(name.group(1))), (url, response["Content-Disposition"])


def test_supply_register_names_the_digest_of_the_zip_in_chinese():
    from liuhen.disclosure.supply import REGISTER_COLUMNS

    assert REGISTER_COLUMNS[-1] == "压缩包的 SHA-256 摘要"
    assert not any("ZIP" in c for c in REGISTER_COLUMNS)


def test_other_exports_have_chinese_headers():
    """The station's receipt (CSV beside the files), the completeness report of the CLI and the
    circular's spreadsheet (its criteria columns come from the scoring table, named in Chinese)."""
    _assert_in_chinese(list(RECEIPT_HEADERS.values()), "station receipt")
    _assert_in_chinese(CSV_HEADER, "liuhen completeness --csv")
    _assert_in_chinese(XLSX_COLUMNS, "circular XLSX")
