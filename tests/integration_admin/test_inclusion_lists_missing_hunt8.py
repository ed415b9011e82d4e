"""Both inclusion lists (the Contacts tab's and the Companies tab's) deleted in HubSpot: Sync
health says each, by its name, and finds which pairs' lists are gone in one query."""

from __future__ import annotations

import pytest

from sync_engine.selectors import inclusion_list_missing, inclusion_lists_missing

from . import test_companies_inclusion_list_hunt7, test_inclusion_list_missing
from .test_inclusion_list_missing import MISSING

pytestmark = pytest.mark.django_db

# The fixtures of the two lists deleted in HubSpot (a cycle of the pair ran since).
list_deleted = test_inclusion_list_missing.list_deleted
company_list_deleted = test_companies_inclusion_list_hunt7.company_list_deleted


def test_sync_health_says_both_lists_are_gone_and_asks_once(
    admin_client, live, list_deleted, company_list_deleted, django_assert_num_queries
):
    with django_assert_num_queries(1):
        missing = inclusion_lists_missing(integration=live)
    assert missing == {"contacts": list_deleted, "companies": company_list_deleted}
    # The one pair's answer is the same.
    assert inclusion_list_missing(integration=live) == list_deleted
    assert inclusion_list_missing(integration=live, object_name="companies") == (
        company_list_deleted
    )
    assert inclusion_list_missing(integration=live, object_name="deals") is None

    html = admin_client.get("/sync-health/").content.decode()
    notice = html[html.index('id="inclusion-list-missing"') :]
    assert MISSING in notice[: notice.index("</div>")]
    notice = html[html.index('id="company-inclusion-list-missing"') :]
    assert (
        "The inclusion list chosen on the Companies tab (Target &lt;accounts&gt;) no longer "
        "exists in HubSpot: companies are held until you choose another list, or none."
    ) in notice[: notice.index("</div>")]
