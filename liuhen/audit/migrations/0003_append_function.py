"""PostgreSQL only: append an audit entry in one round trip (bench/bench_audit.py).

``liuhen_audit_append()`` takes the chain's advisory lock, reads the head in a statement of
its own and inserts the entry only if the caller built it on that head; otherwise it inserts
nothing and returns the real head, and ``audit.services.record()`` rebuilds the entry and calls
again (the lock is then already held, so the head cannot move). Before, an append cost three
round trips (lock, head, INSERT) besides BEGIN and COMMIT.

Why the head read sees the latest entry: the function is VOLATILE, and in READ COMMITTED every
statement of a volatile PL/pgSQL function runs on a fresh snapshot, taken here after the lock
was granted, i.e. after the previous holder committed. Under REPEATABLE READ or SERIALIZABLE
the transaction's snapshot predates the lock, so the function refuses to run there.

The SQLite path is unchanged: its IMMEDIATE transactions already serialise appends.
"""

from django.db import migrations

# The advisory lock key ("LIUH"), the same one that record() took before this migration.
_CREATE = """
CREATE OR REPLACE FUNCTION liuhen_audit_append(
    p_seq bigint, p_uuid uuid, p_at timestamptz, p_actor_id bigint, p_actor_name varchar,
    p_actor_role varchar, p_session varchar, p_ip varchar, p_via varchar, p_action varchar,
    p_object_type varchar, p_object_id varchar, p_object_repr varchar, p_outcome varchar,
    p_reason text, p_detail jsonb, p_prev_hash varchar, p_hash varchar,
    OUT new_id bigint, OUT head_seq bigint, OUT head_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit append needs READ COMMITTED, not %',
            current_setting('transaction_isolation');
    END IF;
    -- Held until COMMIT or ROLLBACK: one appender at a time, in the order they asked.
    PERFORM pg_advisory_xact_lock(1279874376);
    -- Its own statement, so its own snapshot: taken after the lock was granted.
    SELECT e.seq, e.hash INTO head_seq, head_hash
      FROM audit_auditentry e ORDER BY e.seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    IF p_seq <> head_seq + 1 OR p_prev_hash <> head_hash THEN
        RETURN;  -- built on a stale head: new_id stays NULL, the caller retries on this one
    END IF;
    INSERT INTO audit_auditentry (
        seq, uuid, at, actor_id, actor_name, actor_role, session, ip, via, action,
        object_type, object_id, object_repr, outcome, reason, detail, prev_hash, hash)
    VALUES (
        p_seq, p_uuid, p_at, p_actor_id, p_actor_name, p_actor_role, p_session, p_ip, p_via,
        p_action, p_object_type, p_object_id, p_object_repr, p_outcome, p_reason, p_detail,
        p_prev_hash, p_hash)
    RETURNING id INTO new_id;
    head_seq := p_seq;
    head_hash := p_hash;
END $$
"""

_DROP = """
DROP FUNCTION IF EXISTS liuhen_audit_append(
    bigint, uuid, timestamptz, bigint, varchar, varchar, varchar, varchar, varchar, varchar,
    varchar, varchar, varchar, varchar, text, jsonb, varchar, varchar)
"""


def _run(schema_editor, sql: str) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the % in RAISE is PL/pgSQL's, not a placeholder


def create(apps, schema_editor):
    _run(schema_editor, _CREATE)


def drop(apps, schema_editor):
    _run(schema_editor, _DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(create, drop)]
