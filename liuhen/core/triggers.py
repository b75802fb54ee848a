"""One generator for the database triggers that make a table append-only or immutable
(issue 16 item 20): the audit log, stored originals and their disposals (第二十六条 (二),
第十四条), written records (第二十六条) and bound case files (第十二条) all get their
protection from :func:`immutable_table_sql`, on SQLite and PostgreSQL alike.

For a table and a ``name`` it makes, with the same names on both databases:

* ``{name}_refuse_update`` — BEFORE UPDATE, refused when ``refused_update`` holds (every
  UPDATE when it is ``True``, none when it is ``False``);
* ``{name}_refuse_delete`` — BEFORE DELETE, refused when ``refused_delete`` holds;
* PostgreSQL also ``{name}_refuse_truncate`` — BEFORE TRUNCATE, always refused when deletes
  are refused at all (TRUNCATE would delete every row past any permit) — and the one PL/pgSQL
  function ``liuhen_{name}()`` the three execute.

A condition is SQL over ``NEW`` and ``OLD`` that both databases understand, or a callable
``vendor -> SQL`` where they differ (:func:`changed` writes "a column changed" for each).
A condition that comes out NULL refuses, on both databases: the row passes only when the
condition is false (fail closed, as OWASP ASVS 1.4 and 等保 2.0 ask of access control).
The message says which operation was refused: ``{op}`` becomes UPDATE, DELETE or TRUNCATE.
Both databases refuse with the same text; PostgreSQL with SQLSTATE 42501
(insufficient_privilege).

``remove`` undoes ``install`` completely: the triggers and the function (a migration reversed to
zero leaves nothing of Liuhen behind, tested in ``web/tests/test_migrations_reverse.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Condition = bool | str | Callable[[str], str]
VENDORS = ("sqlite", "postgresql")


def changed(columns, vendor: str) -> str:
    """SQL that holds when any of ``columns`` differs between OLD and NEW, NULLs included.
    PostgreSQL compares the text forms: ``json`` has no equality operator, and two equal
    values of one type have one text form within a session."""
    if vendor == "postgresql":
        return " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in columns)
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _sql(condition: Condition, vendor: str) -> str | bool:
    if isinstance(condition, bool):
        return condition
    return condition(vendor) if callable(condition) else condition


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TriggerSQL:
    """The statements that install and remove one table's protection, per database."""

    install_statements: dict[str, list[str]]
    remove_statements: dict[str, list[str]]

    def install_sql(self, vendor: str) -> list[str]:
        return self.install_statements[vendor]

    def remove_sql(self, vendor: str) -> list[str]:
        return self.remove_statements[vendor]

    def install(self, connection) -> None:
        run(connection, self.install_sql(connection.vendor))

    def remove(self, connection) -> None:
        run(connection, self.remove_sql(connection.vendor))


def run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_all(connection, *protections: TriggerSQL) -> None:
    for protection in protections:
        protection.install(connection)


def remove_all(connection, *protections: TriggerSQL) -> None:
    for protection in reversed(protections):
        protection.remove(connection)


def immutable_table_sql(table: str, name: str, *, message: str,
                        refused_update: Condition = True,
                        refused_delete: Condition = True) -> TriggerSQL:
    """The install and remove statements, for both databases, of the triggers that refuse an
    UPDATE of ``table`` when ``refused_update`` holds and a DELETE when ``refused_delete``
    holds (see the module's docstring)."""
    if "{op}" not in message:
        raise ValueError("the message must say which operation was refused: {op}")
    if refused_update is False and refused_delete is False:
        raise ValueError(f"{name}: nothing to refuse")
    install: dict[str, list[str]] = {}
    remove: dict[str, list[str]] = {}

    # SQLite: one trigger per refused operation, RAISE(ABORT) rolls the statement back.
    sqlite_install, sqlite_remove = [], []
    for op, condition in (("UPDATE", refused_update), ("DELETE", refused_delete)):
        condition = _sql(condition, "sqlite")
        if condition is False:
            continue
        trigger = f"{name}_refuse_{op.lower()}"
        when = "" if condition is True else f"\n  WHEN ({condition}) IS NOT 0"
        sqlite_install += [
            f"DROP TRIGGER IF EXISTS {trigger}",
            f"CREATE TRIGGER {trigger} BEFORE {op} ON {table}{when}\n"
            f"  BEGIN SELECT RAISE(ABORT, {_literal(message.format(op=op))}); END",
        ]
        sqlite_remove.append(f"DROP TRIGGER IF EXISTS {trigger}")
    install["sqlite"], remove["sqlite"] = sqlite_install, sqlite_remove

    # PostgreSQL: one function, executed by a row trigger per refused operation and by a
    # statement trigger on TRUNCATE.
    function = f"liuhen_{name}"
    refuse = (f"RAISE EXCEPTION {_literal(message.replace('%', '%%').format(op='%'))}, TG_OP\n"
              "      USING ERRCODE = 'insufficient_privilege';")
    body = []
    events = []
    for op, condition, row in (("UPDATE", refused_update, "NEW"),
                               ("DELETE", refused_delete, "OLD")):
        condition = _sql(condition, "postgresql")
        if condition is False:
            continue
        events.append(op)
        if condition is not True:
            body.append(f"  IF TG_OP = '{op}' AND ({condition}) IS FALSE THEN\n"
                        f"    RETURN {row};\n"
                        "  END IF;")
    body.append(f"  {refuse}")
    postgresql_install = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$\n"
        "BEGIN\n" + "\n".join(body) + "\nEND; $$ LANGUAGE plpgsql",
    ]
    postgresql_remove = []
    triggers = [(f"{name}_refuse_{op.lower()}", op, "ROW") for op in events]
    if "DELETE" in events:
        triggers.append((f"{name}_refuse_truncate", "TRUNCATE", "STATEMENT"))
    for trigger, op, level in triggers:
        postgresql_install += [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"CREATE TRIGGER {trigger} BEFORE {op} ON {table}\n"
            f"  FOR EACH {level} EXECUTE FUNCTION {function}()",
        ]
        postgresql_remove.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    postgresql_remove.append(f"DROP FUNCTION IF EXISTS {function}()")
    install["postgresql"], remove["postgresql"] = postgresql_install, postgresql_remove
    return TriggerSQL(install, remove)


def replace_legacy(connection, *protections: TriggerSQL, sqlite_triggers=(),
                   postgresql_triggers=(), postgresql_functions=()) -> None:
    """For the migration that moves an app onto this generator: drop the triggers and
    functions an earlier version of the code installed under other names (``postgresql_triggers``
    as ``(table, trigger)`` pairs), then install ``protections`` afresh, so that an upgraded
    database holds exactly what a new one does. Idempotent; on a new database the old names are
    simply absent."""
    if connection.vendor == "postgresql":
        statements = [f"DROP TRIGGER IF EXISTS {trigger} ON {table}"
                      for table, trigger in postgresql_triggers]
    else:
        statements = [f"DROP TRIGGER IF EXISTS {trigger}" for trigger in sqlite_triggers]
    run(connection, statements)
    remove_all(connection, *protections)  # a function of the same name may be among the old
    if connection.vendor == "postgresql":
        run(connection, [f"DROP FUNCTION IF EXISTS {function}()"
                         for function in postgresql_functions])
    install_all(connection, *protections)
