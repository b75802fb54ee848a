"""Every byte of an upload hashed once per algorithm, whichever worker or node receives it
(issue 9 item 1, issue 14 item 1; uploads/hashing.py). Two processes are played in one:
``hashing.me()`` answers another identity on the thread that plays the second worker, and
the first worker's follower runs on a thread of its own, as in a real server."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.evidence import uploads as upload_files
from liuhen.evidence.digests import Digests, DigestWriter
from liuhen.evidence.models import Recording, UploadSession
from liuhen.evidence.tests import mediafactory
from liuhen.evidence.tests.test_tus import Tus, _b64sha, _path
from liuhen.evidence.uploads import hashing

OTHER_NODE = "node-b:4242:feedbeef"


@pytest.fixture
def tus_a(people):
    from liuhen.access.services import create_token

    return Tus(create_token(user=people["officer_a"].user, name="采集站")[1])


@pytest.fixture
def hashed(monkeypatch):
    """Bytes taken by every DigestWriter (each algorithm hashes exactly these)."""
    counter = {"bytes": 0}
    real = DigestWriter.update

    def update(self, chunk):
        counter["bytes"] += len(chunk)
        real(self, chunk)

    monkeypatch.setattr(DigestWriter, "update", update)
    return counter


@pytest.fixture
def workers(monkeypatch):
    """``as_other(fn)`` runs fn as a process of another node. While it waits for this
    process's digests, this process's follower takes a step (in a server: its own thread)."""
    mine = hashing.me()
    state = {"other": False}
    monkeypatch.setattr(hashing, "me", lambda: OTHER_NODE if state["other"] else mine)
    real_dead_here = hashing._dead_here  # both "processes" are alive (they share one pid)
    monkeypatch.setattr(hashing, "_dead_here",
                        lambda holder: holder not in (mine, OTHER_NODE) and real_dead_here(holder))

    def wait(seconds):
        state["other"] = False
        try:
            hashing.follow_once(renew=True)
        finally:
            state["other"] = True

    monkeypatch.setattr(hashing, "_wait", wait)

    class Workers:
        def as_other(self, fn):
            state["other"] = True
            try:
                return fn()
            finally:
                state["other"] = False

    yield Workers()
    hashing.forget_all()


def _media(tmp_path, size):
    return mediafactory.make_large_file(tmp_path / "DSJ001_20261127083000_0001.MP4",
                                        size).read_bytes()


def test_patches_alternating_between_processes_hash_each_byte_once(
    tus_a, workers, hashed, tmp_path
):
    data = _media(tmp_path, 5 << 20)
    cut = [0, 1 << 20, 2 << 20, 3 << 20, 4 << 20, len(data)]
    url = _path(tus_a.create(len(data)))
    for index, (start, end) in enumerate(zip(cut, cut[1:], strict=False)):
        def send(start=start, end=end):
            return tus_a.patch(url, start, data[start:end], checksum=_b64sha(data[start:end]))

        response = send() if index % 2 == 0 else workers.as_other(send)
        assert response.status_code == 204, response.content
    # The last PATCH reached the first process, the hasher; the other one's bytes were
    # read back by its follower. Neither rebuilt anything from byte 0.
    assert response["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    assert hashed["bytes"] == len(data)


def test_the_last_patch_on_another_node_waits_for_the_hashers_digests(
    tus_a, workers, hashed, tmp_path
):
    data = _media(tmp_path, 3 << 20)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[: 1 << 20]).status_code == 204
    response = workers.as_other(lambda: tus_a.patch(url, 1 << 20, data[1 << 20 :]))
    assert response.status_code == 204, response.content
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    assert hashed["bytes"] == len(data)
    upload = UploadSession.objects.get()
    assert upload.hasher != OTHER_NODE and upload.sha256 == hashlib.sha256(data).hexdigest()
    assert Recording.objects.get().submissions.count() == 1


def test_a_checksum_refused_on_the_other_node_appends_nothing(tus_a, workers, tmp_path):
    """Issue 9/14: 460 for a chunk whose sha256 differs, wherever it lands; the offset stays
    and the hasher never sees those bytes."""
    data = _media(tmp_path, 2 << 20)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[:1000]).status_code == 204
    bad = workers.as_other(
        lambda: tus_a.patch(url, 1000, data[1000:], checksum=_b64sha(b"something else"))
    )
    assert bad.status_code == 460 and int(bad["Upload-Offset"]) == 1000
    assert upload_files.partial_path(UploadSession.objects.get().pk).stat().st_size == 1000
    response = workers.as_other(
        lambda: tus_a.patch(url, 1000, data[1000:], checksum=_b64sha(data[1000:]))
    )
    assert response["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()


def test_a_dead_hasher_is_replaced_and_the_digests_rebuilt_once(tus_a, hashed, tmp_path):
    """After a crash the next process takes the lease (at once when the dead holder was on
    this machine; after it expires on another node) and rebuilds from the partial file."""
    data = _media(tmp_path, 2 << 20)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[:700_000]).status_code == 204
    hashing.forget_all()
    dead_here = f"{socket.gethostname()}:999999999:0dead000"
    UploadSession.objects.update(hasher=dead_here, hasher_until=timezone.now() + timedelta(hours=1))
    assert tus_a.patch(url, 700_000, data[700_000:1_400_000]).status_code == 204
    assert UploadSession.objects.get().hasher == hashing.me()
    hashing.forget_all()
    UploadSession.objects.update(hasher=OTHER_NODE, hasher_until=timezone.now() - timedelta(1))
    response = tus_a.patch(url, 1_400_000, data[1_400_000:])
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    # The first PATCH was hashed as it arrived (700,000 bytes). The second one's new hasher
    # was behind (a fresh state at byte 0), so it only wrote the body and left the rebuild to
    # its follower (not running here); the third process rebuilt the whole file once.
    assert hashed["bytes"] == 700_000 + len(data)


def test_a_patch_reaching_the_hasher_behind_only_writes_and_the_follower_hashes(
    tus_a, workers, hashed, tmp_path
):
    """Regression of 3259a36 (bench_serve_upload.py, 0.2-0.5 s more per 16 MiB chunk): the
    hasher must not make the client wait while it catches up with the previous chunk (which
    another worker wrote); it writes the body only and its follower hashes both, once."""
    data = _media(tmp_path, 3 << 20)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[: 1 << 20]).status_code == 204
    assert hashed["bytes"] == 1 << 20  # the hasher, caught up: hashed while receiving
    other = workers.as_other(lambda: tus_a.patch(url, 1 << 20, data[1 << 20 : 2 << 20]))
    assert other.status_code == 204
    assert tus_a.patch(url, 2 << 20, data[2 << 20 : (2 << 20) + 4096]).status_code == 204
    assert hashed["bytes"] == 1 << 20  # behind: nothing hashed in the request
    assert hashing.follow_once() is True
    assert hashed["bytes"] == (2 << 20) + 4096  # the follower read both back, once
    response = tus_a.patch(url, (2 << 20) + 4096, data[(2 << 20) + 4096 :])
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    assert hashed["bytes"] == len(data)  # caught up again: the last one hashed inline


class _LoopEnded(Exception):
    pass


def test_the_follower_never_waits_holding_the_lock_every_request_takes(monkeypatch):
    """Regression of 3259a36: the follower of a worker holding no upload slept 0.5 s with
    ``_guard`` held and took it again at once, so each PATCH reaching that worker waited
    0.5-2 s in ``_claim`` (bench_serve_upload.py: 12.9 s for 256 MiB against 4.8 s)."""
    hashing.forget_all()
    seen = []

    def pause(seconds):
        seen.append(hashing._guard.locked())
        if len(seen) >= 3:
            raise _LoopEnded
        return False

    monkeypatch.setattr(hashing._wake, "wait", pause)
    monkeypatch.setattr(hashing.time, "sleep", pause)
    with pytest.raises(_LoopEnded):
        hashing._follow()
    assert seen == [False, False, False]


def test_tuspy_through_two_web_workers(server_process, tmp_path):
    """`liuhen serve` as deployed (2 web workers): stock tuspy opens a connection per PATCH,
    so its chunks land on both workers; concurrent uploads finish with the right digests and
    each was hashed by one process (its lease), none rebuilt from byte 0."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from tusclient import client
    from tusclient.uploader import Uploader

    from liuhen.evidence.tests.conftest import vault_server_token

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    server = server_process()
    token = vault_server_token(server)
    server.start(workers=2)
    headers = {"Authorization": f"Bearer {token}"}
    tus_client = client.TusClient(server.url + "/api/uploads/", headers=headers)
    files = [
        mediafactory.make_large_file(tmp_path / f"DSJ001_20261127083{n}00_000{n}.MP4",
                                     (6 << 20) + 1009 * n)
        for n in range(3)
    ]

    def upload(path):
        uploader = Sha256Uploader(file_path=str(path), client=tus_client, chunk_size=1 << 20,
                                  metadata={"filename": path.name, "device": "DSJ001"},
                                  upload_checksum=True)
        uploader.upload()
        return requests.get(uploader.url + "/result", headers=headers, timeout=30).json()

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(upload, files))
    for path, result in zip(files, results, strict=True):
        data = path.read_bytes()
        assert result["completed"], result
        assert result["sha256"] == hashlib.sha256(data).hexdigest()
        assert result["sm3"] == hashlib.new("sm3", data).hexdigest()
    log = (server.data_dir / "server.log").read_text(errors="replace")
    assert "Traceback" not in log


@pytest.mark.timeout(600)  # two servers migrated and started: slow on a busy 2-core machine
def test_two_nodes_sharing_the_upload_folder_and_database(server_process, tmp_path):
    """Issue 14 item 1: two `liuhen serve` nodes, each with its own data folder, one PostgreSQL
    database and one LIUHEN_UPLOAD_DIR
    (the shared volume); a tus upload whose PATCHes alternate between them, as a round-robin
    load balancer sends them, ends with the right SHA-256 and SM3, read back from either node,
    and one recording."""
    import base64
    import http.client
    import os
    from urllib.parse import urlparse

    from liuhen.evidence.tests.conftest import vault_server_token

    if not os.environ.get("LIUHEN_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("several nodes share a PostgreSQL database; SQLite is one node by "
                    "construction (docs/uploads.md)")
    shared = {"LIUHEN_UPLOAD_DIR": str(tmp_path / "shared-uploads")}
    node_a = server_process(shared)
    node_b = server_process({**shared, "LIUHEN_DATABASE_URL": node_a.env["LIUHEN_DATABASE_URL"]})
    token = vault_server_token(node_a)
    node_a.start(workers=2)
    node_b.start(workers=2)
    assert node_a.data_dir != node_b.data_dir

    def call(node, method, path, body=b"", **headers):
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        conn.request(method, path, body=body, headers={
            "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", **headers})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    data = mediafactory.make_large_file(tmp_path / "DSJ001_20261127083000_0001.MP4",
                                        (3 << 20) + 4099).read_bytes()
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in {"filename": "DSJ001_20261127083000_0001.MP4",
                                 "device": "DSJ001"}.items())
    created = call(node_a, "POST", "/api/uploads/", Upload_Length=str(len(data)),
                   Upload_Metadata=meta)
    assert created.status == 201
    path = urlparse(created.getheader("Location")).path
    step = 512 * 1024
    nodes = [node_a, node_b]
    for index, start in enumerate(range(0, len(data), step)):
        chunk = data[start:start + step]
        node = nodes[index % 2]
        assert int(call(node, "HEAD", path).getheader("Upload-Offset")) == start
        sha = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        response = call(node, "PATCH", path, chunk, Upload_Offset=str(start),
                        Upload_Checksum=f"sha256 {sha}",
                        Content_Type="application/offset+octet-stream")
        assert response.status == 204, (index, response.status)
    assert response.getheader("Liuhen-Sha256") == hashlib.sha256(data).hexdigest()
    assert response.getheader("Liuhen-Sm3") == hashlib.new("sm3", data).hexdigest()
    for node in nodes:  # the upload's state is in the database: both nodes answer the same
        head = call(node, "HEAD", path)
        assert head.getheader("Upload-Offset") == str(len(data))
        assert head.getheader("Liuhen-Sm3") == hashlib.new("sm3", data).hexdigest()
    assert not list((tmp_path / "shared-uploads").glob("tus/*.part"))  # stored, then removed
    for node in nodes:
        log = (node.data_dir / "server.log").read_text(errors="replace")
        assert "Traceback" not in log


def test_patches_at_unaligned_offsets_read_back_exactly(tus_a, workers, hashed, tmp_path):
    """The hasher reads the other process's bytes back in whole blocks (O_DIRECT) from a block
    boundary: cuts that are not multiples of 4096 hash neither a byte twice nor one too few."""
    data = _media(tmp_path, (3 << 20) + 12345)
    cut = [0, 1000, 5000, (1 << 20) + 4097, (2 << 20) + 1, (2 << 20) + 2, len(data)]
    url = _path(tus_a.create(len(data)))
    for index, (start, end) in enumerate(zip(cut, cut[1:], strict=False)):
        def send(start=start, end=end):
            return tus_a.patch(url, start, data[start:end])

        response = send() if index % 2 == 0 else workers.as_other(send)
        assert response.status_code == 204, response.content
    assert response["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    assert hashed["bytes"] == len(data)


@pytest.mark.parametrize(("start", "stops"), [
    (0, [1]),
    (0, [4096, 4097, 9000]),
    (4095, [4096 * 7 + 3, 40000]),
    (12345, [40000]),  # more than the ring holds in one go: buffers reused
])
def test_catch_up_reads_exactly_the_durable_range(tmp_path, monkeypatch, start, stops):
    monkeypatch.setattr(hashing, "READ_CHUNK", 8192)  # a ring of 3 × 2 blocks
    data = bytes(range(256)) * 200  # 51,200 bytes, no block alike at its own offset
    path = tmp_path / "x.part"
    path.write_bytes(data)
    state = hashing._State()
    state.writer.update(data[:start])
    state.offset = start
    for stop in stops:
        hashing._catch_up(state, path, stop, "u")
        assert state.offset == stop
        assert state.writer.digests() == Digests(
            hashlib.sha256(data[:stop]).hexdigest(), hashlib.new("sm3", data[:stop]).hexdigest(),
            stop,
        )


def test_catch_up_of_a_file_shorter_than_the_offset_says_is_refused(tmp_path):
    from liuhen.core.errors import StorageUnavailable

    path = tmp_path / "x.part"
    path.write_bytes(b"a" * 5000)
    state = hashing._State()
    with pytest.raises(StorageUnavailable):
        hashing._catch_up(state, path, 9000, "u")
    with pytest.raises(StorageUnavailable):
        hashing._catch_up(hashing._State(), tmp_path / "missing.part", 10, "u")


def test_a_patch_on_the_process_that_is_not_the_hasher_does_not_ask_for_the_lease(
    tus_a, workers, hashed, tmp_path
):
    """Issue 9 item 1: the row read under the write lock names a live hasher elsewhere, so
    the other process writes the bytes without an UPDATE of the lease (on SQLite each one
    took the database's write lock); once the lease has lapsed it does take it over."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = _media(tmp_path, 3 << 20)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[: 1 << 20]).status_code == 204
    with CaptureQueriesContext(connection) as queries:
        response = workers.as_other(lambda: tus_a.patch(url, 1 << 20, data[1 << 20 : 2 << 20]))
    assert response.status_code == 204, response.content
    lease_updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")
                     and '"hasher_until"' in q["sql"].split("WHERE")[0]]
    assert lease_updates == []
    assert UploadSession.objects.get().hasher != OTHER_NODE
    UploadSession.objects.update(hasher_until=timezone.now() - timedelta(seconds=1))
    response = workers.as_other(lambda: tus_a.patch(url, 2 << 20, data[2 << 20 :]))
    assert response.status_code == 204, response.content
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    assert hashed["bytes"] <= len(data) + (2 << 20)  # the new hasher rebuilt once, at most
