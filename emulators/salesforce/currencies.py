"""``CurrencyType`` rows: a multi-currency org's currencies and their conversion rates.

Salesforce keeps one row per currency the org has added (active or not), its rate against the
corporate currency (the corporate one's is 1), and converts amounts of every object but
opportunities by these rates. A single-currency org has no such object: it is added when
multiple currencies are turned on (``enable_multi_currency``), and again when a saved org
that has them is restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .schema import currency_type_object

if TYPE_CHECKING:
    from .app import SalesforceApp

OBJECT = "CurrencyType"


def ensure_object(app: SalesforceApp) -> None:
    if app.schema.get(OBJECT) is None:
        app.schema.add_object(currency_type_object())


def by_code(app: SalesforceApp) -> dict[str, dict[str, Any]]:
    return {r["IsoCode"]: r for r in app.org.store.table(OBJECT).values()}


def ensure_rows(
    app: SalesforceApp, corporate: str, codes: list[str], rates: dict[str, float]
) -> None:
    """A row for each of ``codes`` (active), at its rate in ``rates`` (1 when not given, the
    corporate currency always 1); a currency the org has already keeps its rate unless
    ``rates`` names it."""
    ensure_object(app)
    obj = app.schema.objects[OBJECT]
    rows = by_code(app)
    for code in codes:
        rate = 1.0 if code == corporate else float(rates.get(code, 1.0))
        row = rows.get(code)
        if row is None:
            app.writer.insert_raw(
                obj,
                {
                    "IsoCode": code,
                    "ConversionRate": rate,
                    "DecimalPlaces": 2,
                    "IsActive": True,
                    "IsCorporate": code == corporate,
                },
                app.org.ui_user_id,
            )
        else:
            changes: dict[str, Any] = {"IsActive": True}
            if code in rates and not row.get("IsCorporate"):
                changes["ConversionRate"] = rate
            app.org.store.update(OBJECT, row["Id"], changes)


def set_rate(app: SalesforceApp, code: str, rate: float) -> dict[str, Any]:
    """An admin's new rate for ``code`` (Setup > Manage Currencies); the corporate currency's
    stays 1."""
    row = by_code(app).get(code)
    if row is None:
        raise ValueError(f"the org has no currency {code!r}")
    if row.get("IsCorporate"):
        raise ValueError("the corporate currency's rate is always 1")
    if not rate or float(rate) <= 0:
        raise ValueError("a conversion rate is a positive number")
    stamp = app.now_stamp()
    changes = {"ConversionRate": float(rate), "LastModifiedDate": stamp, "SystemModstamp": stamp}
    app.org.store.update(OBJECT, row["Id"], changes)
    return by_code(app)[code]
