"""Model fields: text encrypted at rest with Fernet.

``settings.FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys separated by commas. The first
key encrypts; every key decrypts, so a key can be rotated by putting the new one first, running
``connections_reencrypt`` (see services) and then dropping the old one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty")
    try:
        return MultiFernet([Fernet(k) for k in parts])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        ) from error


def field_fernet() -> MultiFernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


def secret_encrypt(value: str) -> str:
    return field_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> str:
    try:
        return field_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored secret can't be decrypted with FIELD_ENCRYPTION_KEY: the key changed. "
            "Put the previous key after the new one (comma-separated) to read old values."
        ) from error


def secret_rotate(token: str) -> str:
    """Re-encrypt a stored token with the first (newest) key."""
    return field_fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text field whose value is Fernet-encrypted in the database.

    The empty string is stored as is, so "not set" stays cheap to test for. Encrypted values
    can't be searched or compared in SQL.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return secret_decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return secret_encrypt(str(value))
