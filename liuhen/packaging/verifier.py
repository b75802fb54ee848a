#!/usr/bin/env python3
"""留痕 证据包/归档包 离线校验程序 · Liuhen offline package verifier.

One file, Python 3.8 or later, standard library only, no network: it travels inside every
package as ``verify.py`` so that whoever receives the package (a review body or a court,
第十七条第三款; an archive reading a disc years later, 第十五条) can check it on a laptop
without installing anything and without trusting the bureau's software.

What it checks, for a package folder, a mounted disc or an extracted disc image:

* the Ed25519 signature over the exact bytes of ``manifest.json`` (RFC 8032; pure Python
  here, so no ``cryptography`` package is needed), with the key in ``public-key.pem``, whose
  fingerprint it prints so that the reader can compare it with the one the bureau gave in
  writing (``--fingerprint`` makes the comparison part of the result);
* where the manifest declares one, the SM2 signature over the same bytes (GB/T 32918.2 with
  SM3 and the default ID 1234567812345678; pure Python below), with the key in
  ``public-key-sm2.pem`` and its own fingerprint (``--sm2-fingerprint``);
* every file the manifest lists: present, a plain file, its size, its SHA-256 and its SM3
  (GB/T 32905, the digest of record of DA/T 97; ``hashlib``'s when OpenSSL offers it, else
  the pure-Python SM3 below);
* no payload file under ``data/`` that the manifest does not list;
* the BagIt manifests and tag manifests (RFC 8493) when present, and ``Payload-Oxum``;
* on a disc volume of a package split across several discs: the signed volume index
  (``volume.json``: ``volume.sig`` with Ed25519 and, where the manifest declares SM2,
  ``volume.sm2.sig`` with SM2), which files this volume must hold; given every volume at once, that
  the volumes together hold the whole package.

It prints a report in Chinese and English (``--json`` for programs) and exits 0 when every
check passed, 1 otherwise. The bureau's own code imports this module too
(``liuhen.packaging.verifier``): one verifier for the evidence packages of 第十七条第三款 and
the archive packages and discs of 第十五条 (DA/T 70 四性检测: 真实性 and 完整性).

Usage / 用法::

    python verify.py                    # the package this file is in
    python verify.py D:\\               # a disc, a folder, an extracted image
    python verify.py E:\\ F:\\ G:\\      # every volume of a split package at once
    python verify.py --fingerprint 3f2a…  --json

This file must stay compatible with Python 3.8 and import nothing outside the standard
library (a test runs it in a bare virtual environment with ``python -I``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import stat
import struct
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor

VERIFIER_VERSION = "1"
MANIFEST_FORMAT = "liuhen-package/1"
VOLUME_FORMAT = "liuhen-volume/1"

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public-key.pem"
SM2_SIGNATURE = "manifest.sm2.sig"
SM2_PUBLIC_KEY = "public-key-sm2.pem"
VOLUME_INDEX = "volume.json"
VOLUME_SIGNATURE = "volume.sig"
VOLUME_SM2_SIGNATURE = "volume.sm2.sig"  # beside volume.sig where the manifest is SM2-signed
VERIFIER = "verify.py"
README = "README.txt"
PAYLOAD_DIR = "data"
BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"

CHUNK = 1 << 20
# Files an operating system drops into any folder it shows (Finder, Explorer): never evidence,
# reported as a note so that browsing a package does not make it fail.
SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"})

PASS, FAIL, NOTE = "pass", "fail", "note"


# ---------------------------------------------------------------------------------------------
# SM3 (GB/T 32905-2016), pure Python: used only when hashlib (OpenSSL) has no SM3.
# ---------------------------------------------------------------------------------------------

_M32 = 0xFFFFFFFF
_SM3_IV = (
    0x7380166F,
    0x4914B2B9,
    0x172442D7,
    0xDA8A0600,
    0xA96F30BC,
    0x163138AA,
    0xE38DEE4D,
    0xB0FB0E4E,
)


def _rotl(x, n):
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _M32


_SM3_T = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64))
_BLOCK = struct.Struct(">16I")


def _sm3_compress(v, data, offset):
    w = list(_BLOCK.unpack_from(data, offset))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ (((w[j - 3] << 15) | (w[j - 3] >> 17)) & _M32)
        x ^= (((x << 15) | (x >> 17)) ^ ((x << 23) | (x >> 9))) & _M32  # P1
        y = w[j - 13]
        w.append(x ^ (((y << 7) | (y >> 25)) & _M32) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    t = _SM3_T
    for j in range(64):
        a12 = ((a << 12) | (a >> 20)) & _M32
        s = (a12 + e + t[j]) & _M32
        ss1 = ((s << 7) | (s >> 25)) & _M32
        ss2 = ss1 ^ a12
        if j < 16:
            ff = a ^ b ^ c
            gg = e ^ f ^ g
        else:
            ff = (a & b) | (a & c) | (b & c)
            gg = (e & f) | ((e ^ _M32) & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _M32
        tt2 = (gg + h + ss1 + w[j]) & _M32
        d = c
        c = ((b << 9) | (b >> 23)) & _M32
        b = a
        a = tt1
        h = g
        g = ((f << 19) | (f >> 13)) & _M32
        f = e
        e = tt2 ^ (((tt2 << 9) | (tt2 >> 23)) & _M32) ^ (((tt2 << 17) | (tt2 >> 15)) & _M32)
    return (a ^ v[0], b ^ v[1], c ^ v[2], d ^ v[3], e ^ v[4], f ^ v[5], g ^ v[6], h ^ v[7])


class PureSM3:
    """SM3 with hashlib's interface (``update``, ``digest``, ``hexdigest``, ``copy``)."""

    name = "sm3"
    digest_size = 32
    block_size = 64

    def __init__(self, data=b""):
        self._v = _SM3_IV
        self._pending = b""
        self._length = 0
        if data:
            self.update(data)

    def update(self, data):
        data = bytes(data)
        self._length += len(data)
        if self._pending:
            data = self._pending + data
        whole = len(data) - len(data) % 64
        v = self._v
        for offset in range(0, whole, 64):
            v = _sm3_compress(v, data, offset)
        self._v = v
        self._pending = data[whole:]

    def copy(self):
        other = PureSM3()
        other._v, other._pending, other._length = self._v, self._pending, self._length
        return other

    def digest(self):
        tail = self._pending + b"\x80" + b"\x00" * ((55 - self._length) % 64)
        tail += (self._length * 8).to_bytes(8, "big")
        v = self._v
        for offset in range(0, len(tail), 64):
            v = _sm3_compress(v, tail, offset)
        return b"".join(x.to_bytes(4, "big") for x in v)

    def hexdigest(self):
        return self.digest().hex()


def openssl_sm3_available():
    try:
        hashlib.new("sm3")
    except (ValueError, TypeError):
        return False
    return True


def new_sm3(implementation="auto"):
    """An SM3 hash object: OpenSSL's through hashlib when it has one (``auto``), else, or when
    ``implementation == "python"``, the pure-Python one."""
    if implementation != "python" and openssl_sm3_available():
        return hashlib.new("sm3")
    return PureSM3()


# ---------------------------------------------------------------------------------------------
# Ed25519 signature verification (RFC 8032, section 5.1.7), pure Python.
# ---------------------------------------------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(scalar, point):
    result = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G_X = _recover_x(_G_Y, 0)
_G = (_G_X, _G_Y, 1, _G_X * _G_Y % _P)


def ed25519_verify(public_key, message, signature):
    """True when ``signature`` (64 bytes) is a valid Ed25519 signature of ``message`` by the
    32-byte ``public_key``; False for anything else (never raises on bad input)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point_decompress(public_key)
    r = _point_decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(k % _L, a)))


_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def _pem_public_key_der(pem):
    """The DER of a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo), or raise ValueError."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    lines = [line.strip() for line in text.strip().splitlines()]
    try:
        begin = lines.index("-----BEGIN PUBLIC KEY-----")
        end = lines.index("-----END PUBLIC KEY-----")
    except ValueError:
        raise ValueError("not a PEM public key") from None
    return base64.b64decode("".join(lines[begin + 1 : end]), validate=True)


def public_key_from_pem(pem):
    """The raw 32-byte Ed25519 key of a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo), or raise
    ValueError."""
    der = _pem_public_key_der(pem)
    if len(der) != 44 or not der.startswith(_ED25519_SPKI_PREFIX):
        raise ValueError("not an Ed25519 public key")
    return der[len(_ED25519_SPKI_PREFIX) :]


# ---------------------------------------------------------------------------------------------
# SM2 signature verification (GB/T 32918.2-2016, section 7; curve of GB/T 32918.5), pure Python,
# beside Ed25519: SM3 over Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) and the message, the
# default ID 1234567812345678 (GB/T 35276), the signature as DER SEQUENCE {r, s}.
# ---------------------------------------------------------------------------------------------

SM2_DEFAULT_ID = "1234567812345678"
_SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_SM2_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
_SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_SM2_G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)


def _sm2_add(p, q):
    """Affine point addition on the SM2 curve; None is the point at infinity."""
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0]:
        if (p[1] + q[1]) % _SM2_P == 0:
            return None
        slope = (3 * p[0] * p[0] + _SM2_A) * pow(2 * p[1], _SM2_P - 2, _SM2_P)
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], _SM2_P - 2, _SM2_P)
    x = (slope * slope - p[0] - q[0]) % _SM2_P
    return (x, (slope * (p[0] - x) - p[1]) % _SM2_P)


def _sm2_mul(scalar, point):
    result = None
    while scalar:
        if scalar & 1:
            result = _sm2_add(result, point)
        point = _sm2_add(point, point)
        scalar >>= 1
    return result


def _sm2_on_curve(point):
    x, y = point
    return (
        0 <= x < _SM2_P
        and 0 <= y < _SM2_P
        and (y * y - x * x * x - _SM2_A * x - _SM2_B) % _SM2_P == 0
    )


def _der_integer(data, offset):
    """A positive DER INTEGER at ``offset``: (value, next offset); ValueError if malformed."""
    if data[offset] != 0x02 or data[offset + 1] > 33 or data[offset + 1] == 0:
        raise ValueError("not a DER INTEGER")
    length = data[offset + 1]
    body = data[offset + 2 : offset + 2 + length]
    if len(body) != length or body[0] & 0x80 or (length > 1 and body[0] == 0 and body[1] < 0x80):
        raise ValueError("not a minimal positive DER INTEGER")
    return int.from_bytes(body, "big"), offset + 2 + length


def sm2_signature_values(signature):
    """(r, s) of a DER SEQUENCE {r, s} (GB/T 35276), or raise ValueError."""
    if len(signature) < 8 or signature[0] != 0x30 or signature[1] != len(signature) - 2:
        raise ValueError("not a DER SEQUENCE")
    r, offset = _der_integer(signature, 2)
    s, offset = _der_integer(signature, offset)
    if offset != len(signature):
        raise ValueError("trailing bytes")
    return r, s


def sm2_z(public_key, signer_id=SM2_DEFAULT_ID):
    """Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) for the 64-byte key X ‖ Y."""
    ident = signer_id.encode("utf-8")
    h = new_sm3()
    h.update((len(ident) * 8).to_bytes(2, "big") + ident)
    for value in (_SM2_A, _SM2_B, *_SM2_G):
        h.update(value.to_bytes(32, "big"))
    h.update(public_key)
    return h.digest()


def sm2_verify(public_key, message, signature, signer_id=SM2_DEFAULT_ID):
    """True when ``signature`` (DER) is a valid SM2 signature of ``message`` by ``public_key``
    (the 65-byte uncompressed point 04 ‖ X ‖ Y) with ``signer_id``; False for anything else
    (never raises on bad input). GB/T 32918.2-2016, 7.1 B1-B7."""
    if len(public_key) != 65 or public_key[0] != 4:
        return False
    point = (int.from_bytes(public_key[1:33], "big"), int.from_bytes(public_key[33:], "big"))
    if not _sm2_on_curve(point):
        return False
    try:
        r, s = sm2_signature_values(bytes(signature))
    except (ValueError, IndexError):
        return False
    if not (1 <= r < _SM2_N and 1 <= s < _SM2_N):  # B1, B2
        return False
    h = new_sm3()
    h.update(sm2_z(public_key[1:], signer_id) + message)  # B3, B4
    e = int.from_bytes(h.digest(), "big")
    t = (r + s) % _SM2_N  # B5
    if t == 0:
        return False
    summed = _sm2_add(_sm2_mul(s, _SM2_G), _sm2_mul(t, point))  # B6
    return summed is not None and (e + summed[0]) % _SM2_N == r  # B7


_SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def sm2_public_key_from_pem(pem):
    """The 65-byte uncompressed point 04 ‖ X ‖ Y of a PEM ``PUBLIC KEY`` holding an SM2 key
    (id-ecPublicKey with the curve 1.2.156.10197.1.301), or raise ValueError."""
    der = _pem_public_key_der(pem)
    if len(der) != 91 or not der.startswith(_SM2_SPKI_PREFIX) or der[26] != 4:
        raise ValueError("not an SM2 public key")
    raw = der[len(_SM2_SPKI_PREFIX) :]
    if not _sm2_on_curve((int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big"))):
        raise ValueError("the SM2 public key is not a point of the curve")
    return raw


def key_fingerprint(raw_public_key):
    """The key's fingerprint: SHA-256 of its raw bytes (Ed25519: the 32-byte key; SM2: the
    65-byte uncompressed point), lowercase hex."""
    return hashlib.sha256(raw_public_key).hexdigest()


def format_fingerprint(fingerprint):
    """Groups of four, easy to compare aloud: ``3f2a 9c01 …``."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def _normalise_fingerprint(value):
    value = "".join(value.split()).lower()
    for prefix in ("sha256:", "sha-256:"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value.replace(":", "")


# ---------------------------------------------------------------------------------------------
# Where the files are: a folder (package, mounted disc, extracted image). The bureau's read-back
# of disc images supplies another source with the same four methods (liuhen.packaging.readback).
# ---------------------------------------------------------------------------------------------


class DirectorySource:
    """A package, a volume of one, on a file system (a folder or a mounted disc)."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.label = str(root)

    def entries(self):
        """Every entry below the root as ``(relative posix path, kind)``, kind ``file`` for a
        plain file, ``other`` for anything else that is not a directory (a link, a device)."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in list(dirnames):
                if os.path.islink(os.path.join(dirpath, name)):
                    dirnames.remove(name)
                    filenames.append(name)
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                mode = os.lstat(full).st_mode
                found.append((rel, "file" if stat.S_ISREG(mode) else "other"))
        return found

    def size(self, rel):
        return os.lstat(os.path.join(self.root, rel)).st_size

    def read(self, rel):
        with open(os.path.join(self.root, rel), "rb") as fh:
            return fh.read()

    def open(self, rel):
        return open(os.path.join(self.root, rel), "rb")


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


class Finding:
    """One line of the report: a check that passed or failed, or a note."""

    __slots__ = ("status", "code", "zh", "en", "path", "location")

    def __init__(self, status, code, zh, en, path=None, location=None):
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.path, self.location = path, location

    def as_dict(self):
        return {
            "status": self.status,
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "path": self.path,
            "location": self.location,
        }


class Report:
    """What was checked and what was found, for one package (one or several volumes)."""

    def __init__(self):
        self.findings = []
        self.package = {}
        self.locations = []
        self.fingerprint = None
        self.fingerprint_trusted = None  # True/False when the reader gave one, else None
        self.sm2_fingerprint = None  # the SM2 key's, when the package is signed with SM2 too
        self.sm2_fingerprint_trusted = None
        self.files_checked = 0
        self.bytes_checked = 0
        self.sm3 = "openssl"
        self.volumes = None  # (volumes seen, volumes in the set) for split packages
        self.media = None  # {image: its own size and digests}, set by the bureau's read-back

    def add(self, status, code, zh, en, path=None, location=None):
        self.findings.append(Finding(status, code, zh, en, path, location))

    @property
    def failures(self):
        return [f for f in self.findings if f.status == FAIL]

    @property
    def ok(self):
        return not self.failures

    def as_dict(self):
        return {
            "ok": self.ok,
            "verifier_version": VERIFIER_VERSION,
            "package": self.package,
            "locations": self.locations,
            "key_fingerprint": self.fingerprint,
            "key_fingerprint_trusted": self.fingerprint_trusted,
            "sm2_key_fingerprint": self.sm2_fingerprint,
            "sm2_key_fingerprint_trusted": self.sm2_fingerprint_trusted,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "sm3_implementation": self.sm3,
            "volumes": self.volumes,
            "media": self.media,
            "failures": len(self.failures),
            "findings": [f.as_dict() for f in self.findings],
        }

    def render(self, verbose=False):
        out = ["留痕 证据包/归档包 离线校验报告 · Liuhen package verification report", "=" * 72]
        pkg = self.package
        if pkg:
            out.append("包名称 Title:          {}".format(pkg.get("title", "")))
            out.append("编号 Identifier:       {}".format(pkg.get("id", "")))
            out.append("出具单位 Organization: {}".format(pkg.get("organization", "")))
            out.append("制作时间 Created:      {}".format(pkg.get("created_at", "")))
        for loc in self.locations:
            out.append(f"校验位置 Location:     {loc}")
        if self.volumes:
            out.append("分卷 Volumes:          {} / {}".format(*self.volumes))
        for image, digests in sorted((self.media or {}).items()):
            out.append(
                "映像 Image:            {}, {} 字节 bytes".format(image, digests.get("size"))
            )
            out.append("    SHA-256 {}".format(digests.get("sha256")))
            out.append("    SM3     {}".format(digests.get("sm3")))
        if self.fingerprint:
            out.append("签名公钥指纹 Key fingerprint (SHA-256):")
            out.append("    " + format_fingerprint(self.fingerprint))
            if self.fingerprint_trusted is None:
                out.append("    请与局方书面提供的指纹逐组核对；不一致即不可信。")
                out.append("    Compare it group by group with the fingerprint the bureau gave")
                out.append("    you in writing; if it differs, do not trust this package.")
        if self.sm2_fingerprint:
            out.append("SM2 签名公钥指纹 SM2 key fingerprint (SHA-256):")
            out.append("    " + format_fingerprint(self.sm2_fingerprint))
            if self.sm2_fingerprint_trusted is None:
                out.append("    请与局方书面提供的 SM2 公钥指纹逐组核对。")
                out.append("    Compare it with the SM2 fingerprint the bureau gave in writing.")
        out.append(
            "SM3 实现 implementation: {}".format(
                {
                    "openssl": "OpenSSL (hashlib)",
                    "python": "内置纯 Python / built-in pure Python",
                    "skipped": "未核验 / not checked (--sm3 skip)",
                }.get(self.sm3, self.sm3)
            )
        )
        out.append("-" * 72)
        mark = {PASS: "[通过 PASS]", FAIL: "[失败 FAIL]", NOTE: "[说明 NOTE]"}
        for f in self.findings:
            if f.status == PASS and f.path and not verbose:
                continue
            where = ""
            if f.path:
                where = " " + f.path
            if f.location and len(self.locations) > 1:
                where += " @ " + f.location
            out.append(f"{mark[f.status]}{where}")
            out.append("    " + f.zh)
            out.append("    " + f.en)
        out.append("-" * 72)
        out.append(
            f"已核验文件 Files checked: {self.files_checked}, 字节 bytes: {self.bytes_checked}"
        )
        if self.ok:
            out.append(
                "结论：通过。所列文件齐全、未被改动，签名有效。"
                if not self.sm2_fingerprint
                else "结论：通过。所列文件齐全、未被改动，Ed25519 与 SM2 签名均有效。"
            )
            out.append(
                "Result: PASSED. Every listed file is present and unaltered; the signature is "
                "valid."
                if not self.sm2_fingerprint
                else "Result: PASSED. Every listed file is present and unaltered; the Ed25519 "
                "and SM2 signatures are valid."
            )
        else:
            n = len(self.failures)
            out.append(f"结论：未通过，{n} 项失败（见上方 [失败 FAIL]）。")
            out.append(f"Result: FAILED, {n} check(s) failed (see [FAIL] above).")
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------


def _nfc(text):
    return unicodedata.normalize("NFC", text)


def _hash_stream(fh, sm3_mode, progress=None):
    """(size, sha256 hex, sm3 hex or None) of a binary stream, read once. With OpenSSL's SM3 the
    two digests run side by side (hashlib releases the GIL for large chunks)."""
    sha = hashlib.sha256()
    sm3 = None if sm3_mode == "skip" else new_sm3(sm3_mode)
    size = 0
    pool = ThreadPoolExecutor(1) if sm3 is not None and not isinstance(sm3, PureSM3) else None
    try:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            pending = pool.submit(sm3.update, chunk) if pool is not None else None
            sha.update(chunk)
            if pending is not None:
                pending.result()
            elif sm3 is not None:
                sm3.update(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown()
    return size, sha.hexdigest(), sm3.hexdigest() if sm3 is not None else None


def _decode_bag_path(path):
    """RFC 8493 §2.1.3: CR, LF and % are percent-encoded in manifest lines."""
    return (
        path.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
    )


def _parse_manifest_lines(data):
    entries = {}
    duplicates = []
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            duplicates.append(line)
            continue
        path = _nfc(_decode_bag_path(parts[1].lstrip("*")))
        if path in entries:
            duplicates.append(path)
        entries[path] = parts[0].lower()
    return entries, duplicates


_TAG_FILES = frozenset(
    {
        MANIFEST,
        SIGNATURE,
        PUBLIC_KEY,
        SM2_SIGNATURE,
        SM2_PUBLIC_KEY,
        VOLUME_INDEX,
        VOLUME_SIGNATURE,
        VOLUME_SM2_SIGNATURE,
        VERIFIER,
        README,
        BAGIT_TXT,
        BAG_INFO,
    }
)


def _is_tag_file(path):
    """The package's own files at its root (RFC 8493 tag files and ours)."""
    if "/" in path:
        return False
    return path in _TAG_FILES or (
        path.endswith(".txt") and (path.startswith("manifest-") or path.startswith("tagmanifest-"))
    )


def _sm2_id(block):
    """The signer ID the manifest names (GB/T 32918: at most 8191 bytes), else the default."""
    value = block.get("id")
    if isinstance(value, str) and value and len(value.encode("utf-8")) < 8192:
        return value
    return SM2_DEFAULT_ID


# What differs between the two signatures over manifest.json (Verifier._check_signature).
_ED25519 = {
    "block": "signature",
    "code": "",
    "lead": "",
    "mid": "",
    "name_zh": "Ed25519 签名",
    "name_en": "Ed25519",
    "key_file": PUBLIC_KEY,
    "sig_file": SIGNATURE,
    "parse": public_key_from_pem,
    "verify": lambda key, message, signature, block: ed25519_verify(key, message, signature),
    "trusted": "trusted_key",
    "expected": "expected_fingerprint",
    "fingerprint": "fingerprint",
}
_SM2 = {
    "block": "signature_sm2",
    "code": "sm2.",
    "lead": "SM2 ",
    "mid": " SM2 ",
    "name_zh": "SM2 签名（GB/T 32918，SM3）",
    "name_en": "SM2 (GB/T 32918, SM3)",
    "key_file": SM2_PUBLIC_KEY,
    "sig_file": SM2_SIGNATURE,
    "parse": sm2_public_key_from_pem,
    "verify": lambda key, message, signature, block: sm2_verify(
        key, message, signature, _sm2_id(block)
    ),
    "trusted": "trusted_sm2_key",
    "expected": "expected_sm2_fingerprint",
    "fingerprint": "sm2_fingerprint",
}


class _Volume:
    """What one location holds and must hold."""

    def __init__(self, source):
        self.source = source
        self.label = source.label
        self.manifest_bytes = None
        self.manifest = None
        self.index = None  # the volume index, when this is a volume of a split package
        self.share = None  # paths this location must hold
        self.present = {}  # NFC path -> (actual path, kind)


class Verifier:
    """Checks one package, given as one location or as every volume of a split package."""

    def __init__(
        self,
        sources,
        *,
        sm3="auto",
        fingerprint=None,
        trusted_key=None,
        progress=None,
        precomputed=None,
        sm2_fingerprint=None,
        trusted_sm2_key=None,
    ):
        self.sources = list(sources)
        self.sm3_mode = sm3
        self.expected_fingerprint = _normalise_fingerprint(fingerprint) if fingerprint else None
        self.trusted_key = trusted_key
        self.expected_sm2_fingerprint = (
            _normalise_fingerprint(sm2_fingerprint) if sm2_fingerprint else None
        )
        self.trusted_sm2_key = trusted_sm2_key
        self.progress = progress
        self.precomputed = precomputed or {}
        self.report = Report()
        self.key = None
        self.sm2_key = None  # the SM2 key, where the manifest declares an SM2 signature

    # -- entry point ---------------------------------------------------------------------------

    def run(self):
        r = self.report
        if self.sm3_mode == "skip":
            r.sm3 = "skipped"
        elif self.sm3_mode == "python" or not openssl_sm3_available():
            r.sm3 = "python"
        volumes = []
        for source in self.sources:
            r.locations.append(source.label)
            volume = _Volume(source)
            if self._load(volume):
                volumes.append(volume)
        if not volumes:
            return r
        first = volumes[0]
        for volume in volumes[1:]:
            if volume.manifest_bytes != first.manifest_bytes:
                r.add(
                    FAIL,
                    "set.different_packages",
                    f"{volume.label} 与 {first.label} 不是同一个包（manifest.json 不同）。",
                    f"{volume.label} and {first.label} are not volumes of the same package (different manifest.json).",
                    location=volume.label,
                )
                return r
        self._describe(first)
        for volume in volumes:
            # Without a valid signature nothing the manifest says can be trusted; the files are
            # still checked against it so that the reader sees what else differs.
            self._check_key_and_signature(volume)
            self._check_volume(volume)
        if len(volumes) > 1 or (first.index is not None):
            self._check_set(volumes)
        return r

    # -- loading -------------------------------------------------------------------------------

    def _load(self, volume):
        r = self.report
        src = volume.source
        try:
            entries = src.entries()
        except OSError as exc:
            r.add(
                FAIL,
                "location.unreadable",
                f"无法读取 {src.label}：{exc}",
                f"cannot read {src.label}: {exc}",
                location=src.label,
            )
            return False
        for rel, kind in entries:
            volume.present[_nfc(rel)] = (rel, kind)
        if MANIFEST not in volume.present:
            r.add(
                FAIL,
                "manifest.missing",
                f"{src.label} 中没有 manifest.json：这不是留痕的包，或清单已被删除。",
                f"no manifest.json in {src.label}: not a Liuhen package, or the manifest was removed.",
                location=src.label,
            )
            return False
        try:
            volume.manifest_bytes = src.read(MANIFEST)
            volume.manifest = json.loads(volume.manifest_bytes.decode("utf-8"))
            if not isinstance(volume.manifest, dict) or not isinstance(
                volume.manifest.get("files"), list
            ):
                raise ValueError("no file list")
        except (OSError, ValueError) as exc:
            r.add(
                FAIL,
                "manifest.invalid",
                f"manifest.json 无法解析：{exc}",
                f"manifest.json cannot be parsed: {exc}",
                path=MANIFEST,
                location=src.label,
            )
            return False
        if volume.manifest.get("format") != MANIFEST_FORMAT:
            r.add(
                NOTE,
                "manifest.format",
                "清单格式为 {!r}，本程序按 {} 校验。".format(
                    volume.manifest.get("format"), MANIFEST_FORMAT
                ),
                "manifest format is {!r}; checked as {}.".format(
                    volume.manifest.get("format"), MANIFEST_FORMAT
                ),
                location=src.label,
            )
        return True

    def _describe(self, volume):
        package = volume.manifest.get("package") or {}
        self.report.package = {
            k: package.get(k) for k in ("id", "title", "organization", "created_at")
        }

    # -- authenticity ----------------------------------------------------------------------------

    def _check_key_and_signature(self, volume):
        """The Ed25519 signature (always), then the SM2 one where the manifest declares it or
        the reader asked for it (--sm2-fingerprint, --sm2-public-key)."""
        self.key = self._check_signature(volume, _ED25519)
        declared = isinstance(volume.manifest.get(_SM2["block"]), dict)
        asked = self.expected_sm2_fingerprint is not None or self.trusted_sm2_key is not None
        if declared:
            self.sm2_key = self._check_signature(volume, _SM2)
        elif asked:
            self.report.add(
                FAIL,
                "sm2.absent",
                "您要求核验 SM2 签名，但此包没有 SM2 签名。",
                "you asked for the SM2 signature, but this package has none.",
                location=volume.source.label,
            )

    def _check_signature(self, volume, kind):
        """One signature over the exact bytes of manifest.json, ``kind`` being _ED25519 or _SM2
        (below): its public key (or the one the reader gave), the fingerprint the manifest
        declares and the one the reader gave, then the signature. Returns the key (None when
        there is none to read), whether or not the signature held."""
        r = self.report
        src = volume.source
        lead, mid, code = kind["lead"], kind["mid"], kind["code"]
        key_file, sig_file = kind["key_file"], kind["sig_file"]
        block = volume.manifest.get(kind["block"]) or {}
        declared = _normalise_fingerprint(str(block.get("public_key_fingerprint", "")))
        expected = getattr(self, kind["expected"])
        try:
            key = getattr(self, kind["trusted"]) or kind["parse"](src.read(key_file))
        except (OSError, ValueError) as exc:
            r.add(
                FAIL,
                code + "key.missing",
                f"{lead}签名公钥 {key_file} 缺失或无效：{exc}",
                f"the {lead}signing key {key_file} is missing or invalid: {exc}",
                path=key_file,
                location=src.label,
            )
            return None
        fingerprint = key_fingerprint(key)
        setattr(r, kind["fingerprint"], fingerprint)
        if declared and declared != fingerprint:
            r.add(
                FAIL,
                code + "key.mismatch",
                f"{lead}公钥指纹与清单中登记的指纹不一致（公钥文件被替换？）。",
                f"the {lead}public key's fingerprint differs from the one the manifest declares "
                "(was the key file replaced?).",
                path=key_file,
                location=src.label,
            )
        if expected is not None:
            trusted = expected == fingerprint
            setattr(r, kind["fingerprint"] + "_trusted", trusted)
            if trusted:
                r.add(
                    PASS,
                    code + "key.trusted",
                    f"{lead}公钥指纹与您提供的指纹一致。",
                    f"the {lead}key fingerprint matches the one you gave.",
                )
            else:
                r.add(
                    FAIL,
                    code + "key.untrusted",
                    f"{lead}公钥指纹与您提供的指纹不一致：此包不是用局方的{mid}密钥签名的。",
                    f"the {lead}key fingerprint differs from the one you gave: this package was "
                    f"not signed with the bureau's{mid.rstrip()} key.",
                    location=src.label,
                )
        try:
            signature = base64.b64decode(src.read(sig_file).strip(), validate=True)
        except (OSError, ValueError) as exc:
            r.add(
                FAIL,
                code + "signature.missing",
                f"{lead}签名文件 {sig_file} 缺失或无法读取：{exc}",
                f"the {lead}signature {sig_file} is missing or unreadable: {exc}",
                path=sig_file,
                location=src.label,
            )
            return key
        if kind["verify"](key, volume.manifest_bytes, signature, block):
            r.add(
                PASS,
                code + "signature.valid",
                f"manifest.json 的 {kind['name_zh']}有效：清单自签名后未被改动。",
                f"the {kind['name_en']} signature over manifest.json is valid: the manifest is "
                "unchanged since it was signed.",
                path=None,
                location=src.label,
            )
            return key
        r.add(
            FAIL,
            code + "signature.invalid",
            f"{lead}签名无效：manifest.json 在签名后被改动，或签名文件不属于此清单。",
            f"{lead}signature INVALID: manifest.json was changed after signing, or the "
            "signature does not belong to this manifest.",
            path=sig_file,
            location=src.label,
        )
        return key

    # -- one location ----------------------------------------------------------------------------

    def _check_volume(self, volume):
        listed = {}
        for item in volume.manifest["files"]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                listed[_nfc(item["path"])] = item
        volume.share = self._volume_share(volume, listed)
        self._check_files(volume, listed)
        self._check_unlisted(volume, listed)
        self._check_support_files(volume)
        if BAGIT_TXT in volume.present:
            self._check_bag(volume, listed)

    def _volume_share(self, volume, listed):
        """The paths this location must hold: all of them, or a volume's share."""
        r = self.report
        if VOLUME_INDEX not in volume.present:
            return set(listed)
        src = volume.source
        try:
            data = src.read(VOLUME_INDEX)
            index = json.loads(data.decode("utf-8"))
            signature = base64.b64decode(src.read(VOLUME_SIGNATURE).strip(), validate=True)
        except (OSError, ValueError) as exc:
            r.add(
                FAIL,
                "volume.invalid",
                f"分卷索引 volume.json/volume.sig 无法读取：{exc}",
                f"the volume index volume.json/volume.sig cannot be read: {exc}",
                path=VOLUME_INDEX,
                location=src.label,
            )
            return set(listed)
        volume.index = index
        if self.key is None or not ed25519_verify(self.key, data, signature):
            r.add(
                FAIL,
                "volume.signature",
                "分卷索引的签名无效：volume.json 被改动，无法确定本卷应有哪些文件。",
                "the volume index signature is INVALID: volume.json was changed, so which "
                "files this volume must hold cannot be trusted.",
                path=VOLUME_SIGNATURE,
                location=src.label,
            )
        if isinstance(volume.manifest.get(_SM2["block"]), dict):
            self._check_volume_sm2(volume, data)
        if index.get("manifest_sha256") != hashlib.sha256(volume.manifest_bytes).hexdigest():
            r.add(
                FAIL,
                "volume.manifest",
                "分卷索引指向另一个清单（manifest.json 与索引不符）。",
                "the volume index belongs to another manifest.json.",
                path=VOLUME_INDEX,
                location=src.label,
            )
        number = index.get("volume")
        share = {_nfc(p) for p, v in (index.get("files") or {}).items() if v == number}
        total = index.get("volumes")
        r.add(
            NOTE,
            "volume.share",
            f"本卷为第 {number} 卷（共 {total} 卷），存有 {len(share)} 个文件；其余文件在其他卷上。",
            f"this is volume {number} of {total}, holding {len(share)} file(s); the others "
            "are on the other volumes.",
            location=src.label,
        )
        unknown = share - set(listed)
        for path in sorted(unknown):
            r.add(
                FAIL,
                "volume.unknown_file",
                "分卷索引列出了清单中没有的文件。",
                "the volume index lists a file the manifest does not.",
                path=path,
                location=src.label,
            )
        return share & set(listed)

    def _check_volume_sm2(self, volume, data):
        """A package signed with SM2 has its volume index signed with SM2 too (volume.sm2.sig,
        same key, same ID): a 国密 reader trusts which files a disc must hold by SM2 alone."""
        r = self.report
        src = volume.source
        block = volume.manifest.get(_SM2["block"]) or {}
        try:
            signature = base64.b64decode(src.read(VOLUME_SM2_SIGNATURE).strip(), validate=True)
        except (OSError, ValueError) as exc:
            r.add(
                FAIL,
                "sm2.volume.missing",
                f"分卷索引的 SM2 签名 volume.sm2.sig 缺失或无法读取：{exc}",
                f"the SM2 signature of the volume index, volume.sm2.sig, is missing or "
                f"unreadable: {exc}",
                path=VOLUME_SM2_SIGNATURE,
                location=src.label,
            )
            return
        if self.sm2_key is None or not sm2_verify(self.sm2_key, data, signature, _sm2_id(block)):
            r.add(
                FAIL,
                "sm2.volume.signature",
                "分卷索引的 SM2 签名无效：volume.json 被改动，或 SM2 签名文件不属于此索引。",
                "the SM2 signature of the volume index is INVALID: volume.json was changed, or "
                "volume.sm2.sig does not belong to it.",
                path=VOLUME_SM2_SIGNATURE,
                location=src.label,
            )

    def _check_files(self, volume, listed):
        r = self.report
        src = volume.source
        failed_before = len(r.failures)
        count = 0
        for path in sorted(volume.share):
            item = listed[path]
            here = volume.present.get(path)
            if here is None:
                r.add(
                    FAIL,
                    "file.missing",
                    "文件缺失：清单列出的文件不在包中。",
                    "file MISSING: listed in the manifest but not in the package.",
                    path=path,
                    location=src.label,
                )
                continue
            actual, kind = here
            if kind != "file":
                r.add(
                    FAIL,
                    "file.not_regular",
                    "不是普通文件（链接或设备文件）。",
                    "not a plain file (a link or a device).",
                    path=path,
                    location=src.label,
                )
                continue
            if self._check_one(volume, actual, path, item):
                count += 1
        if len(r.failures) == failed_before and volume.share:
            zh_sm3, en_sm3 = ("", "") if self.sm3_mode == "skip" else ("、SM3", " and SM3")
            r.add(
                PASS,
                "files.match",
                f"{count} 个文件齐全，大小、SHA-256{zh_sm3} 均与清单一致。",
                f"{count} file(s) present; size, SHA-256{en_sm3} match the manifest.",
                location=src.label,
            )

    def _check_one(self, volume, actual, path, item):
        r = self.report
        src = volume.source
        expected_size = item.get("size")
        size = src.size(actual)
        if size != expected_size:
            r.add(
                FAIL,
                "file.size",
                f"大小不符：清单 {expected_size} 字节，实际 {size} 字节。",
                f"size differs: manifest {expected_size} bytes, found {size} bytes.",
                path=path,
                location=src.label,
            )
            return False
        known = self.precomputed.get((src.label, actual))
        if known is not None:
            _size, sha256, sm3 = known
        else:
            with src.open(actual) as fh:
                _size, sha256, sm3 = _hash_stream(fh, self.sm3_mode, self.progress)
        r.files_checked += 1
        r.bytes_checked += size
        ok = True
        if sha256 != str(item.get("sha256", "")).lower():
            ok = False
            r.add(
                FAIL,
                "file.sha256",
                "内容被改动：SHA-256 不符（清单 {}，实际 {}）。".format(item.get("sha256"), sha256),
                "content ALTERED: SHA-256 differs (manifest {}, found {}).".format(
                    item.get("sha256"), sha256
                ),
                path=path,
                location=src.label,
            )
        if sm3 is not None and sm3 != str(item.get("sm3", "")).lower():
            ok = False
            r.add(
                FAIL,
                "file.sm3",
                "内容被改动：SM3 不符（清单 {}，实际 {}）。".format(item.get("sm3"), sm3),
                "content ALTERED: SM3 differs (manifest {}, found {}).".format(
                    item.get("sm3"), sm3
                ),
                path=path,
                location=src.label,
            )
        if ok:
            r.add(
                PASS,
                "file.ok",
                f"一致 SHA-256 {sha256}",
                f"matches, SHA-256 {sha256}",
                path=path,
                location=src.label,
            )
        return ok

    def _check_unlisted(self, volume, listed):
        """Nothing in the package that the manifest does not account for: every payload file is
        listed (and belongs on this volume), every other file is one of the package's own."""
        r = self.report
        src = volume.source
        support = {
            _nfc(str(item.get("path", ""))) for item in volume.manifest.get("support_files") or []
        }
        for path in sorted(volume.present):
            if path in volume.share or path in support or _is_tag_file(path):
                continue
            name = path.rsplit("/", 1)[-1]
            if name.lower() in SYSTEM_FILES or name.startswith("._"):
                r.add(
                    NOTE,
                    "file.system",
                    "操作系统生成的文件，已忽略。",
                    "a file the operating system created; ignored.",
                    path=path,
                    location=src.label,
                )
            elif path in listed:
                r.add(
                    FAIL,
                    "file.wrong_volume",
                    "此文件按分卷索引应在另一卷上。",
                    "by the volume index this file belongs on another volume.",
                    path=path,
                    location=src.label,
                )
            else:
                r.add(
                    FAIL,
                    "file.unlisted",
                    "清单外的文件：包中有清单未列出的文件（被加入？）。",
                    "UNLISTED file: the manifest does not list it (added?).",
                    path=path,
                    location=src.label,
                )

    def _check_support_files(self, volume):
        """The verifier and its README as the bureau shipped them (a changed verify.py could
        report anything: whoever doubts it can run their own copy of this file)."""
        r = self.report
        src = volume.source
        for item in volume.manifest.get("support_files") or []:
            path = _nfc(str(item.get("path", "")))
            here = volume.present.get(path)
            if here is None:
                r.add(
                    NOTE,
                    "support.missing",
                    "附带文件缺失。",
                    "support file missing.",
                    path=path,
                    location=src.label,
                )
                continue
            sha256 = hashlib.sha256(src.read(here[0])).hexdigest()
            if sha256 != item.get("sha256"):
                r.add(
                    FAIL,
                    "support.changed",
                    "与局方原件不同（校验程序或说明被改动？请改用另一份校验程序）。",
                    "differs from the bureau's original (verifier or README altered? use "
                    "another copy of the verifier).",
                    path=path,
                    location=src.label,
                )

    # -- BagIt (RFC 8493) ------------------------------------------------------------------------

    def _check_bag(self, volume, listed):
        r = self.report
        src = volume.source
        failed_before = len(r.failures)
        first_line = src.read(BAGIT_TXT).decode("utf-8", "replace").splitlines()[:1]
        if not first_line or not first_line[0].startswith("BagIt-Version:"):
            r.add(
                FAIL,
                "bag.bagit_txt",
                "bagit.txt 格式不对。",
                "bagit.txt is malformed.",
                path=BAGIT_TXT,
                location=src.label,
            )
        for path in sorted(volume.present):
            name = path
            if "/" in name or not name.endswith(".txt"):
                continue
            if name.startswith("manifest-"):
                self._check_payload_manifest(volume, listed, name)
            elif name.startswith("tagmanifest-"):
                self._check_tag_manifest(volume, name)
        self._check_oxum(volume, listed)
        if len(r.failures) == failed_before:
            r.add(
                PASS,
                "bag.valid",
                "BagIt 清单与标签清单一致。",
                "the BagIt manifests and tag manifests agree.",
                location=src.label,
            )

    def _check_payload_manifest(self, volume, listed, name):
        r = self.report
        src = volume.source
        algorithm = name[len("manifest-") : -len(".txt")]
        entries, bad = _parse_manifest_lines(src.read(name))
        for line in bad:
            r.add(
                FAIL,
                "bag.manifest_line",
                f"{name} 中有重复或无效的行：{line}",
                f"{name} has a duplicate or malformed line: {line}",
                path=name,
                location=src.label,
            )
        if algorithm not in ("sha256", "sm3"):
            r.add(
                NOTE,
                "bag.manifest_other",
                f"{name}：此算法不在本程序核验范围内。",
                f"{name}: this algorithm is not checked by this verifier.",
                path=name,
                location=src.label,
            )
            return
        for path in sorted(set(entries) - volume.share):
            r.add(
                FAIL,
                "bag.manifest_extra",
                f"{name} 列出了本包（卷）不应有的文件。",
                f"{name} lists a file this package (volume) must not hold.",
                path=path,
                location=src.label,
            )
        for path in sorted(volume.share - set(entries)):
            r.add(
                FAIL,
                "bag.manifest_missing",
                f"{name} 漏列了此文件。",
                f"{name} does not list this file.",
                path=path,
                location=src.label,
            )
        for path in sorted(set(entries) & volume.share):
            if entries[path] != str(listed[path].get(algorithm, "")).lower():
                r.add(
                    FAIL,
                    "bag.manifest_digest",
                    f"{name} 中的摘要与 manifest.json 不一致。",
                    f"the digest in {name} differs from manifest.json.",
                    path=path,
                    location=src.label,
                )

    def _check_tag_manifest(self, volume, name):
        r = self.report
        src = volume.source
        algorithm = name[len("tagmanifest-") : -len(".txt")]
        if algorithm not in ("sha256", "sm3"):
            return
        entries, bad = _parse_manifest_lines(src.read(name))
        for line in bad:
            r.add(
                FAIL,
                "bag.tagmanifest_line",
                f"{name} 中有重复或无效的行：{line}",
                f"{name} has a duplicate or malformed line: {line}",
                path=name,
                location=src.label,
            )
        for path, digest in sorted(entries.items()):
            here = volume.present.get(path)
            if here is None:
                r.add(
                    FAIL,
                    "bag.tag_missing",
                    f"{name} 列出的标签文件缺失。",
                    f"a tag file listed in {name} is missing.",
                    path=path,
                    location=src.label,
                )
                continue
            data = src.read(here[0])
            if algorithm == "sha256":
                found = hashlib.sha256(data).hexdigest()
            else:
                found = new_sm3("python" if self.sm3_mode == "python" else "auto")
                found.update(data)
                found = found.hexdigest()
            if found != digest:
                r.add(
                    FAIL,
                    "bag.tag_digest",
                    f"标签文件被改动（{name} 不符）。",
                    f"tag file ALTERED ({name} differs).",
                    path=path,
                    location=src.label,
                )

    def _check_oxum(self, volume, listed):
        r = self.report
        src = volume.source
        if BAG_INFO not in volume.present:
            return
        for line in src.read(BAG_INFO).decode("utf-8", "replace").splitlines():
            if line.lower().startswith("payload-oxum:"):
                value = line.split(":", 1)[1].strip()
                octets = sum(int(listed[p].get("size") or 0) for p in volume.share)
                expected = f"{octets}.{len(volume.share)}"
                if value != expected:
                    r.add(
                        FAIL,
                        "bag.oxum",
                        f"bag-info.txt 的 Payload-Oxum 为 {value}，应为 {expected}。",
                        f"Payload-Oxum in bag-info.txt is {value}, expected {expected}.",
                        path=BAG_INFO,
                        location=src.label,
                    )
                return

    # -- a set of volumes ------------------------------------------------------------------------

    def _check_set(self, volumes):
        """Every listed file on exactly one of the volumes given, and which volumes are
        missing when not all were given."""
        r = self.report
        manifest = volumes[0].manifest
        everything = {
            _nfc(item["path"])
            for item in manifest["files"]
            if isinstance(item, dict) and isinstance(item.get("path"), str)
        }
        numbers = {}
        held = set()
        total = None
        for volume in volumes:
            index = volume.index
            if index is None:
                held |= volume.share or set()
                numbers.setdefault(1, volume.label)
                total = total or 1
                continue
            total = index.get("volumes") or total
            number = index.get("volume")
            if number in numbers:
                r.add(
                    FAIL,
                    "set.duplicate_volume",
                    f"第 {number} 卷出现了两次（{numbers[number]} 与 {volume.label}）。",
                    f"volume {number} was given twice ({numbers[number]} and {volume.label}).",
                )
            numbers[number] = volume.label
            held |= volume.share or set()
        r.volumes = (len(numbers), total or len(numbers))
        if total and len(numbers) < total:
            absent = sorted(set(range(1, total + 1)) - set(numbers))
            unchecked = len(everything - held)
            r.add(
                NOTE,
                "set.partial",
                f"只核验了 {len(numbers)} 卷（共 {total} 卷）；第 {'、'.join(map(str, absent))} "
                f"卷上的 {unchecked} 个文件未核验。要核验全部，请一次给出所有卷。",
                f"only {len(numbers)} of {total} volume(s) checked; {unchecked} file(s) on "
                f"volume(s) {', '.join(map(str, absent))} not checked. Give every volume at "
                "once to check the whole package.",
            )
        elif everything - held:
            for path in sorted(everything - held):
                r.add(
                    FAIL,
                    "set.missing_file",
                    "所有分卷中都没有此文件。",
                    "no volume holds this file.",
                    path=path,
                )
        elif len(volumes) > 1:
            r.add(
                PASS,
                "set.complete",
                f"全部 {total} 卷齐全，合起来包含清单所列的每个文件。",
                f"all {total} volumes present; together they hold every listed file.",
            )


def verify(
    paths,
    *,
    sm3="auto",
    fingerprint=None,
    trusted_key=None,
    progress=None,
    sm2_fingerprint=None,
    trusted_sm2_key=None,
):
    """Verify the package at ``paths`` (one folder, or every volume of a split package) and
    return the :class:`Report`. ``sm3``: ``auto`` (OpenSSL when available, else built-in),
    ``python`` (always the built-in SM3), ``skip`` (SHA-256 only). ``fingerprint`` and
    ``sm2_fingerprint``: the keys' fingerprints the bureau gave in writing."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    sources = [p if hasattr(p, "entries") else DirectorySource(p) for p in paths]
    return Verifier(
        sources,
        sm3=sm3,
        fingerprint=fingerprint,
        trusted_key=trusted_key,
        progress=progress,
        sm2_fingerprint=sm2_fingerprint,
        trusted_sm2_key=trusted_sm2_key,
    ).run()


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


class _Progress:
    """A one-line progress meter on stderr, for packages large enough to take a while."""

    def __init__(self, total):
        self.total = max(total, 1)
        self.done = 0
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, n):
        self.done += n
        now = time.monotonic()
        if now - self.last < 1:
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-6)
        left = (self.total - self.done) / max(rate, 1)
        share = 100.0 * self.done / self.total
        sys.stderr.write(
            f"\r正在核验 checking: {share:5.1f}%  {rate / 1e6:.0f} MB/s  剩余 about {left:.0f} s   "
        )
        sys.stderr.flush()


def _payload_bytes(paths):
    total = 0
    for path in paths:
        try:
            with open(os.path.join(str(path), MANIFEST), "rb") as fh:
                manifest = json.loads(fh.read().decode("utf-8"))
            total += sum(int(item.get("size") or 0) for item in manifest.get("files", []))
        except (OSError, ValueError, AttributeError, TypeError):
            pass
    return total


def main(argv=None):
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(
        prog="verify.py",
        description="留痕 证据包/归档包 离线校验 · verify a Liuhen package offline "
        "(standard library only).",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=[here],
        help="包所在文件夹、光盘或解压后的镜像；分卷时一次给出所有卷。"
        " Package folder, disc or extracted image; every volume of a "
        "split package at once. Default: the folder of this file.",
    )
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    parser.add_argument(
        "--fingerprint",
        help="局方书面提供的公钥指纹 / the key fingerprint the bureau gave you in writing",
    )
    parser.add_argument(
        "--public-key",
        help="局方另行提供的公钥 PEM 文件 / the bureau's public key (PEM) obtained separately",
    )
    parser.add_argument(
        "--sm2-fingerprint",
        help="局方书面提供的 SM2 公钥指纹 / the SM2 key fingerprint the bureau gave you",
    )
    parser.add_argument(
        "--sm2-public-key",
        help="局方另行提供的 SM2 公钥 PEM 文件 / the bureau's SM2 public key (PEM)",
    )
    parser.add_argument(
        "--sm3",
        choices=("auto", "python", "skip"),
        default="auto",
        help="auto: OpenSSL 有则用之，否则内置实现；python: 强制内置实现；"
        "skip: 只核验 SHA-256 / auto, built-in python, or skip SM3",
    )
    parser.add_argument("--verbose", action="store_true", help="逐个列出文件 / list every file")
    args = parser.parse_args(argv)
    trusted = {}
    for option, path, parse in (
        ("--public-key", args.public_key, public_key_from_pem),
        ("--sm2-public-key", args.sm2_public_key, sm2_public_key_from_pem),
    ):
        if path:
            try:
                with open(path, "rb") as fh:
                    trusted[option] = parse(fh.read())
            except (OSError, ValueError) as exc:
                parser.error(f"{option}: {exc}")
    progress = None
    if not args.json and sys.stderr.isatty():
        progress = _Progress(_payload_bytes(args.paths))
    if not args.json and args.sm3 == "python":
        sys.stderr.write("按要求使用内置 SM3（较慢）。Using the built-in SM3 as asked (slow).\n")
    elif not args.json and args.sm3 == "auto" and not openssl_sm3_available():
        sys.stderr.write(
            "本机 OpenSSL 无 SM3，使用内置实现（较慢）；很大的包可加 --sm3 skip 只核验 "
            "SHA-256。\nNo SM3 in this OpenSSL: using the built-in one (slow); for a "
            "very large package, --sm3 skip checks SHA-256 only.\n"
        )
    report = verify(
        args.paths,
        sm3=args.sm3,
        fingerprint=args.fingerprint,
        trusted_key=trusted.get("--public-key"),
        progress=progress,
        sm2_fingerprint=args.sm2_fingerprint,
        trusted_sm2_key=trusted.get("--sm2-public-key"),
    )
    if progress is not None:
        sys.stderr.write("\n")
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.render(verbose=args.verbose))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
