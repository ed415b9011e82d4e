"""One package per CRM, each wrapping that CRM's official client.

Every HTTP request a connector makes is asked of the budget first and written to the
:class:`~sync_engine.models.ApiCall` ledger, exactly once.
"""
