"""Whether the connected org is a sandbox becomes the connection's field. It was read from the
last ``integration.connected`` audit event (its ``salesforce_sandbox`` detail): existing
connections take it from there."""

from django.db import migrations, models


def sandbox_from_audit_log(apps, schema_editor):
    SalesforceConnection = apps.get_model("sync_engine", "SalesforceConnection")
    AuditEvent = apps.get_model("sync_engine", "AuditEvent")
    for connection in SalesforceConnection.objects.all():
        last = (
            AuditEvent.objects.filter(
                integration_id=connection.integration_id, action="integration.connected"
            )
            .order_by("-at", "-id")
            .first()
        )
        sandbox = bool(last and (last.details or {}).get("salesforce_sandbox"))
        if sandbox != connection.sandbox:
            SalesforceConnection.objects.filter(pk=connection.pk).update(sandbox=sandbox)


class Migration(migrations.Migration):
    dependencies = [("sync_engine", "0019_list_resync_job")]

    operations = [
        migrations.AddField(
            model_name="salesforceconnection",
            name="sandbox",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(sandbox_from_audit_log, migrations.RunPython.noop),
    ]
