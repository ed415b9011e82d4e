"""The custom object wizard's last refusals at Finish in the page's language: a mapping whose
field or property changed since step 3, a property mapped twice, a property HubSpot requires
left unmapped (and the warning stored with a read-only field's mapping); the REST API keeps
the engine's English."""

from __future__ import annotations

from html import unescape

import pytest
from django.utils import translation

from integration_admin.labels import ENGINE_MESSAGE_LABELS, engine_message
from sync_engine import services
from sync_engine.models import ObjectSync

from .test_custom_objects_required import NO_NAME, walk_to_fields
from .test_custom_objects_wizard import RULES, projects_schema

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]
FIELDS = "/custom-objects/wizard/fields/"
FINISH = "/custom-objects/wizard/associations/"


@pytest.fixture
def hs_type(live, emulators) -> str:
    return projects_schema(emulators, ["CONTACT"])


def test_every_refusal_at_finish_has_its_words_for_people():
    messages = [
        services.CUSTOM_OBJECT_NOT_MAPPABLE,
        services.CUSTOM_OBJECT_NO_PROPERTY,
        services.CUSTOM_OBJECT_ALREADY_MAPPED,
        services.CUSTOM_OBJECT_REQUIRED,
        services.CUSTOM_OBJECT_READ_ONLY,
    ]
    assert not [text for text in messages if text not in ENGINE_MESSAGE_LABELS]
    # Each part as the engine filled it in.
    said = engine_message(
        services.CUSTOM_OBJECT_ALREADY_MAPPED.format(property="budget", field="Budget__c")
    )
    assert said == "'budget' is already mapped to Budget__c"


def test_a_required_property_left_unmapped_at_finish_is_refused_in_the_pages_language(
    admin_client, hs_type
):
    """Creates turned on in step 2 after the fields step: Finish refuses, on a Dutch page in
    its Dutch words (the catalogue's, once translated), the API's English elsewhere."""
    walk_to_fields(admin_client, hs_type, salesforce_to_hubspot="nothing")
    admin_client.post(FIELDS, NO_NAME)
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    label = ENGINE_MESSAGE_LABELS[services.CUSTOM_OBJECT_REQUIRED]
    for language in ("nl", "en"):
        response = admin_client.post(FINISH, {}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        with translation.override(language):
            refusal = str(label) % {"names": "Project name (project_name)"}
        assert refusal in unescape(response.content.decode()), language
    assert not ObjectSync.objects.filter(object__startswith="custom:").exists()
