"""Concurrent appends keep the chain intact (第二十六条 (二)).

Four real processes, each with its own database connection, append at the same time to a
server database of their own (PostgreSQL when the suite runs on it: the advisory lock taken
in ``liuhen_audit_append()`` serialises them; SQLite: BEGIN IMMEDIATE does). They start
together on a signal, after Django is loaded, so their appends overlap. Afterwards
`liuhen audit verify` walks the whole chain, and the sequence numbers are exactly 1…N: no
fork, no gap, no duplicate.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

APPEND = """
import sys
from django.db import transaction
from liuhen.audit.services import record
print("ready", flush=True)
sys.stdin.readline()
for i in range({n}):
    with transaction.atomic():
        record(actor=None, actor_name="进程{who}", action="test.concurrent",
               target=("test.item", str(i)), detail={{"who": "{who}", "i": i}})
    if i % 10 == 9:
        # Now and then an entry whose change is rolled back: it must leave no gap either.
        try:
            with transaction.atomic():
                record(actor=None, actor_name="进程{who}", action="test.rolled_back")
                raise RuntimeError
        except RuntimeError:
            pass
print("done")
"""

READ_BACK = (
    "from liuhen.audit.models import AuditEntry as E; "
    "print(*(f'{s}:{n}' for s, n in E.objects.order_by('seq').values_list('seq', 'actor_name')))"
)


@pytest.mark.slow
def test_four_processes_append_without_breaking_the_chain(server_process):
    server = server_process()
    n, names = 150, ("A", "B", "C", "D")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "liuhen", "shell", "-c", APPEND.format(n=n, who=who)],
            env=server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in names
    ]
    for proc in procs:
        # Django's shell prints its auto-imports first; wait for our own line.
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        else:
            pytest.fail(proc.stderr.read()[-2000:])
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and "done" in out, err[-2000:]

    result = server.manage("audit", "verify", "--quiet", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "审计日志完整" in result.stdout

    pairs = [
        item.split(":", 1)
        for item in server.manage("shell", "--no-imports", "-c", READ_BACK).stdout.split()
    ]
    seqs = [int(seq) for seq, _ in pairs]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    writers = [name for _, name in pairs if name.startswith("进程")]
    assert sorted(writers) == sorted(f"进程{who}" for who in names for _ in range(n))
    if server.pg_db:
        # The appends really overlapped: the writers alternate instead of one block per
        # process. (Not on SQLite: its busy handler makes the waiting writers sleep, so the one
        # that just committed usually takes the next lock too.)
        switches = sum(1 for a, b in zip(writers, writers[1:], strict=False) if a != b)
        assert switches > len(names), f"the processes did not overlap ({switches} switches)"
