"""The bureau's signing keys: Ed25519 (RFC 8032) through ``cryptography``, and SM2 (GB/T 32918)
through the system's OpenSSL 3 command.

What the bureau supplies to a review body or a court (第十七条第三款) and what it burns to disc
for long-term keeping (第十五条) carries a signature over its manifest, so the receiver can
prove it is what the bureau issued (DA/T 70 真实性). Each key lives in one PEM file whose path
the caller passes (no settings are read here); it is created on first use with mode 0600 and
refused if others may read it, as ssh does.

SM2 is signed beside Ed25519, never instead of it: a receiver who works with 国密 algorithms
checks the SM2 signature, anyone else the Ed25519 one, and the package's verifier checks both.
No Python package is used for SM2 (``gmssl`` is pure Python with Python's insecure ``random``
for its nonces; ``cryptography`` does not expose OpenSSL's SM2): the key is made and used by the
``openssl`` command of Debian's OpenSSL 3, whose SM2 draws its nonces from OpenSSL's own random
generator. The signature follows GB/T 32918.2 with SM3 (GB/T 32905) over the Z value of the
signer's distinguishing ID, the default ID ``1234567812345678`` of GB/T 35276 passed explicitly
(OpenSSL 3.0 otherwise uses an empty ID), encoded as DER ``SEQUENCE {r, s}``. The private key
reaches ``openssl`` through a pipe, never a command-line argument or a temporary file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from liuhen.core import files
from liuhen.packaging import verifier
from liuhen.packaging.errors import KeyFileError

ALGORITHM = "Ed25519"
SM2_ALGORITHM = "SM2"


def _read_key_file(path: Path) -> bytes:
    """The bytes of a private key file; refused when missing, unreadable, or readable by group
    or others (mode wider than 0600)."""
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
    return data


class _StoredKey:
    """What both kinds of key share: a PEM file of mode 0600, loaded (refused when others may
    read it) or created exclusively on first use. Subclasses make a new PEM and read one."""

    @classmethod
    def _new_pem(cls, password: bytes | None) -> bytes:
        raise NotImplementedError

    @classmethod
    def _from_pem(cls, pem: bytes, password: bytes | None, path: Path | None):
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | os.PathLike, *, password: bytes | None = None):
        """Load the key at ``path`` (PKCS#8 PEM); refuse a file group or others may read."""
        path = Path(path)
        return cls._from_pem(_read_key_file(path), password, path)

    @classmethod
    def load_or_create(cls, path: str | os.PathLike, *, password: bytes | None = None):
        """The key at ``path``, generated there (0600, created exclusively, so two processes
        starting together end up with the same key) when no file exists yet."""
        path = Path(path)
        if path.exists():
            return cls.load(path, password=password)
        pem = cls._new_pem(password)
        if not files.create_once(path, pem):  # another process made it first: use theirs
            return cls.load(path, password=password)
        return cls._from_pem(pem, password, path)


class SigningKey(_StoredKey):
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
    def _from_pem(cls, pem: bytes, password: bytes | None, path: Path | None) -> SigningKey:
        where = f"：{path}" if path else ""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # an SM2 key: unsupported
            raise KeyFileError(
                f"签名密钥文件无法解析（应为 Ed25519 密钥）{where}", detail=str(exc)
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"签名密钥不是 Ed25519 密钥{where}")
        return cls(key, path=path)

    @classmethod
    def _new_pem(cls, password: bytes | None) -> bytes:
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

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


def _openssl(
    args: list[str], *, data: bytes = b"", key: bytes | None = None, password: bytes | None = None
) -> bytes:
    """Run ``openssl`` with ``data`` on stdin and return its stdout. ``key`` (a PEM) and
    ``password`` reach it through pipes, named in ``args`` as ``{key}`` (``/dev/fd/N``) and
    ``{password}`` (``fd:N``): never on the command line, never in a file."""
    program = shutil.which("openssl")
    if program is None:
        raise KeyFileError(
            "本机没有 openssl 命令，无法使用 SM2 签名（Debian：apt install openssl）"
        )
    fds: list[int] = []
    names: dict[str, str] = {}
    try:
        for name, secret, form in (("{key}", key, "/dev/fd/{}"), ("{password}", password, "fd:{}")):
            if secret is None:
                continue
            read, write = os.pipe()
            fds.append(read)
            with os.fdopen(write, "wb") as fh:  # a PEM or a password fits the pipe's buffer
                fh.write(secret)
            names[name] = form.format(read)
        argv = [program, *(names.get(arg, arg) for arg in args)]
        done = subprocess.run(
            argv, input=data, capture_output=True, pass_fds=fds, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise KeyFileError("无法运行 openssl 进行 SM2 运算", detail=str(exc)) from exc
    finally:
        for fd in fds:
            os.close(fd)
    if done.returncode != 0:
        raise KeyFileError(
            "openssl 的 SM2 运算失败",
            detail=done.stderr.decode("utf-8", "replace").strip()[:500],
        )
    return done.stdout


class SM2SigningKey(_StoredKey):
    """An SM2 private key (GB/T 32918, curve sm2p256v1) kept as its PKCS#8 PEM and used through
    the ``openssl`` command, with what a package needs of it: ``sign`` (DER ``SEQUENCE {r, s}``
    over SM3 of Z‖M, Z of the default ID), the public key as PEM, and the fingerprint the
    receiver compares (SHA-256 of the 65-byte uncompressed point 04‖X‖Y). ``verify`` is the
    package verifier's own SM2 code: each signature is checked by a second implementation."""

    algorithm = SM2_ALGORITHM
    signer_id = verifier.SM2_DEFAULT_ID

    def __init__(
        self, pem: bytes, *, password: bytes | None = None, path: Path | None = None
    ) -> None:
        self._pem, self._password, self.path = pem, password, path
        where = f"：{path}" if path else ""
        try:
            self.public_key_pem = _openssl(
                [
                    "pkey",
                    "-in",
                    "{key}",
                    "-pubout",
                    *(["-passin", "{password}"] if password is not None else []),
                ],
                key=pem,
                password=password,
            )
        except KeyFileError as exc:
            raise KeyFileError(f"签名密钥文件无法解析{where}", detail=exc.detail) from exc
        try:
            self.public_key_raw = verifier.sm2_public_key_from_pem(self.public_key_pem)
        except ValueError as exc:
            raise KeyFileError(f"签名密钥不是 SM2 密钥{where}", detail=str(exc)) from exc
        self.fingerprint = verifier.key_fingerprint(self.public_key_raw)

    @classmethod
    def _new_pem(cls, password: bytes | None) -> bytes:
        args = ["genpkey", "-algorithm", "SM2"]
        if password is not None:
            args += ["-aes-256-cbc", "-pass", "{password}"]
        return _openssl(args, password=password)

    @classmethod
    def _from_pem(cls, pem: bytes, password: bytes | None, path: Path | None) -> SM2SigningKey:
        return cls(pem, password=password, path=path)

    @classmethod
    def generate(cls, *, password: bytes | None = None) -> SM2SigningKey:
        """A fresh key held only in memory (tests, or a caller that stores it elsewhere)."""
        return cls(cls._new_pem(password), password=password)

    def sign(self, data: bytes) -> bytes:
        """The SM2 signature of ``data`` (DER), with SM3 and the default ID
        1234567812345678 (GB/T 32918.2, GB/T 35276)."""
        args = [
            "pkeyutl",
            "-sign",
            "-rawin",
            "-digest",
            "sm3",
            "-inkey",
            "{key}",
            "-pkeyopt",
            f"distid:{self.signer_id}",
        ]
        if self._password is not None:
            args += ["-passin", "{password}"]
        return _openssl(args, data=data, key=self._pem, password=self._password)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``data``."""
        return verifier.sm2_verify(self.public_key_raw, data, signature)
