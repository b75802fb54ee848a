"""Fixtures of the disclosure tests: the vault, stored recordings and a filed case with real
media (borrowed from the evidence and keeping tests), and the bureau's signing key."""

import io

import pytest
from django.core.management import call_command

from liuhen.evidence.tests.conftest import (  # noqa: F401 (fixtures used by these tests)
    make_media,
    stored_recording,
    vault,
)
from liuhen.keeping.tests.conftest import filed_case, new_case  # noqa: F401
from liuhen.packaging import SigningKey
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
    return signer
