"""The bureau's signing key: Ed25519 (RFC 8032) through ``cryptography``.

What the bureau supplies to a review body or a court (第十七条第三款) and what it burns to disc
for long-term keeping (第十五条) carries a signature over its manifest, so the receiver can
prove it is what the bureau issued (DA/T 70 真实性). The key lives in one PEM file whose path
the caller passes (no settings are read here); it is created on first use with mode 0600 and
refused if others may read it, as ssh does.

SM2 (GB/T 32918) is not offered: no maintained SM2 implementation installs from PyPI as a
plain wheel (``gmssl`` is pure Python, unreleased since 2023, with forks fixing signature
bugs), and ``cryptography`` does not expose OpenSSL's SM2. The manifest names its algorithm,
so an SM2 signature can be added beside the Ed25519 one later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from liuhen.packaging.errors import KeyFileError

ALGORITHM = "Ed25519"


class SigningKey:
    """An Ed25519 private key with what a package needs of it: ``sign``, the public key as PEM,
    and the fingerprint the receiver compares (SHA-256 of the 32 raw public-key bytes)."""

    def __init__(self, private_key: Ed25519PrivateKey, *, path: Path | None = None) -> None:
        self._key = private_key
        self.path = path
        public = private_key.public_key()
        self.public_key_raw = public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint = hashlib.sha256(self.public_key_raw).hexdigest()

    algorithm = ALGORITHM

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key held only in memory (tests, or a caller that stores it elsewhere)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike, *, password: bytes | None = None) -> SigningKey:
        """Load the key at ``path`` (PKCS#8 PEM); refuse a file group or others may read."""
        path = Path(path)
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyFileError(f"签名密钥文件不存在：{path}") from None
        except OSError as exc:
            raise KeyFileError(f"无法读取签名密钥文件：{path}", detail=str(exc)) from exc
        if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
            raise KeyFileError(
                f"签名密钥文件的权限过宽（应为 0600）：{path}",
                detail=f"mode {stat.S_IMODE(mode):04o}; run chmod 600 {path}",
            )
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"签名密钥文件无法解析：{path}", detail=str(exc)) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"签名密钥不是 Ed25519 密钥：{path}")
        return cls(key, path=path)

    @classmethod
    def load_or_create(
        cls, path: str | os.PathLike, *, password: bytes | None = None
    ) -> SigningKey:
        """The key at ``path``, generated there (0600, created exclusively, so two processes
        starting together end up with the same key) when no file exists yet."""
        path = Path(path)
        if path.exists():
            return cls.load(path, password=password)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return cls.load(path, password=password)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return cls(key, path=path)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``data``."""
        public: Ed25519PublicKey = self._key.public_key()
        try:
            public.verify(signature, data)
        except InvalidSignature:
            return False
        return True
