"""``python manage.py sync_settings contacts [name=value ...]``: show or change a pair's settings.

``enabled=true`` or ``enabled=false`` switches the pair on or off, as its tab's switch does. The
other names are the pair's settings; values are JSON where they parse (``true``, ``null``),
text otherwise. Custom object pairs are named as on their tab (``custom:1``). Changes are
validated and audit-logged like the dashboard's, and settings only a wizard sets are refused,
as the API refuses them.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sync_engine.object_settings import (
    CUSTOM_PREFIX,
    SETTINGS_CLASSES,
    SettingsError,
    settings_as_dict,
    settings_class,
    settings_for,
    wizard_only_note,
)
from sync_engine.selectors import integration_get_default, object_sync_get
from sync_engine.services import object_settings_update, object_sync_get_or_create


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


class Command(BaseCommand):
    help = "Show or change an object pair's settings; enabled=true|false switches it on or off."

    def add_arguments(self, parser):
        parser.add_argument(
            "object", metavar="object", help=f"{', '.join(sorted(SETTINGS_CLASSES))} or custom:N"
        )
        parser.add_argument("changes", nargs="*", metavar="name=value")

    def handle(self, *args, object, changes, **options):  # noqa: A002
        integration = integration_get_default()
        if integration is None:
            raise CommandError("Not connected yet: run `manage.py connect` first.")
        self.check_object(integration, object)
        parsed = {}
        for change in changes:
            name, sep, value = change.partition("=")
            if not sep:
                raise CommandError(f"expected name=value, got {change!r}")
            parsed[name] = _value(value)
        enabled = parsed.pop("enabled", None)
        if enabled is not None and not isinstance(enabled, bool):
            raise CommandError(f"enabled: expected true or false, got {enabled!r}")
        if wizard_only := [
            n for n in parsed if n in getattr(settings_class(object), "WIZARD_ONLY", ())
        ]:
            raise CommandError(
                f"{', '.join(wizard_only)}: {wizard_only_note(settings_class(object))}"
            )
        if parsed or enabled is not None:
            try:
                diff = object_settings_update(
                    integration=integration, object_name=object, changes=parsed, enabled=enabled
                )
            except SettingsError as error:
                raise CommandError(str(error)) from error
            for name, (old, new) in diff.items():
                self.stdout.write(f"{name}: {old!r} → {new!r}")
        row = object_sync_get_or_create(integration=integration, object_name=object)
        self.stdout.write(f"  enabled = {json.dumps(row.enabled)}")
        for name, value in settings_as_dict(settings_for(object, row.options)).items():
            self.stdout.write(f"  {name} = {json.dumps(value)}")

    def check_object(self, integration, name: str) -> None:
        """A built-in pair, or a custom pair its wizard set up (never created here)."""
        if name in SETTINGS_CLASSES:
            return
        if name.startswith(CUSTOM_PREFIX) and object_sync_get(
            integration=integration, object_name=name
        ):
            return
        raise CommandError(
            f"No object pair {name!r}: choose from {', '.join(sorted(SETTINGS_CLASSES))}"
            " or a custom pair set up on the Custom objects tab (custom:N)."
        )
