"""The pre-registered decision rule (RuleCommitment), append-only like the
moderation log and constitutions (0002): an UPDATE is refused by the database
whoever issues it; a changed rule is a new commitment."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "deliberation_rulecommitment"
MESSAGE = "a rule commitment is append-only"


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {TABLE}_refuse_update() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_update();
            """
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"""
            CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
            """
        )


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_refuse_update()")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")


class Migration(migrations.Migration):
    dependencies = [
        ("deliberation", "0003_workshop_analysis"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RuleCommitment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("ccai", "Agree share ≥ threshold in every group (CCAI)"),
                            ("overall", "Agree share ≥ threshold overall"),
                        ],
                        max_length=64,
                    ),
                ),
                ("parameters", models.JSONField(help_text="threshold, min_votes")),
                ("committed_at", models.DateTimeField(db_index=True)),
                ("content_hash", models.CharField(max_length=64)),
                (
                    "committed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "workshop",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rule_commitments",
                        to="deliberation.workshop",
                    ),
                ),
            ],
            options={"ordering": ["-committed_at", "-id"]},
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
