"""`make cluster` as a CI test (issue 14 items 1 and 7): the script that starts two nodes, a
worker, HAProxy balancing each request, moto's S3 and Redis on the machine's PostgreSQL runs its
own smoke checks — a session made on node A works on node B; a tus upload whose PATCHes go to
A, B and through the proxy in turn, and one whose PATCHes all go through the proxy on one
keep-alive connection (alternating A, B, A, … as HAProxy's per-node counts confirm), end with
the right SHA-256 and SM3 in S3 under Object Lock with their versions pinned; an upload
terminated through the other node, and one expired by a third process, leave no partial file
and no row; `liuhen storage check` reports the bucket's versioning and Object Lock; one
scheduler leads — and stops everything, its database dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.timeout(1200)  # migrate + demo + three processes on a busy 2-core machine
def test_make_cluster_starts_two_nodes_as_one_and_passes_its_checks():
    url = os.environ.get("LIUHEN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("several nodes share a PostgreSQL database (the machine's own, as "
                    "`make cluster` uses)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    result = subprocess.run([sys.executable, "bench/cluster.py", "--check"], cwd=ROOT,
                            env={**env, "PG_URL": url}, capture_output=True, text=True,
                            timeout=1100)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "集群检查通过" in result.stdout
    assert "缺失 0，已改变 0，出现新版本 0" in result.stdout, result.stdout
    for port_line in ("负载均衡（轮询）", "节点 A", "节点 B"):
        assert port_line in result.stdout
    found = json.loads(result.stdout[result.stdout.index("{"):result.stdout.rindex("}") + 1])
    served = found["keep_alive_served"]  # one keep-alive client's requests, node by node
    assert set(served) == {"a", "b"} and "aa" not in served and "bb" not in served, served
    assert sum(found["keep_alive_requests_per_node"].values()) == len(served)
