"""``python manage.py api_token USERNAME [--expires-days N]``: a token for the REST API.

``--list`` shows the user's tokens, ``--revoke PREFIX`` / ``--revoke-all`` delete them.

Tokens are django-rest-knox's: only a hash is stored, so a new token is printed once and
never again. ``--list`` shows each token's short prefix, never the token. Creating and
revoking are audit-logged with the prefix.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from knox.models import get_token_model
from knox.settings import knox_settings

from sync_engine.services import audit_event_record


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


MAX_EXPIRES_DAYS = 36_500  # past this the expiry date overflows


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it once (it is stored only as a hash), "
        "or list or revoke that user's tokens."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="an active user; the token acts as them")
        parser.add_argument(
            "--expires-days",
            type=int,
            metavar="N",
            help="the new token stops working after N days (default: never)",
        )
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--list",
            action="store_true",
            dest="list_tokens",
            help="list the user's tokens by prefix (never the tokens themselves)",
        )
        what.add_argument("--revoke", metavar="PREFIX", help="delete the token with this prefix")
        what.add_argument("--revoke-all", action="store_true", help="delete all the user's tokens")

    def handle(self, *args, username, expires_days, list_tokens, revoke, revoke_all, **options):
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        tokens = get_token_model().objects.filter(user=user)
        # ``--revoke ""`` (an empty shell variable) must not fall through to creating a token.
        revoking = revoke is not None or revoke_all
        if expires_days is not None and (list_tokens or revoking):
            raise CommandError("--expires-days only goes with creating a token.")
        if list_tokens:
            self._list(user, tokens.order_by("created"))
        elif revoking:
            if revoke is not None:
                tokens = tokens.filter(token_key=revoke)
                if not tokens.exists():
                    raise CommandError(f"{username} has no token with prefix {revoke!r}.")
            self._revoke(user, tokens)
        else:
            self._create(user, expires_days)

    def _create(self, user, expires_days):
        if not user.is_active:
            raise CommandError(f"User {user.get_username()!r} is inactive: no token for them.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        if expires_days is not None and expires_days > MAX_EXPIRES_DAYS:
            raise CommandError(f"--expires-days can be at most {MAX_EXPIRES_DAYS:,} (100 years).")
        ttl = timedelta(days=expires_days) if expires_days else knox_settings.TOKEN_TTL
        with transaction.atomic():
            row, token = get_token_model().objects.create(user=user, expiry=ttl)
            audit_event_record(
                action="api_token.created",
                details={
                    "username": user.get_username(),
                    "prefix": row.token_key,
                    "expiry": row.expiry.isoformat() if row.expiry else None,
                },
            )
        until = f"expires {_when(row.expiry)}" if row.expiry else "never expires"
        self.stdout.write(
            self.style.SUCCESS(f"Created an API token for {user.get_username()} ({until}):")
        )
        self.stdout.write(f"  {token}")
        self.stdout.write("Copy it now: it won't be shown again. Send it with every request as")
        self.stdout.write(f"  Authorization: {knox_settings.AUTH_HEADER_PREFIX} <token>")

    def _list(self, user, tokens):
        if not tokens:
            self.stdout.write(f"{user.get_username()} has no API tokens.")
            return
        now = timezone.now()
        for row in tokens:
            if row.expiry is None:
                until = "never expires"
            else:
                until = f"{'expired' if row.expiry < now else 'expires'} {_when(row.expiry)}"
            self.stdout.write(f"  {row.token_key}  created {_when(row.created)}  {until}")

    def _revoke(self, user, tokens):
        with transaction.atomic():
            prefixes = [row.token_key for row in tokens.select_for_update()]
            tokens.delete()
            for prefix in prefixes:
                audit_event_record(
                    action="api_token.revoked",
                    details={"username": user.get_username(), "prefix": prefix},
                )
        self.stdout.write(f"Revoked {len(prefixes)} token(s) of {user.get_username()}.")
