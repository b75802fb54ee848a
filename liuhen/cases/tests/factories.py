"""Factories for cases: built through the services so numbers, logs and audit are real."""

from __future__ import annotations

from liuhen.cases import services
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind
from liuhen.cases.validators import id_card_check_char, uscc_check_char

_counter = {"n": 0}


def valid_id_card(seq: int | None = None) -> str:
    _counter["n"] += 1
    n = seq if seq is not None else _counter["n"]
    first17 = f"130102198{n % 10}0{(n % 9) + 1}1{(n % 9)}{n % 1000:03d}"[:17]
    return first17 + id_card_check_char(first17)


def valid_uscc(seq: int | None = None) -> str:
    _counter["n"] += 1
    n = seq if seq is not None else _counter["n"]
    first17 = f"91130100MA{n:07d}"[:17]
    return first17 + uscc_check_char(first17)


def make_party(*, actor, unit, kind=PartyKind.ORGANISATION, name=None):
    number = valid_uscc() if kind == PartyKind.ORGANISATION else valid_id_card()
    return services.create_party(actor=actor, unit=unit, kind=kind,
                                 name=name or f"测试当事人{number[-6:]}", id_number=number)


def make_case(*, actor, unit, officers, kind=CaseKind.PENALTY, cause="拖欠劳动者工资",
              source=CaseSource.COMPLAINT, parties=(), **extra):
    return services.create_case(actor=actor, unit=unit, kind=kind, cause=cause, source=source,
                                officer_ids=[o.pk for o in officers],
                                party_ids=[p.pk for p in parties], **extra)
