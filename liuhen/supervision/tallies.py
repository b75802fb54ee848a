"""Running tallies of the recordings the spot-check draw counts (第二十三条), kept by the database.

The draw's method 2 stratifies and fingerprints the population by, per stratum and per bucket
of ``BUCKET`` consecutive ids, the count of members, the sum of their ids and the sum of their
squared ids modulo ``PRIME`` (``sampling``). Computing that by a GROUP BY over a million
recordings costs seconds; ``supervision_drawtally`` holds the same three numbers already added
up per capture day (UTC+8, 北京时间), unit, kind and bucket, so that a draw adds up a few
thousand tally rows instead of reading a million recordings. The result is the same numbers,
hence the same identity and the same sample: an accelerator of method 2, not another method.

Triggers on ``evidence_recording`` keep the tallies, in the transaction that changes a
recording, whatever path changes it (ingest, a link that moves a recording to another unit,
disposal, bulk SQL): a recording is counted while it is not disposed of (``disposed_at IS
NULL``), under its capture day, unit, kind and bucket. The capture day is that of UTC+8 (the
draw uses the tallies only for periods whose bounds are midnights of UTC+8, which they always
are under Asia/Shanghai); a period bounded otherwise is counted from the recordings themselves.

A redraw (``spot_checks.redraw``) counts from the recordings themselves, never from the
tallies: it is the independent proof that the stored identity was the population's. SQLite
drops a table's triggers when a migration rebuilds the table: a migration that rebuilds
``evidence_recording`` must call :func:`install` again (the tests that compare the tallies
with the recordings fail otherwise).
"""

from __future__ import annotations

from liuhen.core.triggers import VENDORS, TriggerSQL, changed, run

TABLE = "supervision_drawtally"
SOURCE = "evidence_recording"
BUCKET = 4096
PRIME = 2147483647  # 2**31 - 1: a squared id below 3·10^9 fits in 64 bits before the modulo
DAY_OFFSET_HOURS = 8  # the tallies' capture day is that of UTC+8 (北京时间)
TRIGGERS = ("draw_tally_insert", "draw_tally_update", "draw_tally_delete")
FUNCTION = "liuhen_draw_tally"
# What places a recording in a tally row: a change of any of them moves it.
KEYS = ("id", "captured_start", "unit_id", "kind")


def _day(vendor: str, row: str) -> str:
    if vendor == "postgresql":
        return (
            f"(({row}.captured_start AT TIME ZONE 'UTC')"
            f" + interval '{DAY_OFFSET_HOURS} hours')::date"
        )
    # SQLite's date functions round to milliseconds (23:59:59.9999995 would become the next
    # day): the day is that of the whole seconds, as the draw's comparison of the stored text
    # with a period's bound (a whole second) decides.
    return f"date(substr({row}.captured_start, 1, 19), '+{DAY_OFFSET_HOURS} hours')"


def _add(vendor: str, condition: str = "") -> str:
    """Count NEW in its tally row (created at its first member); only when ``condition``
    holds, if one is given (INSERT ... SELECT ... WHERE: SQLite's form of a conditional
    upsert inside a trigger)."""
    values = (
        f"{_day(vendor, 'NEW')}, NEW.unit_id, NEW.kind, NEW.id / {BUCKET}, 1, NEW.id,"
        f" (NEW.id * NEW.id) % {PRIME}"
    )
    source = f"SELECT {values} WHERE {condition}" if condition else f"VALUES ({values})"
    return (
        f"INSERT INTO {TABLE} (day, unit_id, kind, bucket, members, id_sum, square_sum)"
        f" {source} ON CONFLICT (day, unit_id, kind, bucket) DO UPDATE SET"
        f" members = {TABLE}.members + 1, id_sum = {TABLE}.id_sum + excluded.id_sum,"
        f" square_sum = {TABLE}.square_sum + excluded.square_sum"
    )


def _remove(vendor: str, condition: str = "") -> str:
    """Take OLD out of its tally row (only when ``condition`` holds, if one is given)."""
    return (
        f"UPDATE {TABLE} SET members = members - 1, id_sum = id_sum - OLD.id,"
        f" square_sum = square_sum - (OLD.id * OLD.id) % {PRIME}"
        f" WHERE day = {_day(vendor, 'OLD')} AND unit_id = OLD.unit_id AND kind = OLD.kind"
        f" AND bucket = OLD.id / {BUCKET}" + (f" AND {condition}" if condition else "")
    )


def _moved(vendor: str) -> str:
    """An UPDATE that changes what the tallies count of the row."""
    return f"({changed(KEYS, vendor)}) OR ((OLD.disposed_at IS NULL) <> (NEW.disposed_at IS NULL))"


def install_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$\n"
            "BEGIN\n"
            "  IF TG_OP <> 'INSERT' THEN\n"
            f"    IF OLD.disposed_at IS NULL THEN {_remove(vendor)}; END IF;\n"
            "  END IF;\n"
            "  IF TG_OP <> 'DELETE' THEN\n"
            f"    IF NEW.disposed_at IS NULL THEN {_add(vendor)}; END IF;\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END; $$ LANGUAGE plpgsql",
            *[f"DROP TRIGGER IF EXISTS {t} ON {SOURCE}" for t in TRIGGERS],
            f"CREATE TRIGGER draw_tally_insert AFTER INSERT ON {SOURCE}\n"
            f"  FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
            f"CREATE TRIGGER draw_tally_update AFTER UPDATE ON {SOURCE}\n"
            f"  FOR EACH ROW WHEN ({_moved(vendor)}) EXECUTE FUNCTION {FUNCTION}()",
            f"CREATE TRIGGER draw_tally_delete AFTER DELETE ON {SOURCE}\n"
            f"  FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        ]
    return [
        *[f"DROP TRIGGER IF EXISTS {t}" for t in TRIGGERS],
        f"CREATE TRIGGER draw_tally_insert AFTER INSERT ON {SOURCE}\n"
        f"  WHEN NEW.disposed_at IS NULL\n"
        f"  BEGIN {_add(vendor)}; END",
        f"CREATE TRIGGER draw_tally_update AFTER UPDATE ON {SOURCE}\n"
        f"  WHEN {_moved(vendor)}\n"
        "  BEGIN\n"
        f"    {_remove(vendor, 'OLD.disposed_at IS NULL')};\n"
        f"    {_add(vendor, 'NEW.disposed_at IS NULL')};\n"
        "  END",
        f"CREATE TRIGGER draw_tally_delete AFTER DELETE ON {SOURCE}\n"
        "  WHEN OLD.disposed_at IS NULL\n"
        f"  BEGIN {_remove(vendor)}; END",
    ]


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *[f"DROP TRIGGER IF EXISTS {t} ON {SOURCE}" for t in TRIGGERS],
            f"DROP FUNCTION IF EXISTS {FUNCTION}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {t}" for t in TRIGGERS]


def rebuild_sql(vendor: str) -> list[str]:
    """The tallies counted afresh from the recordings (a new table, or a repair)."""
    return [
        f"DELETE FROM {TABLE}",
        f"INSERT INTO {TABLE} (day, unit_id, kind, bucket, members, id_sum, square_sum)"
        f" SELECT {_day(vendor, 'r')}, r.unit_id, r.kind, r.id / {BUCKET}, COUNT(*), SUM(r.id),"
        f" SUM((r.id * r.id) % {PRIME}) FROM {SOURCE} r WHERE r.disposed_at IS NULL"
        f" GROUP BY {_day(vendor, 'r')}, r.unit_id, r.kind, r.id / {BUCKET}",
    ]


# The triggers as ``core.triggers`` describes protections (the upgrade test lists them all).
TALLIES = TriggerSQL({v: install_sql(v) for v in VENDORS}, {v: remove_sql(v) for v in VENDORS})


def install(connection) -> None:
    TALLIES.install(connection)


def remove(connection) -> None:
    TALLIES.remove(connection)


def rebuild(connection) -> None:
    run(connection, rebuild_sql(connection.vendor))
