import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("viewer", password="viewer-pass-123")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client
