"""Reversing the tombstone migrations (records 0005, keeping 0008; 第十二条, 第十四条) keeps
written records and case files immutable: on SQLite the reverse rebuilds the table to remove
the tombstone columns, which drops every trigger of it; the reverse installs them again
(issue 11). Tried on a database of its own, SQLite or PostgreSQL as the suite runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import connection

from conftest import ROOT


@pytest.mark.timeout(600)
def test_reversed_tombstone_migrations_keep_updates_refused(server_process):
    server = server_process()  # a database of its own, migrated forward
    result = subprocess.run(
        [sys.executable, "-m", "liuhen.keeping.tests.migrate_back"],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.split("REPORT ", 1)[1])
    assert report["vendor"] == connection.vendor
    # Migrated back: neither tombstone migration is applied any more.
    assert "records.0005_document_tombstones" not in report["applied_after_back"]
    assert "keeping.0008_record_tombstones" not in report["applied_after_back"]
    assert "keeping.0007_disc_burn" in report["applied_after_back"]
    for step in ("forward", "back", "forward_again"):
        refused = report[step]
        # 第二十六条 (二): a written record is never changed; 第十二条: nor a case file's
        # identity (its version), even as a draft.
        assert "written records are immutable" in (refused["records.Document"] or ""), (
            step,
            refused,
        )
        assert "case files are immutable" in (refused["keeping.CaseFile"] or ""), (step, refused)
