"""The Deals tab's mapping editor: the deal properties the engine sets itself."""

from __future__ import annotations

import pytest

from sync_engine.models import FieldMapping
from sync_engine.services import object_settings_update

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_deal_pipeline_cannot_be_mapped(admin_client, live):
    """The deal's pipeline follows the opportunity's record type (spec §10): mapped to a field
    too, every opportunity with a value there would fail (HubSpot has no such pipeline) and
    HubSpot's pipeline ids would be written into Salesforce."""
    object_settings_update(integration=live, object_name="deals", changes={}, enabled=True)
    html = admin_client.get("/deals/").content.decode()
    assert '<option value="hs_priority">' in html  # the picker offers deal properties
    assert '<option value="pipeline">' not in html

    data = {"hubspot_property": "pipeline", "salesforce_field": "LeadSource",
            "rule": "prefer_salesforce_unless_blank"}  # fmt: skip
    check = admin_client.post("/objects/deals/mappings/check/", data, **HTMX).content.decode()
    assert 'data-check="blocked"' in check
    assert "pipeline is set by the integration itself from RecordTypeId" in check
    html = admin_client.post("/objects/deals/mappings/add/", data, **HTMX).content.decode()
    assert "set by the integration itself" in html
    assert not FieldMapping.objects.filter(hubspot_property="pipeline").exists()
