"""One audit entry with its hash written down (issue 16 item 16, 第二十六条 (二)).

test_chain.py computes the expected hash with the same ``entry_hash`` it tests, so a change
in serialisation (field order, time format, JSON separators, key order, non-ASCII escaping)
or in the SM3 library would pass unnoticed, and every anchor and exported chain head made
before it would stop matching. Here the bytes and the hash are literals: such a change fails.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection

from liuhen.audit.services import _insert, canonical_bytes, entry_hash, verify

VALUES = {
    "seq": 1, "uuid": uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100"),
    "at": datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC), "actor_id": 7,
    "actor_name": "张三", "actor_role": "officer", "session": "s3ss10n", "ip": "10.0.0.8",
    "via": "web", "action": "recording.downloaded", "object_type": "evidence.recording",
    "object_id": "42", "object_repr": "现场检查.mp4", "outcome": "succeeded", "reason": "",
    "detail": {"size": 1048576, "名称": "值", "a": [1.5, None, True]}, "prev_hash": "0" * 64,
}
CANONICAL = (
    '[1,"0f0e0d0c-0b0a-4908-8706-050403020100","2026-03-02T01:02:03.456789Z",7,"张三",'
    '"officer","s3ss10n","10.0.0.8","web","recording.downloaded","evidence.recording","42",'
    '"现场检查.mp4","succeeded","",{"a":[1.5,null,true],"size":1048576,"名称":"值"},'
    '"0000000000000000000000000000000000000000000000000000000000000000"]'
)
HASH = "c86411202910f57a9df6c856bed7abc06f7e302c847292d98dadadde546d2ca4"


def test_canonical_bytes_and_hash_of_a_known_entry():
    assert canonical_bytes(VALUES) == CANONICAL.encode("utf-8")
    assert entry_hash(VALUES) == HASH


@pytest.mark.django_db
def test_verify_accepts_the_known_entry_as_stored_and_refuses_another_hash():
    """The verifier (its own encoder, and on PostgreSQL the stored JSONB read back) reaches
    the same hash from the stored row."""
    with connection.cursor() as cursor:
        _insert(cursor, {**VALUES, "hash": HASH})
    result = verify()
    assert result.ok, result.problem
    assert (result.checked, result.head_seq, result.head_hash) == (1, 1, HASH)


@pytest.mark.django_db
def test_verify_refuses_the_known_entry_with_a_wrong_hash():
    with connection.cursor() as cursor:
        _insert(cursor, {**VALUES, "hash": HASH[:-1] + "5"})
    result = verify()
    assert not result.ok and result.first_bad_seq == 1
