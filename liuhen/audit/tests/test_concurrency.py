"""Concurrent appends keep the chain intact (第二十六条 (二)).

Two real processes, each with its own database connection, append at the same time to a
server database of their own (PostgreSQL when the suite runs on it: the advisory lock
serialises them; SQLite: BEGIN IMMEDIATE does). Afterwards `liuhen audit verify` walks the
whole chain: no fork, no gap, no duplicate sequence number.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

APPEND = """
from django.db import transaction
from liuhen.audit.services import record
for i in range({n}):
    with transaction.atomic():
        record(actor=None, actor_name="进程{who}", action="test.concurrent",
               target=("test.item", str(i)), detail={{"who": "{who}", "i": i}})
print("done")
"""


@pytest.mark.slow
def test_two_processes_append_without_breaking_the_chain(server_process):
    server = server_process()
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "liuhen", "shell", "-c", APPEND.format(n=n, who=who)],
            env=server.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("A", "B")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and "done" in out, err[-2000:]
    result = server.manage("audit", "verify", "--quiet", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "审计日志完整" in result.stdout
    counts = server.manage(
        "shell",
        "-c",
        (
            "from liuhen.audit.models import AuditEntry as E; "
            "q = E.objects.filter(action='test.concurrent'); "
            "print(q.filter(actor_name='进程A').count(), q.filter(actor_name='进程B').count(), "
            "E.objects.count(), max(E.objects.values_list('seq', flat=True)))"
        ),
    )
    a, b, total, top = (int(x) for x in counts.stdout.split()[-4:])
    assert (a, b) == (n, n) and top == total
