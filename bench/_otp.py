"""Bench logins that pass the TOTP second factor (LIUHEN_OTP_REQUIRED_ROLES: the legal affairs
office, bureau leaders, administrators; access.otp), shared by bench_pages_load.py (a browser's
login over HTTP) and bench_recording_list.py (Django's test client).

A user who must use TOTP and logs in on the password alone is sent to /otp/ on every page: a
bench that did so measured a redirect (302), not the page. Here each such login gets an
authenticator with a key derived from its name, and logs in through /login/ with the password
and the code that authenticator shows, as a person does.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time


def totp_key(username: str) -> str:
    """The bench's authenticator secret for ``username`` (hex, 20 bytes)."""
    return hashlib.sha256(f"liuhen-bench-totp {username}".encode()).hexdigest()[:40]


def totp(key: str, step_offset: int = 0) -> str:
    """RFC 6238 (30 s, 6 digits, SHA-1), the code an authenticator app shows."""
    counter = int(time.time()) // 30 + step_offset
    mac = hmac.new(bytes.fromhex(key), struct.pack(">Q", counter), "sha1").digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def enroll(usernames: list[str]) -> None:
    """A confirmed TOTP device for each of ``usernames`` (Django set up, in this environment's
    database). Its tolerance lets a login that shares a user with another (more users than
    logins) take the next time step's code: django-otp refuses a step already used."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for user in get_user_model().objects.filter(username__in=usernames):
        TOTPDevice.objects.update_or_create(
            user=user,
            name="bench",
            defaults={"key": totp_key(user.username), "confirmed": True, "tolerance": 30},
        )


def login_fields(username: str, password: str, otp_step: int | None = None) -> dict:
    """The login form's fields; with ``otp_step`` (an enrolled user) also the TOTP code of the
    time step ``otp_step`` steps from now, entered on the login form itself."""
    fields = {"username": username, "password": password}
    if otp_step is not None:
        fields["otp_token"] = totp(totp_key(username), otp_step)
    return fields
