"""``python manage.py sync_settings contacts [name=value ...]``: show or change object settings.

Values are JSON where they parse (``true``, ``null``), text otherwise. Changes are validated
and audit-logged like the dashboard's.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sync_engine.object_settings import (
    SETTINGS_CLASSES,
    SettingsError,
    settings_as_dict,
    settings_for,
)
from sync_engine.selectors import integration_get_default
from sync_engine.services import object_settings_update, object_sync_get_or_create


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


class Command(BaseCommand):
    help = "Show or change the settings of an object pair."

    def add_arguments(self, parser):
        parser.add_argument("object", choices=sorted(SETTINGS_CLASSES))
        parser.add_argument("changes", nargs="*", metavar="name=value")

    def handle(self, *args, object, changes, **options):  # noqa: A002
        integration = integration_get_default()
        if integration is None:
            raise CommandError("Not connected yet: run `manage.py connect` first.")
        parsed = {}
        for change in changes:
            name, sep, value = change.partition("=")
            if not sep:
                raise CommandError(f"expected name=value, got {change!r}")
            parsed[name] = _value(value)
        if parsed:
            try:
                diff = object_settings_update(
                    integration=integration, object_name=object, changes=parsed
                )
            except SettingsError as error:
                raise CommandError(str(error)) from error
            for name, (old, new) in diff.items():
                self.stdout.write(f"{name}: {old!r} → {new!r}")
        row = object_sync_get_or_create(integration=integration, object_name=object)
        for name, value in settings_as_dict(settings_for(object, row.options)).items():
            self.stdout.write(f"  {name} = {json.dumps(value)}")
