from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync_engine", "0009_import_job_part"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="sync_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="integration",
            name="sync_changed_by",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
        migrations.AddField(
            model_name="integration",
            name="sync_enabled",
            field=models.BooleanField(
                default=True,
                help_text="Off: no sync cycle runs for any object until it is turned back on.",
                verbose_name="Sync on",
            ),
        ),
    ]
