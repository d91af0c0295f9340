"""Append-only records are enforced by the database, not only by the code that
writes them: an UPDATE of a moderation event, a vote-history row or a published
constitution is refused whoever issues it (admin, shell, a buggy service)."""

from __future__ import annotations

from django.db import migrations

TABLES = {
    "deliberation_moderationevent": "the moderation log is append-only",
    "deliberation_voterecord": "the vote history is append-only",
    "deliberation_constitution": "a published constitution never changes",
}


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for table, message in TABLES.items():
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_refuse_update() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_update();
                """
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"""
                CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, '{message}'); END;
                """
            )


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}"
            if vendor == "postgresql"
            else f"DROP TRIGGER IF EXISTS {table}_no_update"
        )
        if vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_update()")


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
