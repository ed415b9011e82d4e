"""The Activities tab says that the contact inclusion list limits activities too (spec §6.5)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_tab_says_activities_of_contacts_outside_the_inclusion_list_dont_sync(
    admin_client, connected
):
    html = admin_client.get("/activities/").content.decode()
    assert (
        "Activities of contacts outside the inclusion list chosen on the Contacts tab "
        "don't sync, in either direction."
    ) in html
