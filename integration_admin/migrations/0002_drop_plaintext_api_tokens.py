"""API tokens moved from DRF's authtoken (keys kept in plain text) to knox (a digest only):
the old table goes, so no plain-text key outlives the switch. Its tokens stop working; make
new ones with ``manage.py api_token``."""

from django.db import migrations

OLD_TABLE = "authtoken_token"


def drop_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE in connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("integration_admin", "0001_roles")]
    operations = [migrations.RunPython(drop_plaintext_tokens, migrations.RunPython.noop)]
