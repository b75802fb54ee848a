"""Who sees a party's full name and identity number: the one masking rule.

第十七条第四款: personal privacy in enforcement records is managed "按照保密工作有关规定和权限".
The handling unit (users who may change that unit's cases, ``case.change``) needs a party's
name and ID number to do the work, so it sees them in full; everyone else who may see the party
at all (a bureau leader, the legal office, a records keeper, a unit above) sees a person's name
masked and every ID number masked (OWASP ASVS 8.3: least data). Lists (the party and case
lists, ``GET /api/parties``, the admin's list) show everyone masked: enough to tell parties
apart, nothing more. Pages, the API, forms and the admin all ask here, so the rule cannot drift
between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from liuhen.access.querysets import unit_allowed
from liuhen.cases.choices import PartyKind
from liuhen.cases.validators import mask_number, mask_party_name


def sees_identity(user, unit) -> bool:
    """Whether ``user`` sees full names and ID numbers of parties handled by ``unit``."""
    return unit_allowed(user, "case.change", unit)


@dataclass(frozen=True)
class ShownParty:
    """A party as one user may see it (what templates, schemas and forms read)."""

    id: int
    unit_id: int
    kind: str
    name: str
    id_number: str
    masked_id_number: str
    full: bool

    @property
    def pk(self) -> int:
        return self.id

    def get_kind_display(self) -> str:
        return PartyKind(self.kind).label

    def __str__(self) -> str:
        return self.name


def _shown(party, full: bool) -> ShownParty:
    masked_number = mask_number(party.id_number)
    return ShownParty(
        id=party.pk, unit_id=party.unit_id, kind=party.kind,
        name=party.name if full else mask_party_name(party.kind, party.name),
        id_number=party.id_number if full else masked_number,
        masked_id_number=masked_number, full=full)


def shown_parties(user, parties, *, unit=None) -> list[ShownParty]:
    """Each of ``parties`` as ``user`` may see it. ``unit`` is the handling unit (a case's
    unit); without it, the unit that registered each party. The rule is asked once per unit."""
    decided: dict[int, bool] = {}
    shown = []
    for party in parties:
        handling = unit if unit is not None else party.unit
        if handling.pk not in decided:
            decided[handling.pk] = sees_identity(user, handling)
        shown.append(_shown(party, decided[handling.pk]))
    return shown


def shown_party(user, party, *, unit=None) -> ShownParty:
    """``party`` as ``user`` may see it (see ``shown_parties``)."""
    return shown_parties(user, [party], unit=unit)[0]


def listed_parties(parties) -> list[ShownParty]:
    """Parties as a list shows them, to everyone: persons' names and every ID number masked."""
    return [_shown(party, False) for party in parties]


def party_label(user, party, *, unit=None) -> str:
    """A party's name in a picker: the same rule as everywhere else."""
    return shown_party(user, party, unit=unit).name
