"""Mappings of the HubSpot properties the engine sets itself (a deal's ``pipeline``, a
ticket's ``hs_pipeline``: from the record type) can no longer be made; one made before failed
every record it touched (a picklist's values sent where HubSpot takes only its pipelines'
ids). Those stored go, each noted in the audit log as a deleted mapping. Names as of this
migration (``selectors.engine_managed_properties``)."""

from django.db import migrations

ENGINE_MANAGED = {"deals": "pipeline", "tickets": "hs_pipeline"}
# As the mapping editor now refuses it (``services.MAPPING_ENGINE_MANAGED``).
WHY = "{property} is set by the integration itself from RecordTypeId: it can't be mapped"


def engine_managed_mappings_remove(apps, schema_editor):
    FieldMapping = apps.get_model("sync_engine", "FieldMapping")
    AuditEvent = apps.get_model("sync_engine", "AuditEvent")
    for object_name, prop in ENGINE_MANAGED.items():
        rows = FieldMapping.objects.filter(object=object_name, hubspot_property=prop)
        for mapping in rows:
            AuditEvent.objects.create(
                integration_id=mapping.integration_id,
                action="mapping.deleted",
                details={
                    "object": object_name,
                    "hubspot": prop,
                    "salesforce": mapping.salesforce_field,
                    "rule": mapping.rule,
                    "reason": WHY.format(property=prop),
                },
            )
        rows.delete()


class Migration(migrations.Migration):
    dependencies = [("sync_engine", "0021_importjob_left_out")]

    operations = [
        migrations.RunPython(engine_managed_mappings_remove, migrations.RunPython.noop),
    ]
