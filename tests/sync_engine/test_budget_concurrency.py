"""Many workers racing for the last calls of the allocation never overspend it (PostgreSQL,
where workers really run concurrently)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from sync_engine.budget import budget_reserve
from sync_engine.errors import BudgetExhausted
from sync_engine.models import ApiCall, System

from .factories import ApiCallFactory, IntegrationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_reservations_never_exceed_the_allocation():
    integration = IntegrationFactory(salesforce_api_allocation=25)
    ApiCallFactory.create_batch(5, integration=integration)

    def worker(_: int) -> int:
        won = 0
        try:
            for _ in range(10):
                try:
                    budget_reserve(
                        integration=integration, system=System.SALESFORCE, operation="query"
                    )
                    won += 1
                except BudgetExhausted:
                    pass
        finally:
            connection.close()
        return won

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = sum(pool.map(worker, range(8)))
    assert won <= 20
    assert ApiCall.objects.filter(integration=integration).count() == 5 + won
    assert won >= 10  # the race costs some calls, not most of them
