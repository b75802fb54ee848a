"""Fixtures of the keeping tests: the vault's (real media through the real ingest) and cases."""

from __future__ import annotations

import pytest

from liuhen.cases.tests.factories import make_case
from liuhen.evidence.tests.conftest import (  # noqa: F401 (fixtures used by these tests)
    make_media,
    stored_recording,
    vault,
)


@pytest.fixture
def new_case(people, bureau):
    """Factory: a case of team A by officer_a and officer_a2 (``kind``, facts as keywords)."""

    def make(kind="penalty", **extra):
        return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                         officers=[people["officer_a"], people["officer_a2"]], kind=kind,
                         **extra)

    return make
