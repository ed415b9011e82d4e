"""The HubSpot CRM API emulator, as hubspot-api-client 12.0.0 uses it (plain http).

Layout:

- ``app.py``: :class:`HubSpotApp`: routes, authentication (every bearer token is its own user
  and app), rate limits, error bodies, named faults, persistence hooks.
- ``schema.py``: the one registry (object types, properties, groups, pipelines, association
  types) loaded from ``data/hubspot_schema.json``; custom properties and schemas join it.
- ``state.py``: everything remembered, in one picklable object (records, links, lists,
  owners, users, OAuth grants, settings).
- ``store.py``: records with per-property history; per-type unique and modification indexes.
- ``records.py``: :class:`Crm`, the write path shared by handlers, actions and the seed.
- ``validation.py``, ``search.py``, ``associations.py``, ``lists.py`` / ``listservice.py``,
  ``ratelimit.py``, ``errors.py``, ``serialize.py``, ``timeutil.py``: one concern each.
- ``handlers/``: the HTTP endpoints (objects, associations v4, properties, owners and
  pipelines, lists, schemas, OAuth and account info).
- ``actions.py``: control-plane actions (a person in the CRM UI, or emulator settings).
- ``seed.py``: the ``demo`` seed built from ``emulators.demo_data``.
"""
