"""A custom record's lookup moved, its association write landed, the worker died before the
commit, and the rep moved the lookup back: the record ends on the contact Salesforce names,
and the integration's own write isn't read back as a HubSpot user's move."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.sync.custom_objects import CustomObjectSync
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects_failures import Killed, contacts_linked, open_errors


@pytest.mark.parametrize("winner", ["salesforce", "hubspot"])
def test_a_lookup_moved_back_after_a_crash_cut_its_move_short_stays_where_the_rep_put_it(
    integration, emulators, hs_person, sf_person, monkeypatch, winner
):
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person, conflict_winner=winner
    )
    advance_clocks(emulators, 60)
    sf_person.Project__c.update(project, {"Contact__c": bob})

    def killed(self, *args, **kwargs):
        raise Killed()

    monkeypatch.setattr(CustomObjectSync, "commit", killed)
    with pytest.raises(Killed):
        sync_cycle_run(integration=integration, object_name=projects.name)
    monkeypatch.undo()
    assert projects.associated(record, "contacts") == [contact[bob]]  # the move landed
    advance_clocks(emulators, 60)
    sf_person.Project__c.update(project, {"Contact__c": ada})
    projects()
    projects()
    assert sf_person.Project__c.get(project)["Contact__c"] == ada
    assert projects.associated(record, "contacts") == [contact[ada]]
    assert not open_errors(projects.name).exists()
