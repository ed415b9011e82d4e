"""Rows a cycle used to leave behind for a custom object removed while the cycle was queued:
without their objects they are no pair, and nothing makes such rows any more."""

from django.db import migrations


def remove_empty_custom_rows(apps, schema_editor):
    ObjectSync = apps.get_model("sync_engine", "ObjectSync")
    empty = [
        row.pk
        for row in ObjectSync.objects.filter(object__startswith="custom:")
        if not (row.options or {}).get("salesforce_object")
    ]
    ObjectSync.objects.filter(pk__in=empty).delete()


class Migration(migrations.Migration):
    dependencies = [("sync_engine", "0014_syncerror_ended_because_converted")]

    operations = [migrations.RunPython(remove_empty_custom_rows, migrations.RunPython.noop)]
