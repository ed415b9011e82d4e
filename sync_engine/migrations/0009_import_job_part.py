from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync_engine", "0008_sync_cursor_query"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="part",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importjob",
            name="object_label",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
