"""Fixtures of the disclosure tests: the vault, stored recordings and a filed case with real
media (borrowed from the evidence and keeping tests)."""

from liuhen.evidence.tests.conftest import (  # noqa: F401 (fixtures used by these tests)
    make_media,
    stored_recording,
    vault,
)
from liuhen.keeping.tests.conftest import filed_case, new_case  # noqa: F401
from liuhen.packaging.tests.conftest import bare_python  # noqa: F401
