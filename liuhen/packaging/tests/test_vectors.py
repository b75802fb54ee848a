"""Known answers for the verifier's own cryptography: a court's laptop may have neither SM3 in
its OpenSSL nor the ``cryptography`` package, so the pure-Python SM3 (GB/T 32905, DA/T 97)
and Ed25519 (RFC 8032) in verify.py must give exactly the standard's answers, and its SM2
(GB/T 32918.2) must accept what the openssl command signs and nothing else (第十七条第三款)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liuhen.packaging import SigningKey, SM2SigningKey, canonical_json, verifier
from liuhen.packaging.tests.conftest import need_tool

# GB/T 32905-2016 appendix A: "abc" and the 64-byte message "abcd" × 16.
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]

# RFC 8032 section 7.1, TEST 1, 2 and 3: secret key, public key, message, signature.
ED25519_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
        "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f36"
        "13d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f7"
        "60984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_pure_sm3_known_answers(message, digest):
    assert verifier.PureSM3(message).hexdigest() == digest
    assert hashlib.new("sm3", message).hexdigest() == digest  # and OpenSSL agrees


def test_pure_sm3_equals_openssl_at_every_block_boundary_and_chunking():
    data = os.urandom(300)
    for length in range(0, 300, 7):
        assert (
            verifier.PureSM3(data[:length]).hexdigest()
            == hashlib.new("sm3", data[:length]).hexdigest()
        ), length
    h = verifier.PureSM3()
    for size in (1, 63, 64, 65, 107):
        h.update(data[:size])
    copy = h.copy()
    h.update(b"more")
    assert (
        copy.hexdigest()
        == hashlib.new("sm3", data[:1] + data[:63] + data[:64] + data[:65] + data[:107]).hexdigest()
    )


def test_new_sm3_can_be_forced_to_pure_python():
    assert isinstance(verifier.new_sm3("python"), verifier.PureSM3)
    assert not isinstance(verifier.new_sm3("auto"), verifier.PureSM3)  # OpenSSL here has SM3


@pytest.mark.parametrize(("secret", "public", "message", "signature"), ED25519_VECTORS)
def test_ed25519_rfc8032_vectors(secret, public, message, signature):
    public, message, signature = map(bytes.fromhex, (public, message, signature))
    assert verifier.ed25519_verify(public, message, signature)
    # cryptography (OpenSSL) derives the same key and the same deterministic signature
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert (
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        == public
    )
    assert key.sign(message) == signature
    assert not verifier.ed25519_verify(public, message + b"x", signature)
    flipped = bytearray(signature)
    flipped[5] ^= 1
    assert not verifier.ed25519_verify(public, message, bytes(flipped))


def test_cryptography_signature_verified_by_the_pure_code():
    key = SigningKey.generate()
    message = "证据包清单 manifest.json".encode() * 100
    signature = key.sign(message)
    raw = verifier.public_key_from_pem(key.public_key_pem)
    assert raw == key.public_key_raw
    assert verifier.key_fingerprint(raw) == key.fingerprint
    assert verifier.ed25519_verify(raw, message, signature)
    assert not verifier.ed25519_verify(raw, message[:-1], signature)
    other = SigningKey.generate()
    assert not verifier.ed25519_verify(other.public_key_raw, message, signature)


def test_ed25519_rejects_malformed_input_without_raising():
    public = bytes.fromhex(ED25519_VECTORS[0][1])
    signature = bytes.fromhex(ED25519_VECTORS[0][3])
    assert not verifier.ed25519_verify(public[:31], b"", signature)
    assert not verifier.ed25519_verify(public, b"", signature[:63])
    # S >= L (a malleated signature) is refused, as RFC 8032 requires
    s = int.from_bytes(signature[32:], "little") + verifier._L
    assert not verifier.ed25519_verify(public, b"", signature[:32] + s.to_bytes(32, "little"))
    # a y coordinate that is no point on the curve
    assert not verifier.ed25519_verify(b"\xff" * 32, b"", signature)


def test_public_key_from_pem_refuses_other_keys():
    rsa_like = (
        b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
        + b"A" * 60
        + b"==\n-----END PUBLIC KEY-----\n"
    )
    with pytest.raises(ValueError):
        verifier.public_key_from_pem(rsa_like)
    with pytest.raises(ValueError):
        verifier.public_key_from_pem(b"not a key")


# --- SM2 (GB/T 32918.2-2016) ------------------------------------------------------------------
# A signature made by Debian's OpenSSL 3 command, frozen here (pkeyutl -sign -rawin -digest sm3
# -pkeyopt distid:...): the verifier must keep accepting exactly what openssl produced.
SM2_PUBLIC_PEM = (
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE/Z6gjn9/lWhdA1nfkcqFjjBg1Wpd\n"
    b"GG6bh/3KjSYT4z+EA4smOAPtB7uuAHt+wzLuyD/mQLFcS6SibVYsrCcR8Q==\n"
    b"-----END PUBLIC KEY-----\n"
)
SM2_MESSAGE = "manifest.json of 留痕\n".encode()
SM2_SIGNATURE_DEFAULT_ID = base64.b64decode(
    "MEUCIGgO8qgwDt2JSMt/QFsHQlh8sJHJoVMD41fHotzI90RqAiEA4D5oqCfKaMh76I88/R+bSmuvYkSjDwxaCY6i/k2oTnc="
)
SM2_SIGNATURE_ALICE = base64.b64decode(  # the same message, distid ALICE123@YAHOO.COM
    "MEUCIQDUI4dLRdEQ4kWkmLZnJp+mYGE6cwgttCcE0cFymxI9AgIgDXg6817jGDLJhCsq9qsRdczfF8A1PLpTTkge9uWPGbQ="
)


def test_sm2_frozen_openssl_signature_and_its_id():
    public = verifier.sm2_public_key_from_pem(SM2_PUBLIC_PEM)
    assert len(public) == 65 and public[0] == 4
    assert verifier.sm2_verify(public, SM2_MESSAGE, SM2_SIGNATURE_DEFAULT_ID)
    # Z covers the signer's ID: the same key and message under another ID is another signature.
    assert not verifier.sm2_verify(public, SM2_MESSAGE, SM2_SIGNATURE_ALICE)
    assert verifier.sm2_verify(public, SM2_MESSAGE, SM2_SIGNATURE_ALICE, "ALICE123@YAHOO.COM")
    assert not verifier.sm2_verify(
        public, SM2_MESSAGE, SM2_SIGNATURE_DEFAULT_ID, "ALICE123@YAHOO.COM"
    )
    assert not verifier.sm2_verify(public, SM2_MESSAGE[:-1], SM2_SIGNATURE_DEFAULT_ID)


def _openssl(*args, data=b""):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


@need_tool("openssl")
@pytest.mark.parametrize("size", [0, 1, 64, 1000, 70_000])
def test_sm2_verifies_signatures_made_by_the_openssl_cli(tmp_path, size):
    """Interoperability: keys and signatures made by the openssl command, checked by the
    verifier's own SM2; one changed byte of message or signature is refused."""
    key = tmp_path / "sm2.pem"
    _openssl("genpkey", "-algorithm", "SM2", "-out", str(key))
    public = verifier.sm2_public_key_from_pem(_openssl("pkey", "-in", str(key), "-pubout"))
    message = os.urandom(size)
    signature = _openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", str(key),
        "-pkeyopt", f"distid:{verifier.SM2_DEFAULT_ID}", data=message,
    )  # fmt: skip
    assert verifier.sm2_verify(public, message, signature)
    for offset in {0, size // 2, size - 1} if size else ():
        changed = bytearray(message)
        changed[offset] ^= 0x01
        assert not verifier.sm2_verify(public, bytes(changed), signature), offset
    for offset in (6, len(signature) - 1):  # a byte of r, a byte of s
        changed = bytearray(signature)
        changed[offset] ^= 0x01
        assert not verifier.sm2_verify(public, message, bytes(changed)), offset
    assert not verifier.sm2_verify(public, message + b"x", signature)
    other = verifier.sm2_public_key_from_pem(SM2_PUBLIC_PEM)
    assert not verifier.sm2_verify(other, message, signature)


@need_tool("openssl")
def test_sm2_signing_key_signatures_verify_with_the_openssl_cli(tmp_path):
    """The other direction: what SM2SigningKey signs, the openssl command accepts (with the
    default ID given explicitly) and refuses once a byte of the message changes."""
    key = SM2SigningKey.generate()
    message = canonical_json({"files": [], "title": "证据包"})
    (tmp_path / "pub.pem").write_bytes(key.public_key_pem)
    (tmp_path / "m").write_bytes(message)
    (tmp_path / "sig").write_bytes(key.sign(message))
    changed = bytearray(message)
    changed[len(changed) // 2] ^= 0x01
    (tmp_path / "m2").write_bytes(bytes(changed))
    check = [
        "openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin",
        "-inkey", str(tmp_path / "pub.pem"), "-sigfile", str(tmp_path / "sig"),
        "-pkeyopt", "distid:1234567812345678", "-in",
    ]  # fmt: skip
    good = subprocess.run([*check, str(tmp_path / "m")], capture_output=True, text=True)
    assert good.returncode == 0 and "Verified Successfully" in good.stdout, good.stderr
    bad = subprocess.run([*check, str(tmp_path / "m2")], capture_output=True, text=True)
    assert bad.returncode != 0
    assert key.verify(key.sign(message), message)  # the pure verifier agrees
    assert verifier.key_fingerprint(verifier.sm2_public_key_from_pem(key.public_key_pem)) == (
        key.fingerprint
    )


def test_sm2_rejects_malformed_input_without_raising():
    public = verifier.sm2_public_key_from_pem(SM2_PUBLIC_PEM)
    sig = SM2_SIGNATURE_DEFAULT_ID
    r, s = verifier.sm2_signature_values(sig)
    assert not verifier.sm2_verify(public[1:], SM2_MESSAGE, sig)  # not 04 ‖ X ‖ Y
    off_curve = public[:-1] + bytes([public[-1] ^ 1])
    assert not verifier.sm2_verify(off_curve, SM2_MESSAGE, sig)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert not verifier.sm2_verify(public, SM2_MESSAGE, raw)  # r ‖ s without DER
    assert not verifier.sm2_verify(public, SM2_MESSAGE, sig[:-1])
    assert not verifier.sm2_verify(public, SM2_MESSAGE, sig + b"\x00")
    assert not verifier.sm2_verify(public, SM2_MESSAGE, b"")

    def der(r_value, s_value):
        ints = b""
        for value in (r_value, s_value):
            body = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big")
            ints += bytes([2, len(body)]) + body
        return bytes([0x30, len(ints)]) + ints

    assert der(r, s) == sig  # the test's own encoder agrees with openssl's
    # r or s outside [1, n-1] (GB/T 32918.2 B1, B2), s + n (malleated) refused
    assert not verifier.sm2_verify(public, SM2_MESSAGE, der(0, s))
    assert not verifier.sm2_verify(public, SM2_MESSAGE, der(r, verifier._SM2_N))
    assert not verifier.sm2_verify(public, SM2_MESSAGE, der(r, s + verifier._SM2_N))
    # the same values with a needless leading zero byte: not DER
    padded = bytes([0x30, sig[1] + 1, 2, sig[3] + 1, 0]) + sig[4:]
    assert not verifier.sm2_verify(public, SM2_MESSAGE, padded)


def test_sm2_public_key_from_pem_refuses_other_keys():
    p256 = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError):
        verifier.sm2_public_key_from_pem(p256)  # same shape, other curve
    with pytest.raises(ValueError):
        verifier.sm2_public_key_from_pem(SigningKey.generate().public_key_pem)
    with pytest.raises(ValueError):
        verifier.public_key_from_pem(SM2_PUBLIC_PEM)  # and Ed25519 refuses SM2
