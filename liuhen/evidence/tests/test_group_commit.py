"""Group commit at the ingest station (issue 9 item 2): the files prepared by the time the
station is free are registered in one transaction, each still whole or absent with its own
submission, audit entry (第二十六条) and derivation job; every object and the directory entry
naming it are durable before the commit; one file's failure fails that file alone."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django_tasks_db.models import DBTaskResult

from liuhen.audit.models import AuditEntry
from liuhen.evidence import services, station
from liuhen.evidence.models import Recording, RecordingSubmission
from liuhen.evidence.storage import LocalStorage, local, original_key
from liuhen.evidence.tasks import derive_media

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def dump(tmp_path, make_media):
    """Five clips of one shift, as a body camera names them."""
    folder = tmp_path / "DCIM"
    folder.mkdir()
    for n in range(5):
        shutil.move(make_media("h264"), folder / f"DSJ001_2026112708{n:02d}00_{n:04d}.MP4")
    return folder


@pytest.fixture
def two_groups(monkeypatch):
    """Makes the station's groups [first file], [all the others]: the others are prepared
    only once the first is being registered, and that registration waits for all of them."""
    real_prepare, real_ingest = station.prepare_original, services.ingest_recording
    first_taken, all_ready = threading.Event(), threading.Event()
    state = {"names": None, "ready": 0}
    lock = threading.Lock()

    def prepare(path):
        names = state["names"]
        if path.name != names[0]:
            assert first_taken.wait(10)
        result = real_prepare(path)
        with lock:
            state["ready"] += 1
            if state["ready"] == len(names):
                all_ready.set()
        return result

    def ingest(**kwargs):
        if kwargs["original_name"] == state["names"][0]:
            first_taken.set()
            assert all_ready.wait(10), "the other files were not prepared meanwhile"
        return real_ingest(**kwargs)

    monkeypatch.setattr(station, "prepare_original", prepare)
    monkeypatch.setattr(services, "ingest_recording", ingest)

    def arm(folder):
        state["names"] = sorted(p.name for p in folder.iterdir())
        return state["names"]

    return arm


def _run(people, dump, tmp_path, check=True):
    args = ["ingest", str(dump), "--device", "DSJ001", "--user",
            people["keeper_a"].user.username, "--receipt-dir", str(tmp_path / "r"),
            "--verbosity", "0"]
    if check:
        call_command(*args)
        return
    with pytest.raises(SystemExit):
        call_command(*args)


def _receipt(tmp_path) -> dict:
    import json

    return json.loads(next((tmp_path / "r").glob("receipt-*.json")).read_text())


@pytest.mark.django_db
def test_ready_files_commit_together_each_whole(people, bureau, make_device, dump, tmp_path,
                                                monkeypatch, settings, two_groups):
    """Five files in two groups: two commits (before: one per file for the rows and, after
    it, one more per file for its derivation job); each recording has its submission, its
    own ``recording.stored`` entry and its job; each object's directory was synced before the
    commit that made its row visible (a visible row never names bytes a power cut could
    lose). The test runs inside the test's transaction: a commit is the end of a block
    that would be the outermost one, a write outside any block would commit on its own."""
    settings.TASKS = DATABASE_QUEUE
    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    names = two_groups(dump)
    events: list[tuple] = []
    connection = connections["default"]
    outside = len(connection.atomic_blocks)  # the test's own blocks
    real_exit, real_fsync_dir = transaction.Atomic.__exit__, local._fsync_dir

    def exit_block(self, exc_type, exc_value, traceback):
        if exc_type is None and len(connection.atomic_blocks) == outside + 1:
            events.append(("commit",))
        return real_exit(self, exc_type, exc_value, traceback)

    def fsync_dir(path):
        events.append(("fsync", str(path)))
        real_fsync_dir(path)

    def writes_outside_transactions(execute, sql, params, many, context):
        if len(connection.atomic_blocks) == outside and sql.lstrip()[:6].upper() in (
                "INSERT", "UPDATE", "DELETE"):
            events.append(("autocommit", sql[:60]))
        return execute(sql, params, many, context)

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_block)
    monkeypatch.setattr(local, "_fsync_dir", fsync_dir)
    with connection.execute_wrapper(writes_outside_transactions):
        _run(people, dump, tmp_path)
    monkeypatch.undo()

    assert _receipt(tmp_path)["totals"] == {"stored": 5, "duplicate": 0, "failed": 0}
    assert [e for e in events if e[0] != "fsync"] == [("commit",), ("commit",)]
    recordings = {r.original_name: r for r in Recording.objects.all()}
    assert sorted(recordings) == names
    synced, groups = set(), []
    for event in events:
        if event[0] == "fsync":
            synced.add(event[1])
        else:
            groups.append(synced)
            synced = set()
    storage = services.get_storage()
    for group, members in zip(groups, ([names[0]], names[1:]), strict=True):
        for name in members:
            assert str(storage.path(recordings[name].storage_key).parent) in group, name
    jobs = [j.args_kwargs["args"] for j in DBTaskResult.objects.filter(
        task_path=derive_media.module_path)]
    assert sorted(jobs) == sorted([r.pk] for r in recordings.values())
    for recording in recordings.values():
        assert RecordingSubmission.objects.filter(recording=recording).count() == 1
        assert AuditEntry.objects.filter(action="recording.stored",
                                         object_id=str(recording.pk)).count() == 1


@pytest.mark.django_db
def test_a_file_failing_in_its_group_fails_alone(people, bureau, make_device, dump, tmp_path,
                                                 monkeypatch, vault, two_groups):
    """第二十六条: one file whose registration fails (after its object was written) leaves no
    row, no submission and no audit entry of being stored; the files before and after it in
    the same transaction are stored; the receipt keeps it on the camera."""
    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    names = two_groups(dump)
    real_fields = services._recording_fields

    def fields(found, key, identified, classified, original_name):
        if original_name == names[2]:
            raise RuntimeError("读取媒体信息时出错")
        return real_fields(found, key, identified, classified, original_name)

    monkeypatch.setattr(services, "_recording_fields", fields)
    _run(people, dump, tmp_path, check=False)
    body = _receipt(tmp_path)
    assert body["totals"] == {"stored": 4, "duplicate": 0, "failed": 1}
    failed = [i for i in body["items"] if i["status"] == "failed"]
    assert [i["file"] for i in failed] == [names[2]] and failed[0]["safe_to_erase"] == "no"
    assert sorted(Recording.objects.values_list("original_name", flat=True)) == [
        n for n in names if n != names[2]]
    assert RecordingSubmission.objects.count() == 4
    assert AuditEntry.objects.filter(action="recording.stored").count() == 4
    assert not list((vault.root / ".incoming").iterdir())


@pytest.mark.django_db
def test_a_database_error_sends_each_file_of_the_group_alone(
        people, bureau, make_device, dump, tmp_path, monkeypatch, vault, two_groups):
    """A database error in the middle of a group undoes the whole group (none of its rows,
    none of its stored entries); each of its files is then stored again on its own, copied
    and hashed again from the card: every file stored once, no staged copy left."""
    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    names = two_groups(dump)
    real_fields = services._recording_fields
    failures = []

    def fields(found, key, identified, classified, original_name):
        if original_name == names[3] and not failures:
            failures.append(original_name)
            raise DatabaseError("database is locked")
        return real_fields(found, key, identified, classified, original_name)

    monkeypatch.setattr(services, "_recording_fields", fields)
    _run(people, dump, tmp_path)
    assert failures == [names[3]]
    assert _receipt(tmp_path)["totals"] == {"stored": 5, "duplicate": 0, "failed": 0}
    assert sorted(Recording.objects.values_list("original_name", flat=True)) == names
    assert AuditEntry.objects.filter(action="recording.stored").count() == 5
    assert RecordingSubmission.objects.count() == 5
    assert not list((vault.root / ".incoming").iterdir())


@pytest.mark.django_db
def test_the_derivation_job_is_written_in_the_recordings_transaction(
        people, bureau, make_device, make_media, settings):
    """With the queue in the database the job commits with its recording, or neither does."""
    settings.TASKS = DATABASE_QUEUE
    device = make_device(bureau["team_a"], officer=people["officer_a"])

    def ingest():
        path = make_media("h264")
        return services.ingest_recording(source_path=path, original_name=path.name,
                                         actor=people["keeper_a"].user, channel="station",
                                         device=device).recording

    def jobs():
        return [j.args_kwargs["args"] for j in
                DBTaskResult.objects.filter(task_path=derive_media.module_path)]

    with transaction.atomic():
        recording = ingest()
        assert jobs() == [[recording.pk]]  # before the commit, in the same transaction
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest()
        raise RuntimeError("断电")
    assert jobs() == [[recording.pk]] and Recording.objects.count() == 1


@pytest.mark.django_db
def test_other_queues_get_the_job_after_the_commit(people, bureau, make_device, make_media,
                                                   django_capture_on_commit_callbacks):
    """A queue outside the database (Redis) is told only once the row is committed: its
    worker must never look for a recording that is not visible yet."""
    device = make_device(bureau["team_a"], officer=people["officer_a"])
    path = make_media("h264")
    with django_capture_on_commit_callbacks() as callbacks:
        services.ingest_recording(source_path=path, original_name=path.name,
                                  actor=people["keeper_a"].user, channel="station", device=device)
    assert len(callbacks) == 1


def test_a_copy_made_durable_while_staged_is_not_synced_again(tmp_path, monkeypatch):
    """The staged copy was fsynced as it was written (on the station's pool): the commit
    syncs the directory entry that names it, not its bytes a second time (issue 9 item 2:
    every fsync on this disk is a cache flush, about 4 ms). A staged file that does not say
    so (a hard link of a tus upload, a derived file) is synced as before."""
    from liuhen.evidence.storage import Staged

    storage = LocalStorage(tmp_path / "vault")
    source = tmp_path / "clip.bin"
    source.write_bytes(b"x" * 1000)
    synced, fsyncs = [], []
    real_fsync = os.fsync
    monkeypatch.setattr(local, "_fsync_dir", lambda path: synced.append(path))
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    staged = storage.stage(source)
    staged_fsyncs = len(fsyncs)
    key = original_key("ab" * 32)
    storage.commit(staged, key)
    assert staged_fsyncs == 1 and len(fsyncs) == 1  # the copy's own, while staged
    assert synced == [storage.path(key).parent]
    other = tmp_path / "other.bin"
    other.write_bytes(b"y" * 1000)
    storage.commit(Staged(other, staged.digests, temporary=True), key[:-1] + "0")
    assert len(fsyncs) == 2  # not known to be durable: synced before it becomes visible
