"""Fixtures of the disclosure tests: the vault, stored recordings and a filed case with real
media (borrowed from the evidence and keeping tests), and the bureau's signing keys (Ed25519 and,
beside it, SM2)."""

import io

import pytest
from django.core.management import call_command

from liuhen.evidence.tests.conftest import (  # noqa: F401 (fixtures used by these tests)
    make_media,
    stored_recording,
    vault,
)
from liuhen.keeping.tests.conftest import filed_case, new_case  # noqa: F401
from liuhen.packaging import SigningKey, SM2SigningKey
from liuhen.packaging.keys import sm2_key_path
from liuhen.packaging.tests.conftest import bare_python  # noqa: F401


@pytest.fixture
def key(settings, tmp_path):
    settings.SIGNING_KEY_FILE = tmp_path / "keys" / "signing.pem"
    settings.SUPPLY_DIR = tmp_path / "supplied"
    out = io.StringIO()
    call_command("signing_key", stdout=out)
    assert "已生成签名密钥" in out.getvalue()
    again = io.StringIO()
    call_command("signing_key", stdout=again)  # never overwritten
    assert "已有签名密钥" in again.getvalue()
    signer = SigningKey.load(settings.SIGNING_KEY_FILE)
    assert signer.fingerprint in out.getvalue()
    assert "已生成SM2 签名密钥" in out.getvalue() and "已有SM2 签名密钥" in again.getvalue()
    return signer


@pytest.fixture
def sm2_key(key):
    """The SM2 key `liuhen signing_key` made beside the Ed25519 one (0600, GB/T 32918)."""
    return SM2SigningKey.load(sm2_key_path())


@pytest.fixture
def handled_case(people, bureau):
    """A case of team A handled by officer_a and officer_a2 (第十六条: their records are
    theirs to view by right; copying and exporting always need a grant)."""
    from liuhen.cases.tests.factories import make_case

    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
