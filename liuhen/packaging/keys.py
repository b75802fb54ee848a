"""The bureau's signing keys as the settings name them: the one loader for everything the bureau
signs, the evidence packages supplied to a review body or a court (第十七条第三款) and the
archive packages and disc volume indexes kept long-term (第十五条).

The rest of this library is handed keys and paths; this module alone reads the settings
(``SIGNING_KEY_FILE``; ``SM2_SIGNING`` from ``LIUHEN_SM2_SIGNING``; ``SM2_SIGNING_KEY_FILE``,
empty for ``signing-sm2.pem`` beside the Ed25519 key). Keys are never made here: a key appearing
silently on first use would sign with a key nobody registered (``liuhen signing_key`` makes
them and prints the fingerprints the bureau gives the receivers in writing). With SM2 switched
on and its key missing, nothing is signed: never a package with one signature fewer than the
bureau announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from liuhen.core.errors import Conflict
from liuhen.packaging.errors import PackagingError
from liuhen.packaging.signing import SigningKey, SM2SigningKey


@dataclass(frozen=True)
class BureauKeys:
    """The bureau's Ed25519 key and, unless SM2 signing is switched off, its SM2 key: both
    sign the same manifest bytes (and a disc's volume index), side by side."""

    ed25519: SigningKey
    sm2: SM2SigningKey | None = None

    @property
    def fingerprint(self) -> str:
        return self.ed25519.fingerprint

    @property
    def sm2_fingerprint(self) -> str:
        return self.sm2.fingerprint if self.sm2 is not None else ""


def ed25519_key_path() -> Path:
    """Where the Ed25519 key lives (``settings.SIGNING_KEY_FILE``)."""
    return Path(settings.SIGNING_KEY_FILE).expanduser()


def sm2_key_path(beside: Path | None = None) -> Path | None:
    """Where the SM2 key lives: ``signing-sm2.pem`` beside the Ed25519 key file ``beside``
    when a command names one, else ``settings.SM2_SIGNING_KEY_FILE``, else beside the
    settings' Ed25519 key; None where SM2 signing is switched off."""
    if not settings.SM2_SIGNING:
        return None
    if beside is None and settings.SM2_SIGNING_KEY_FILE:
        return Path(settings.SM2_SIGNING_KEY_FILE).expanduser()
    return Path(beside or ed25519_key_path()).parent / "signing-sm2.pem"


def _load(kind, path: Path, name: str):
    if not path.exists():
        raise Conflict(f"尚未生成本局{name}签名密钥：请系统管理员运行 liuhen signing_key")
    try:
        return kind.load(path)
    except PackagingError as exc:
        raise Conflict(f"{name}签名密钥不可用：{exc}") from exc


def load_keys(ed25519: Path, sm2: Path | None) -> BureauKeys:
    """The keys at these paths (``sm2`` None: Ed25519 alone), each loaded as kept (0600);
    Conflict, in words the page shows, when one is missing or cannot be used."""
    return BureauKeys(ed25519=_load(SigningKey, Path(ed25519), ""),
                      sm2=None if sm2 is None else _load(SM2SigningKey, Path(sm2), "SM2 "))


def bureau_keys() -> BureauKeys:
    """The bureau's keys where the settings put them."""
    return load_keys(ed25519_key_path(), sm2_key_path())
