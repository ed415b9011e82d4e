from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync_engine", "0007_import_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="synccursor",
            name="query",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
