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
import asyncio
import base64
import hashlib
import http.client
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


class RoundRobinProxy:
    """A TCP proxy on its own thread: each new connection goes to the next node in turn (what
    nginx's or HAProxy's round robin does per connection)."""

    def __init__(self, ports: list[int]) -> None:
        self.port = free_port()
        self._next = itertools.cycle(ports)
        self.counts = dict.fromkeys(ports, 0)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        port = next(self._next)
        self.counts[port] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return

        async def pipe(src, dst):
            try:
                while data := await src.read(256 * 1024):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


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
        self.proxy = RoundRobinProxy(ports)
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


def tus_upload(ports: list[int], token: str, data: bytes, name: str, step: int) -> dict:
    """One tus upload whose requests go to ``ports`` in turn (one connection each); returns
    the digests the server answered with and the nodes used."""
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in {"filename": name}.items())
    turn = itertools.cycle(ports)
    created, _ = _request(next(turn), "POST", "/api/uploads/",
                          headers={**auth, "Upload-Length": str(len(data)),
                                   "Upload-Metadata": meta})
    if created.status != 201:
        raise RuntimeError(f"tus create: {created.status}")
    path = "/" + created.getheader("Location").split("/", 3)[3]
    last = None
    for start in range(0, len(data), step):
        chunk = data[start:start + step]
        sha = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        port = next(turn)
        last, body = _request(port, "PATCH", path, chunk, {
            **auth, "Upload-Offset": str(start), "Upload-Checksum": f"sha256 {sha}",
            "Content-Type": "application/offset+octet-stream"})
        if last.status != 204:
            raise RuntimeError(f"tus PATCH at {start}: {last.status} {body[:300]!r}")
    return {"sha256": last.getheader("Liuhen-Sha256"), "sm3": last.getheader("Liuhen-Sm3")}


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


def check(cluster: Cluster) -> dict:
    """The smoke checks; returns what was found (raises on the first failure)."""
    username, token = cluster.manage(
        "shell", "-c", SETUP_OFFICER.format(password=PASSWORD)).split()[-2:]
    a, b = (n["port"] for n in cluster.nodes)
    session = login(a, username)
    response, _ = _request(b, "GET", "/", headers={"Cookie": session})
    assert response.status == 200, f"session from A on B: {response.status}"
    data = (ROOT / "README.md").read_bytes() * 40  # ~1 MiB, not media: stored as is
    name = "DSJ001_20261127083000_0001.MP4"
    found = tus_upload([a, b, cluster.proxy.port], token, data, name, 96 * 1024)
    assert found["sha256"] == hashlib.sha256(data).hexdigest(), found
    assert found["sm3"] == hashlib.new("sm3", data).hexdigest(), found
    report = cluster.manage("storage", "check", "--sample", "1")
    assert "版本控制 Enabled" in report and "对象锁定 已启用" in report, report
    leaders = cluster.manage("scheduler", "--list")
    assert "调度主节点：" in leaders and "无（" not in leaders, leaders
    return {"upload": found, "storage_check": report.strip().splitlines()[-1],
            "leader": leaders.strip().splitlines()[-1], "proxy_connections": cluster.proxy.counts}


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
