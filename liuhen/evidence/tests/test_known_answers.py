"""Known-answer vectors for the digests recorded as 固定值 (issue 16 item 16, 第二十六条 (二)).

The other digest tests compare our streaming code with ``hashlib``, which is what the code
calls: a library that computed the wrong SM3 would pass them. These vectors come from the
standards themselves, so a change of library, OpenSSL build or lane code is caught:
GB/T 32905-2016 附录A (SM3, examples 1 and 2) and FIPS 180-4 / NIST CSRC examples (SHA-256).
"""

from __future__ import annotations

import io

import pytest

from liuhen.evidence.digests import DigestWriter, digest_stream

# GB/T 32905-2016 附录A 示例1 and 示例2.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_64_BYTES = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
# FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): one block, two blocks, a million "a".
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA256_448_BITS = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
SHA256_MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SM3_EMPTY = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"

TWO_BLOCKS = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"


def _digests(message: bytes, chunk: int):
    writer = DigestWriter()
    for start in range(0, len(message), chunk):
        writer.update(message[start:start + chunk])
    return writer.digests()


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 20])
def test_sm3_vectors_of_gb_t_32905(chunk):
    assert _digests(b"abc", chunk).sm3 == SM3_ABC
    assert _digests(b"abcd" * 16, chunk).sm3 == SM3_64_BYTES


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_sha256_vectors_of_fips_180(chunk):
    assert _digests(b"abc", chunk).sha256 == SHA256_ABC
    assert _digests(TWO_BLOCKS, chunk).sha256 == SHA256_448_BITS


def test_a_million_a_streamed_in_uneven_chunks():
    found = _digests(b"a" * 1_000_000, 65_537)
    assert found.sha256 == SHA256_MILLION_A and found.size == 1_000_000


def test_the_empty_file():
    found = digest_stream(io.BytesIO(b""))
    assert (found.sha256, found.sm3, found.size) == (SHA256_EMPTY, SM3_EMPTY, 0)
