"""Create (or reset) the admin login and print it."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sync_engine.services import admin_user_ensure


class Command(BaseCommand):
    help = "Create an admin user (staff and superuser), or reset its password, and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--password",
            help="default: generate one and print it; a given one must pass the password "
            "rules (AUTH_PASSWORD_VALIDATORS)",
        )

    def handle(self, *args, **opts):
        # As the Django admin's user form checks it: an empty, too long or oddly spelled name
        # would make a login nobody can use (or a database error on PostgreSQL).
        user_model = get_user_model()
        field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        try:
            field.clean(opts["username"], None)
        except ValidationError as error:
            raise CommandError(
                f"Username {opts['username']!r} refused, nothing changed: "
                f"{' '.join(error.messages)}"
            ) from error
        try:
            user, password, created = admin_user_ensure(
                username=opts["username"], password=opts["password"]
            )
        except ValidationError as error:
            raise CommandError(
                f"Password refused, nothing changed: {' '.join(error.messages)} Give another "
                "--password, or leave it out to have one generated."
            ) from error
        verb = "Created" if created else "Reset the password of"
        self.stdout.write(self.style.SUCCESS(f"{verb} admin user {user.get_username()!r}."))
        self.stdout.write(f"  Username: {user.get_username()}")
        self.stdout.write(f"  Password: {password}")
