"""The throw-away bureau the million-row benchmarks share (bench_recording_list.py,
bench_supervision.py): a temporary data folder and database (SQLite file, or PostgreSQL database
``liuhen_bench_<random>`` on LIUHEN_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432),
migrated; 33 units, 300 officers, 300 devices, ~5,000 cases and ~2,000 parties with the ORM; the
recordings bulk-inserted in SQL (INSERT ... SELECT over a number series, one per minute from
2024-01-01, 1 in 33 late)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAMS = 30
OFFICERS = 300  # officer k (and device k) belongs to team k % TEAMS
CASES_PER_TEAM = 166
PARTIES_PER_TEAM = 66


@contextmanager
def bench_database(db: str, prefix: str):
    """Environment, data folder and empty migrated database of one run; removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update({
        "LIUHEN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "liuhen.settings",
        "LIUHEN_FAST_PASSWORD_HASHER": "1", "LIUHEN_TASKS": "immediate",
    })
    pg_admin = pg_name = None
    if db == "postgres":
        base = os.environ.get("LIUHEN_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
        pg_name = f"liuhen_bench_{uuid.uuid4().hex[:8]}"
        pg_admin = base.rstrip("/") + "/postgres"
        _pg(pg_admin, f'CREATE DATABASE "{pg_name}"')
        os.environ["LIUHEN_DATABASE_URL"] = base.rstrip("/") + "/" + pg_name
    else:
        os.environ.pop("LIUHEN_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield data_dir
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if pg_name:
            from django.db import connections

            connections.close_all()
            _pg(pg_admin, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _pg(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def seed(rows: int, cases_per_team: int = CASES_PER_TEAM) -> dict:
    """Units, people, devices, cases (``cases_per_team`` each), parties through the ORM;
    recordings in bulk SQL."""
    from datetime import date

    from django.db import connection, transaction

    from liuhen.access.choices import Role
    from liuhen.cases.models import Case, Party
    from liuhen.devices.models import Device
    from liuhen.org.choices import UnitKind
    from liuhen.org.tests.factories import OfficerFactory, UnitFactory

    bureau = UnitFactory(name="某市人力资源和社会保障局", kind=UnitKind.BUREAU)
    detachments = [UnitFactory(name=f"监察支队{i}", parent=bureau) for i in range(2)]
    teams = [UnitFactory(name=f"监察{i}大队", parent=detachments[i % 2], kind=UnitKind.TEAM)
             for i in range(TEAMS)]
    officers = [OfficerFactory(unit=teams[k % TEAMS]) for k in range(OFFICERS)]
    people = {
        "officer (本单位)": officers[7],
        "records keeper (本单位及下级)": OfficerFactory(unit=detachments[1],
                                                    role=Role.RECORDS_KEEPER),
        "legal office (全局)": OfficerFactory(unit=bureau, role=Role.LEGAL_OFFICE),
    }
    devices = Device.objects.bulk_create(
        Device(number=f"DSJ-{k:05d}", unit=teams[k % TEAMS], officer=officers[k])
        for k in range(OFFICERS)
    )
    creator = officers[0].user
    cases = Case.objects.bulk_create(
        Case(number=f"人社监〔2025〕{k + 1}号", year=2025, unit=teams[k % TEAMS], kind="penalty",
             cause=f"拖欠劳动者工资{k}", source="complaint", stage="initiation",
             opened_on=date(2025, 1, 1), created_by=creator)
        for k in range(cases_per_team * TEAMS)
    )
    parties = Party.objects.bulk_create(
        Party(unit=teams[k % TEAMS], kind="organisation", name=f"某某建筑劳务有限公司{k}",
              id_number=f"91130100MA{k:08d}")
        for k in range(PARTIES_PER_TEAM * TEAMS)
    )

    def first_of(objs):
        ids = [o.pk for o in objs]
        assert ids == list(range(ids[0], ids[0] + len(ids))), "ids must be contiguous"
        return ids[0]

    ids = {
        "cases_per_team": cases_per_team, "team": first_of(teams), "officer": first_of(officers), "device": first_of(devices),
        "case": first_of(cases), "party": first_of(parties),
        "user": first_of([o.user for o in officers]),
    }
    pg = connection.vendor == "postgresql"
    for start in range(0, rows, 200_000):
        stop = min(rows, start + 200_000)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_insert_sql(pg, start, stop, ids))
    with transaction.atomic(), connection.cursor() as cursor:
        # Each recording linked to a case has its primary link, as migration 0008 gives them.
        cursor.execute(
            "INSERT INTO evidence_caselink (recording_id, case_id, is_primary, linked_by_id, "
            "linked_at, reason, end_reason) SELECT id, case_id, %s, uploaded_by_id, stored_at, "
            "'存储时关联', '' FROM evidence_recording WHERE case_id IS NOT NULL",
            [True],
        )
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM as autovacuum would soon after a bulk load (the test server runs
        # with autovacuum off); without it no page is all-visible and index-only scans read
        # the table anyway.
        cursor.execute("VACUUM ANALYZE" if pg else "ANALYZE")
    people["_case_number"] = cases[31].number
    people["_team"] = teams[7]
    people["_detachment"] = detachments[1]
    people["_device"] = devices[7].number
    people["_officer"] = officers[7]
    return people


def _insert_sql(pg: bool, start: int, stop: int, ids: dict) -> str:
    """INSERT ... SELECT for recordings ``start`` .. ``stop - 1`` (one per minute since 2024)."""
    x = "x"
    if pg:
        series = f"generate_series({start}, {stop - 1}) AS s(x)"
        at = f"(timestamptz '2024-01-01 00:00:00+00' + {x} * interval '60 seconds')"
        plus = lambda expr, secs: f"({expr} + interval '{secs} seconds')"  # noqa: E731
        hexed = f"lpad(to_hex({x}), 64, '0')"
        true, false, div, jsonb = "true", "false", "/", "::jsonb"
    else:
        series = (f"(WITH RECURSIVE s(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM s "
                  f"WHERE x < {stop - 1}) SELECT x FROM s)")
        at = f"strftime('%Y-%m-%d %H:%M:%S', '2024-01-01 00:00:00', '+' || ({x} * 60) || ' seconds')"
        plus = lambda expr, secs: (  # noqa: E731
            f"strftime('%Y-%m-%d %H:%M:%S', {expr}, '+{secs} seconds')")
        hexed = f"printf('%064x', {x})"
        true, false, div, jsonb = "1", "0", "/", ""
    # h: a multiplicative hash of x, so that late, flagged, case and party are spread over all
    # units independently of x % TEAMS. Not kind: h has x's parity, so the odd teams (the
    # records keeper's detachment) hold no audio, and "kind=audio" is that scope's empty
    # search, the worst case of a list ordered by time.
    h = f"(({x} * 2654435761) % 4294967296)"
    late = f"({h} % 33 = 0)"
    team = f"({x} % {TEAMS})"
    return f"""
    INSERT INTO evidence_recording (
        kind, original_name, size, media_type, container, video_codec, audio_codec,
        duration_seconds, width, height, media_info, captured_start, captured_end,
        capture_time_source, device_id, officer_id, unit_id, patrol_id, case_id, party_id,
        location, sha256, sm3, storage_key, storage_version, uploaded_by_id, channel, stored_at,
        deadline_at,
        late_seconds, is_late, readable, read_error, flags, is_flagged, derivation_status,
        disposal_register)
    SELECT
        CASE WHEN {h} % 10 = 9 THEN 'photo' WHEN {h} % 10 = 8 THEN 'audio' ELSE 'video' END,
        'DSJ_' || {x} || '.MP4', 100000000 + {x}, 'video/mp4', 'mp4', 'hevc', 'aac',
        600.0, 1920, 1080, '{{}}'{jsonb}, {at}, NULL, 'metadata',
        {ids['device']} + ({x} % {OFFICERS}), {ids['officer']} + ({x} % {OFFICERS}),
        {ids['team']} + {team}, NULL,
        CASE WHEN ({h} {div} 7) % 5 = 0 THEN {ids['case']} + ((({h} {div} 35) % {ids['cases_per_team']}) * {TEAMS})
             + {team} END,
        CASE WHEN ({h} {div} 11) % 7 = 0 THEN {ids['party']} + ((({h} {div} 77) % {PARTIES_PER_TEAM}) * {TEAMS})
             + {team} END,
        '', {hexed}, {hexed}, 'sha256/' || {hexed}, '', {ids['user']} + ({x} % {OFFICERS}), 'station',
        CASE WHEN {late} THEN {plus(at, 259200)} ELSE {plus(at, 7200)} END,
        {plus(at, 86400)},
        CASE WHEN {late} THEN 172800 ELSE 0 END,
        CASE WHEN {late} THEN {true} ELSE {false} END,
        {true}, '',
        (CASE WHEN {late} THEN '["late"]' WHEN ({h} {div} 13) % 50 = 1 THEN '["device_faulty"]'
             ELSE '[]' END){jsonb},
        CASE WHEN {late} OR ({h} {div} 13) % 50 = 1 THEN {true} ELSE {false} END,
        'done', ''
    FROM {series}
    """
