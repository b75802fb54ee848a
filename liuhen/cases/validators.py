"""Checksums of Chinese identity numbers: resident ID (GB 11643) and USCC (GB 32100)."""

from __future__ import annotations

from datetime import date

from liuhen.cases.choices import PartyKind

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_card_error(number: str) -> str | None:
    """Why an 18-digit resident ID number is invalid, or None."""
    n = (number or "").strip().upper()
    # isascii(): str.isdigit() also accepts full-width and other Unicode digits.
    if len(n) != 18 or not n.isascii() or not n[:17].isdigit() or n[17] not in "0123456789X":
        return "身份证号码应为18位，前17位为数字，末位为数字或X"
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    total = sum(int(c) * w for c, w in zip(n[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != n[17]:
        return "身份证号码校验位错误"
    return None


def id_card_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def uscc_error(code: str) -> str | None:
    """Why an 18-character unified social credit code is invalid, or None."""
    c = (code or "").strip().upper()
    if len(c) != 18 or any(ch not in _USCC_CHARS for ch in c):
        return "统一社会信用代码应为18位，由数字和大写字母（不含I、O、Z、S、V）组成"
    if uscc_check_char(c[:17]) != c[17]:
        return "统一社会信用代码校验位错误"
    return None


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def mask_number(number: str) -> str:
    """Show the first 6 and last 4 characters only: enough to tell parties apart in a list."""
    n = number or ""
    if len(n) <= 10:
        return n[:2] + "*" * max(len(n) - 2, 0)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) <= 3 else name[:2] + "*" * (len(name) - 2)


def mask_party_name(kind: str, name: str) -> str:
    """A party's name as lists show it: a person's masked, an organisation's in full."""
    return mask_name(name) if kind == PartyKind.PERSON else name
