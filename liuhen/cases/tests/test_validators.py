"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100) are checked,
and parties appear masked in lists (个人信息保护, 第十九条 on personal privacy)."""

from __future__ import annotations

import pytest

from liuhen.cases.choices import PartyKind
from liuhen.cases.tests.factories import make_party, valid_id_card, valid_uscc
from liuhen.cases.validators import (
    id_card_check_char,
    id_card_error,
    mask_name,
    mask_number,
    uscc_check_char,
    uscc_error,
)

# Published examples with known check characters.
KNOWN_ID = "11010519491231002X"  # GB 11643 example: Beijing, born 1949-12-31
KNOWN_USCC = "91350100M000100Y43"  # a widely cited valid USCC


def test_known_numbers_are_valid():
    assert id_card_error(KNOWN_ID) is None
    assert id_card_error(KNOWN_ID.lower()) is None  # a lower-case x is accepted
    assert uscc_error(KNOWN_USCC) is None
    assert id_card_check_char(KNOWN_ID[:17]) == "X"
    assert uscc_check_char(KNOWN_USCC[:17]) == "3"


@pytest.mark.parametrize("seq", range(0, 60, 7))
def test_factory_numbers_are_valid(seq):
    assert id_card_error(valid_id_card(seq)) is None
    assert uscc_error(valid_uscc(seq)) is None


def _wrong_check(number: str, alphabet: str) -> str:
    wrong = next(c for c in alphabet if c != number[-1])
    return number[:-1] + wrong


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (_wrong_check(KNOWN_ID, "0123456789X"), "校验位"),
        (KNOWN_ID[:-1], "18位"),
        (KNOWN_ID + "1", "18位"),
        ("", "18位"),
        ("11010519491331002X"[:17] + id_card_check_char("11010519491331002"), "出生日期"),
        ("11010519490230001" + id_card_check_char("11010519490230001"), "出生日期"),
        ("1101051949123A002X", "18位"),
        ("11010519491231002Y", "18位"),
        ("１１０１０５１９４９１２３１００２Ｘ", "18位"),  # full-width digits
        # Full-width digits whose checksum works out must still be refused (str.isdigit trap).
        ("".join(chr(ord(c) + 0xFEE0) for c in "11010519491231001") + "1", "18位"),
    ],
)
def test_bad_id_numbers(number, words):
    error = id_card_error(number)
    assert error and words in error


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (_wrong_check(KNOWN_USCC, "0123456789ABCDEFGHJKLMNPQRTUWXY"), "校验位"),
        (KNOWN_USCC[:-1], "18位"),
        (KNOWN_USCC + "0", "18位"),
        ("", "18位"),
        *[(KNOWN_USCC[:8] + letter + KNOWN_USCC[9:], "不含I、O、Z、S、V") for letter in "IOZSV"],
        ("91350100m000100y4!", "18位"),
    ],
)
def test_bad_uscc(code, words):
    error = uscc_error(code)
    assert error and words in error


def test_masking():
    assert mask_number(KNOWN_ID) == "110105********002X"
    assert mask_number(KNOWN_USCC) == "913501********0Y43"
    assert mask_number("12345") == "12***"
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧阳**" and mask_name("") == ""


def test_parties_are_masked_in_api_lists(people, bureau, api):
    actor = people["officer_a"]
    person = make_party(
        actor=actor.user, unit=bureau["team_a"], kind=PartyKind.PERSON, name="王小明"
    )
    org = make_party(actor=actor.user, unit=bureau["team_a"])
    body = api(actor).get("/api/parties").json()
    text = str(body)
    assert person.id_number not in text and org.id_number not in text
    masked = {p["id"]: p["id_number_masked"] for p in body}
    assert masked[person.pk] == mask_number(person.id_number)
    assert masked[org.pk] == mask_number(org.id_number)
    detail = api(actor).get(f"/api/parties/{person.pk}").json()
    assert person.id_number not in str(detail)
