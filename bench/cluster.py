"""`make cluster`: two Liuhen nodes as one, on loopback (issue 14 item 7, docs/scale-out.md).

Starts what docs/scale-out.md describes: a fresh database on the machine's own PostgreSQL,
moto's S3 server (a bucket with versioning and Object Lock), a Redis of its own, two app nodes
(`liuhen serve --no-worker`, each with its own data folder, both running the scheduler, which
elects one leader), one worker (`liuhen supervise --no-scheduler`) and a small round-robin
proxy in front of the nodes (each new connection goes to the next node). Loads the demo once
and prints the URLs; Ctrl+C stops everything and drops the database.

    python bench/cluster.py            # run until Ctrl+C
    python bench/cluster.py --check    # start, run the smoke checks below, stop (CI)

``--check``: a session made on node A is valid on node B; a tus upload whose PATCHes go to A, B
and through the proxy in turn ends with the right SHA-256 and SM3, stored in S3 under Object
Lock with its VersionId pinned; `liuhen storage check` is clean; one scheduler leads.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import http.client
import io
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The server, without a database name (`make test`'s PG_URL names one: it is dropped here).
PG_URL = "/".join(os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").split("/")[:3])
PASSWORD = "liuhen-cluster-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"process {proc.args} exited with {proc.returncode}") from None
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")


HAPROXY_CONFIG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 5s
    timeout client 10m
    timeout server 10m
    # Each request is balanced on its own: the connection to the node is closed after each
    # response, so consecutive requests of one keep-alive client go to the nodes in turn.
    option http-server-close
    option forwardfor

frontend liuhen
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    # Which node answered, for the checks (and for anyone debugging the demo).
    http-response set-header X-Liuhen-Node %[srv_name]
{servers}

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
"""


class RoundRobinProxy:
    """HAProxy (Debian's ``haproxy``) in HTTP mode in front of the nodes: each *request* goes to
    the next node in turn (``balance roundrobin`` with ``option http-server-close``), as a load
    balancer in front of a real cluster does, so the PATCHes of one keep-alive tus client
    alternate between the nodes. Every response says which node answered
    (``X-Liuhen-Node: a``); ``requests()`` reads HAProxy's per-node counts from its stats page."""

    def __init__(self, ports: list[int], workdir: Path, spawn) -> None:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(haproxy).exists():
            raise RuntimeError("需要 HAProxy：sudo apt-get install haproxy（make cluster 会安装）")
        self.port, self.stats_port = free_port(), free_port()
        self.names = dict(zip(ports, "abcdefgh", strict=False))
        servers = "\n".join(f"    server {self.names[p]} 127.0.0.1:{p}" for p in ports)
        config = workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, stats_port=self.stats_port,
                                                servers=servers))
        self.proc = spawn("haproxy", [haproxy, "-db", "-f", str(config)])
        wait_for_port(self.port, self.proc)

    def requests(self) -> dict[str, int]:
        """Requests each node got through the proxy (HAProxy's stats: with
        http-server-close every request is a session of its own)."""
        response, data = _request(self.stats_port, "GET", "/stats;csv")
        rows = list(csv.reader(io.StringIO(data.decode())))
        header = [h.lstrip("# ") for h in rows[0]]
        found = {}
        for row in rows[1:]:
            record = dict(zip(header, row, strict=False))
            if record.get("pxname") == "nodes" and record.get("svname") in self.names.values():
                found[record["svname"]] = int(record["stot"] or 0)
        return found


class Cluster:
    """Everything `make cluster` starts, in a temporary folder; ``stop()`` undoes it all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.db = f"liuhen_cluster_{uuid.uuid4().hex[:8]}"
        self.moto = None
        self.proxy = None
        self.nodes: list[dict] = []

    # -- the services every node shares ------------------------------------------------
    def _pg(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def _spawn(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        self._pg(f'CREATE DATABASE "{self.db}"')
        s3_port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
        self.moto.start()
        s3_url = f"http://127.0.0.1:{s3_port}"
        keys = {"aws_access_key_id": "cluster", "aws_secret_access_key": "cluster",
                "region_name": "us-east-1"}
        boto3.client("s3", endpoint_url=s3_url, **keys).create_bucket(
            Bucket="liuhen-evidence", ObjectLockEnabledForBucket=True)
        redis_port = free_port()
        redis = self._spawn("redis", [shutil.which("redis-server") or "redis-server",
                                      "--port", str(redis_port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no",
                                      "--dir", str(self.workdir)], dict(os.environ))
        wait_for_port(redis_port, redis)
        ports = [free_port(), free_port()]
        self.proxy = RoundRobinProxy(ports, self.workdir,
                                     lambda name, args: self._spawn(name, args, dict(os.environ)))
        origins = [f"http://127.0.0.1:{p}" for p in [self.proxy.port, *ports]]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")},
            "DJANGO_SETTINGS_MODULE": "liuhen.settings",
            "PYTHONPATH": str(ROOT),
            "LIUHEN_MULTI_NODE": "true",
            "LIUHEN_SECRET_KEY": secrets.token_urlsafe(50),
            "LIUHEN_DATABASE_URL": f"{PG_URL}/{self.db}",
            "LIUHEN_TASKS": "rq",
            "LIUHEN_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LIUHEN_STORAGE": "s3",
            "LIUHEN_S3_ENDPOINT_URL": s3_url,
            "LIUHEN_S3_BUCKET": "liuhen-evidence",
            "LIUHEN_S3_ACCESS_KEY": "cluster",
            "LIUHEN_S3_SECRET_KEY": "cluster",
            "LIUHEN_UPLOAD_DIR": str(self.workdir / "shared-uploads"),
            "LIUHEN_CSRF_TRUSTED_ORIGINS": ",".join(origins),
            "LIUHEN_FAST_PASSWORD_HASHER": "1",
        }
        self.manage("migrate", "-v0")
        self.manage("demo", "--if-empty")
        for name, port in zip("ab", ports, strict=True):
            env = {**self.env, "LIUHEN_DATA_DIR": str(self.workdir / f"node-{name}")}
            proc = self._spawn(f"node-{name}", [sys.executable, "-m", "liuhen", "serve",
                                                "--bind", f"127.0.0.1:{port}", "--no-worker"],
                               env)
            self.nodes.append({"name": name, "port": port, "proc": proc})
        worker_env = {**self.env, "LIUHEN_DATA_DIR": str(self.workdir / "worker")}
        self._spawn("worker", [sys.executable, "-m", "liuhen", "supervise", "--no-scheduler"],
                    worker_env)
        for node in self.nodes:
            wait_for_port(node["port"], node["proc"], 90)

    def manage(self, *args: str, node: str = "admin") -> str:
        env = {**self.env, "LIUHEN_DATA_DIR": str(self.workdir / node)}
        result = subprocess.run([sys.executable, "-m", "liuhen", *args], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"liuhen {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def urls(self) -> list[str]:
        return [f"负载均衡（轮询）  http://127.0.0.1:{self.proxy.port}/"] + [
            f"节点 {n['name'].upper()}          http://127.0.0.1:{n['port']}/" for n in self.nodes]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.moto is not None:
            self.moto.stop()
        try:
            self._pg(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        except Exception as exc:  # noqa: BLE001 - said, not hidden: the database stays behind
            print(f"数据库 {self.db} 未能删除：{exc}", file=sys.stderr)


# -- the smoke checks of --check (also what the CI test asserts) ------------------------------
def _request(port: int, method: str, path: str, body: bytes = b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


class TusClient:
    """A tus client whose requests go to ``ports`` in turn, a new connection each; with
    ``keep_alive`` (one port: the proxy) all go over one kept-alive connection, as tuspy's and
    browsers' do. ``served`` lists the node that answered each request (HAProxy's
    ``X-Liuhen-Node``, or the node asked directly)."""

    def __init__(self, token: str, ports: list[int], names: dict[int, str],
                 keep_alive: bool = False) -> None:
        self.auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        self._turn, self._names = itertools.cycle(ports), names
        self._conn = (http.client.HTTPConnection("127.0.0.1", ports[0], timeout=600)
                      if keep_alive else None)
        self.served: list[str] = []

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        headers = {**self.auth, **(headers or {})}
        if self._conn is None:
            port = next(self._turn)
            response, data = _request(port, method, path, body, headers)
            node = response.getheader("X-Liuhen-Node") or self._names.get(port, "?")
        else:
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
            node = response.getheader("X-Liuhen-Node") or "?"
        self.served.append(node)
        return response, data

    def create(self, length: int, name: str) -> str:
        meta = f"filename {base64.b64encode(name.encode()).decode()}"
        created, body = self.request("POST", "/api/uploads/", headers={
            "Upload-Length": str(length), "Upload-Metadata": meta})
        if created.status != 201:
            raise RuntimeError(f"tus create: {created.status} {body[:300]!r}")
        return "/" + created.getheader("Location").split("/", 3)[3]

    def patch(self, path: str, data: bytes, step: int, start: int = 0, stop: int | None = None):
        """PATCH ``data[start:stop]`` in chunks of ``step``; returns the last response."""
        last = None
        for offset in range(start, len(data) if stop is None else stop, step):
            chunk = data[offset:offset + step]
            sha = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            last, body = self.request("PATCH", path, chunk, {
                "Upload-Offset": str(offset), "Upload-Checksum": f"sha256 {sha}",
                "Content-Type": "application/offset+octet-stream"})
            if last.status != 204:
                raise RuntimeError(f"tus PATCH at {offset}: {last.status} {body[:300]!r}")
        return last

    def upload(self, data: bytes, name: str, step: int) -> dict:
        """One whole upload; returns the digests the server answered with."""
        last = self.patch(self.create(len(data), name), data, step)
        return {"sha256": last.getheader("Liuhen-Sha256"), "sm3": last.getheader("Liuhen-Sm3")}


def alternates(served: list[str]) -> bool:
    """Every request answered by another node than the one before."""
    return len(set(served)) > 1 and all(x != y for x, y in itertools.pairwise(served))


SETUP_OFFICER = """
from liuhen.access.choices import Role
from liuhen.access.services import create_token
from liuhen.org.models import Officer
officer = Officer.objects.filter(role=Role.OFFICER, user__is_active=True).order_by("pk").first()
officer.user.set_password({password!r})
officer.user.save(update_fields=["password"])
print(officer.user.username, create_token(user=officer.user, name="cluster")[1])
"""


def login(port: int, username: str) -> str:
    """Log in on one node; returns the session cookie."""
    import re

    response, page = _request(port, "GET", "/login/")
    csrf = response.getheader("Set-Cookie").split("csrftoken=")[1].split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    body = f"csrfmiddlewaretoken={token}&username={username}&password={PASSWORD}".encode()
    response, _ = _request(port, "POST", "/login/", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
        "Referer": f"http://127.0.0.1:{port}/login/"})
    cookies = response.headers.get_all("Set-Cookie") or []
    session = [c.split(";")[0] for c in cookies if c.startswith("sessionid=")]
    if response.status != 302 or not session:
        raise RuntimeError(f"login on {port}: {response.status}")
    return session[0]


EXPIRE_UPLOADS = """
from datetime import timedelta
from django.utils import timezone
from liuhen.evidence.uploads import clean_expired_uploads
print(clean_expired_uploads(now=timezone.now() + timedelta(hours={hours})))
"""


def check(cluster: Cluster) -> dict:
    """The smoke checks; returns what was found (raises on the first failure)."""
    username, token = cluster.manage(
        "shell", "-c", SETUP_OFFICER.format(password=PASSWORD)).split()[-2:]
    a, b = (n["port"] for n in cluster.nodes)
    names = {n["port"]: n["name"] for n in cluster.nodes}
    proxy = cluster.proxy
    session = login(a, username)
    response, _ = _request(b, "GET", "/", headers={"Cookie": session})
    assert response.status == 200, f"session from A on B: {response.status}"
    found = {}
    # 1. PATCHes to A, B and the proxy in turn (a new connection each).
    data = (ROOT / "README.md").read_bytes() * 40  # ~1 MiB, not media: stored as is
    turns = TusClient(token, [a, b, proxy.port], names)
    found["upload"] = turns.upload(data, "DSJ001_20261127083000_0001.MP4", 96 * 1024)
    assert found["upload"]["sha256"] == hashlib.sha256(data).hexdigest(), found
    assert found["upload"]["sm3"] == hashlib.new("sm3", data).hexdigest(), found
    # 2. One keep-alive client through the proxy: HAProxy balances each request, so its
    #    PATCHes alternate between the nodes; the running digests follow the upload (14.1).
    before = proxy.requests()
    data = data[::-1]
    one = TusClient(token, [proxy.port], names, keep_alive=True)
    found["keep_alive_upload"] = one.upload(data, "DSJ001_20261127083500_0002.MP4", 64 * 1024)
    assert found["keep_alive_upload"]["sha256"] == hashlib.sha256(data).hexdigest(), found
    assert found["keep_alive_upload"]["sm3"] == hashlib.new("sm3", data).hexdigest(), found
    assert alternates(one.served), one.served
    after = proxy.requests()
    counted = {node: after[node] - before.get(node, 0) for node in after}
    assert counted == {node: one.served.count(node) for node in counted}, (counted, one.served)
    found["keep_alive_served"] = "".join(one.served)
    found["keep_alive_requests_per_node"] = counted
    # 3. Termination through the other node removes the partial file where it is (14.1).
    parts = cluster.workdir / "shared-uploads" / "tus"
    turns = TusClient(token, [a, b], names)
    path = turns.create(len(data), "DSJ001_20261127084000_0003.MP4")
    turns.patch(path, data, 64 * 1024, stop=4 * 64 * 1024)  # B, A, B, A
    upload_id = path.rstrip("/").rsplit("/", 1)[1]
    part = parts / f"{upload_id}.part"
    assert part.stat().st_size == 4 * 64 * 1024, part
    gone, _ = turns.request("DELETE", path)  # through B, A took the last PATCH
    assert gone.status == 204 and not part.exists(), (gone.status, part.exists())
    for port in (a, b):
        response, _ = _request(port, "HEAD", path, headers=turns.auth)
        assert response.status in (404, 410), (port, response.status)
    found["terminated_served"] = "".join(turns.served)
    # 4. Expiry, run on any node, removes the rows and the partial files the nodes left.
    turns = TusClient(token, [b, a], names)
    path = turns.create(len(data), "DSJ001_20261127084500_0004.MP4")
    turns.patch(path, data, 64 * 1024, stop=3 * 64 * 1024)  # A, B, A
    part = parts / f"{path.rstrip('/').rsplit('/', 1)[1]}.part"
    assert part.exists()
    expired = int(cluster.manage("shell", "-c", EXPIRE_UPLOADS.format(hours=24 * 30)).split()[-1])
    assert expired == 1 and not part.exists(), (expired, part.exists())
    for port in (a, b):
        response, _ = _request(port, "HEAD", path, headers=turns.auth)
        assert response.status in (404, 410), (port, response.status)
    found["expired_served"] = "".join(turns.served)
    report = cluster.manage("storage", "check", "--sample", "1")
    assert "版本控制 Enabled" in report and "对象锁定 已启用" in report, report
    leaders = cluster.manage("scheduler", "--list")
    assert "调度主节点：" in leaders and "无（" not in leaders, leaders
    return {**found, "storage_check": report.strip().splitlines()[-1],
            "leader": leaders.strip().splitlines()[-1], "proxy_requests": proxy.requests()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="run the smoke checks, then stop")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="liuhen-cluster-"))
    cluster = Cluster(workdir)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        cluster.start()
        print(f"留痕集群已启动（PostgreSQL 数据库 {cluster.db}，moto S3，Redis，两个节点，"
              "一个任务进程）")
        for line in cluster.urls():
            print("  " + line)
        print(f"  日志：{workdir}")
        if args.check:
            print(json.dumps(check(cluster), ensure_ascii=False, indent=2))
            print("集群检查通过")
            return 0
        print("演示账户见 `liuhen demo` 的输出；按 Ctrl+C 停止")
        while not stopping.is_set():
            stopping.wait(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
