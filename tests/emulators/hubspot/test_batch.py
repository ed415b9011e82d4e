"""Batch read/create/update/upsert/archive: status codes, 207 shapes, limits and batch modes."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    BatchResponseSimplePublicUpsertObject,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

from .conftest import control, error_of, validation_results


def create_inputs(*emails, **extra):
    return BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": e, **extra}) for e in emails
        ]
    )


def read_input(*ids, **kwargs):
    return BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=i) for i in ids],
        properties=kwargs.pop("properties", ["email"]),
        properties_with_history=kwargs.pop("properties_with_history", []),
        **kwargs,
    )


def count_contacts(app) -> int:
    store = app.state.stores.get("0-1")
    return sum(1 for r in store.records.values() if not r.archived) if store else 0


def test_batch_create_is_201_typed(hs):
    result = hs.crm.contacts.batch_api.create(create_inputs("a@x.com", "b@x.com"))
    assert isinstance(result, BatchResponseSimplePublicObject)
    assert result.status == "COMPLETE" and result.started_at and result.completed_at
    assert [r.properties["email"] for r in result.results] == ["a@x.com", "b@x.com"]
    assert all(r.id.isdigit() for r in result.results)


def test_batch_create_echoes_object_write_trace_id(hs):
    inputs = BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            SimplePublicObjectBatchInputForCreate(
                properties={"email": "t@x.com"}, object_write_trace_id="row-7"
            )
        ]
    )
    result = hs.crm.contacts.batch_api.create(inputs)
    assert result.results[0].object_write_trace_id == "row-7"


def test_batch_read_200_and_207_for_missing(hs):
    created = hs.crm.contacts.batch_api.create(create_inputs("a@x.com", "b@x.com")).results
    ids = [r.id for r in created]
    result = hs.crm.contacts.batch_api.read(read_input(*ids))
    assert isinstance(result, BatchResponseSimplePublicObject)
    assert sorted(r.id for r in result.results) == sorted(ids)
    partial = hs.crm.contacts.batch_api.read(read_input(ids[0], "424242"))
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert partial.num_errors == 1
    error = partial.errors[0]
    assert error.category == "OBJECT_NOT_FOUND" and error.context == {"ids": ["424242"]}
    assert [r.id for r in partial.results] == [ids[0]]


def test_batch_read_by_email_with_history(hs):
    hs.crm.contacts.batch_api.create(create_inputs("Read.Me@x.com", firstname="R"))
    result = hs.crm.contacts.batch_api.read(
        read_input(
            "read.me@x.com",
            id_property="email",
            properties=["firstname"],
            properties_with_history=["firstname"],
        )
    )
    record = result.results[0]
    assert record.properties["firstname"] == "R"
    assert record.properties_with_history["firstname"][0].source_type == "INTEGRATION"


def test_batch_update_200_and_missing_ids_207(hs):
    created = hs.crm.contacts.batch_api.create(create_inputs("a@x.com", "b@x.com")).results
    update = BatchInputSimplePublicObjectBatchInput(
        inputs=[
            SimplePublicObjectBatchInput(id=r.id, properties={"firstname": f"N{i}"})
            for i, r in enumerate(created)
        ]
    )
    result = hs.crm.contacts.batch_api.update(update)
    assert isinstance(result, BatchResponseSimplePublicObject)
    assert sorted(r.properties["firstname"] for r in result.results) == ["N0", "N1"]
    with_missing = BatchInputSimplePublicObjectBatchInput(
        inputs=[
            SimplePublicObjectBatchInput(id=created[0].id, properties={"firstname": "Z"}),
            SimplePublicObjectBatchInput(id="99999999", properties={"firstname": "Z"}),
        ]
    )
    partial = hs.crm.contacts.batch_api.update(with_missing)
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert partial.errors[0].category == "OBJECT_NOT_FOUND"
    assert [r.id for r in partial.results] == [created[0].id]


def test_batch_update_duplicate_ids_is_400(hs):
    created = hs.crm.contacts.batch_api.create(create_inputs("a@x.com")).results[0]
    update = BatchInputSimplePublicObjectBatchInput(
        inputs=[
            SimplePublicObjectBatchInput(id=created.id, properties={"firstname": "A"}),
            SimplePublicObjectBatchInput(id=created.id, properties={"firstname": "B"}),
        ]
    )
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.update(update)
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"


def test_batch_upsert_by_email_reports_new(hs):
    existing = hs.crm.contacts.batch_api.create(create_inputs("old@x.com")).results[0]
    upsert = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id="OLD@x.com", id_property="email", properties={"firstname": "Old"}
            ),
            SimplePublicObjectBatchInputUpsert(
                id="new@x.com", id_property="email", properties={"firstname": "New"}
            ),
        ]
    )
    result = hs.crm.contacts.batch_api.upsert(upsert)
    assert isinstance(result, BatchResponseSimplePublicUpsertObject)
    by_new = {r.new: r for r in result.results}
    assert by_new[False].id == existing.id and by_new[False].properties["firstname"] == "Old"
    assert by_new[True].properties["email"] == "new@x.com"
    again = hs.crm.contacts.batch_api.upsert(upsert)
    assert [r.new for r in again.results] == [False, False]


def test_batch_archive_is_204(hs, app):
    created = hs.crm.contacts.batch_api.create(create_inputs("a@x.com", "b@x.com")).results
    archive = BatchInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=r.id) for r in created] + [SimplePublicObjectId(id="7")]
    )
    assert hs.crm.contacts.batch_api.archive(archive) is None
    assert count_contacts(app) == 0


def test_more_than_100_inputs_is_400(hs, app):
    emails = [f"c{i}@x.com" for i in range(101)]
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.create(create_inputs(*emails))
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    assert count_contacts(app) == 0
    assert len(hs.crm.contacts.batch_api.create(create_inputs(*emails[:100])).results) == 100


def test_one_invalid_input_rejects_the_whole_batch_by_default(hs, app):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.create(create_inputs("good@x.com", "bad@@x.com"))
    assert caught.value.status == 400
    assert validation_results(caught.value)[0]["error"] == "INVALID_EMAIL"
    assert count_contacts(app) == 0


def test_partial_mode_fails_invalid_inputs_alone(hs, app, base_url):
    assert control(base_url, "set_batch_validation_mode", mode="partial").status_code == 200
    result = hs.crm.contacts.batch_api.create(create_inputs("good@x.com", "bad@@x.com"))
    assert isinstance(result, BatchResponseSimplePublicObjectWithErrors)
    assert [r.properties["email"] for r in result.results] == ["good@x.com"]
    assert result.num_errors == 1 and result.errors[0].category == "VALIDATION_ERROR"
    assert result.errors[0].errors[0].code == "INVALID_EMAIL"
    assert count_contacts(app) == 1


def test_existing_email_in_batch_create_is_409_for_the_whole_batch(hs, app):
    existing = hs.crm.contacts.batch_api.create(create_inputs("dup@x.com")).results[0]
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.create(create_inputs("fresh@x.com", "DUP@x.com"))
    assert caught.value.status == 409
    body = error_of(caught.value)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {existing.id}"
    assert count_contacts(app) == 1
    app.run_action("set_batch_validation_mode", mode="partial")
    result = hs.crm.contacts.batch_api.create(create_inputs("fresh@x.com", "DUP@x.com"))
    assert isinstance(result, BatchResponseSimplePublicObjectWithErrors)
    assert result.errors[0].category == "CONFLICT"
    assert [r.properties["email"] for r in result.results] == ["fresh@x.com"]


def test_duplicate_emails_inside_one_batch_are_rejected(hs, app):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.create(create_inputs("twice@x.com", "Twice@x.com"))
    assert caught.value.status == 400
    assert count_contacts(app) == 0
