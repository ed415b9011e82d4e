"""``OpportunityStage`` rows: the org's ``StageName`` values and what each one means.

The rows are the one source of stage semantics: the fields an Opportunity derives from its stage
(``IsClosed``, ``IsWon``, ``Probability``, forecast category), the ``StageName`` picklist in the
Opportunity describe and the ``set_opportunity_stage`` admin action all read or write them. A new
org gets the standard set from the schema data; the API can only read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import SalesforceApp

OBJECT = "OpportunityStage"


def _default_forecast(closed: bool, won: bool) -> str:
    """What Setup proposes for a stage of this type."""
    return "Closed" if won else "Omitted" if closed else "Pipeline"


def forecast_labels(app: SalesforceApp) -> dict[str, str]:
    """ForecastCategory API value -> its label (``Forecast`` -> ``Commit``)."""
    f = app.schema.objects[OBJECT].fields["ForecastCategory"]
    return {v["value"]: v["label"] for v in f.raw["picklistValues"]}


def ensure_rows(app: SalesforceApp) -> None:
    """Give an org without stage rows (new, or saved before they existed) the standard set."""
    store = app.org.store
    if store.table(OBJECT):
        return
    obj = app.schema.objects[OBJECT]
    for stage in app.schema.opportunity_stage_defaults:
        probability = stage.get("probability")
        app.writer.insert_raw(
            obj,
            {
                "ApiName": stage["value"],
                "MasterLabel": stage.get("label") or stage["value"],
                "IsActive": bool(stage.get("isActive", True)),
                "SortOrder": stage.get("sortOrder"),
                "IsClosed": bool(stage.get("isClosed")),
                "IsWon": bool(stage.get("isWon")),
                "ForecastCategory": stage.get("forecastCategory"),
                "ForecastCategoryName": stage.get("forecastCategoryName"),
                "DefaultProbability": float(probability) if probability is not None else None,
            },
            app.org.ui_user_id,
        )


def rows(app: SalesforceApp) -> list[dict[str, Any]]:
    """Every stage row, in picklist order."""
    table = app.org.store.table(OBJECT).values()
    return sorted(table, key=lambda r: (r.get("SortOrder") or 0, r["ApiName"]))


def by_name(app: SalesforceApp) -> dict[str, dict[str, Any]]:
    """Stage rows by ``ApiName`` (the ``StageName`` value), inactive ones included: an
    opportunity may still sit in a deactivated stage."""
    return {r["ApiName"]: r for r in app.org.store.table(OBJECT).values()}


def picklist_values(app: SalesforceApp) -> list[dict[str, Any]]:
    """``StageName``'s ``picklistValues`` as the describe shows them."""
    return [
        {
            "active": bool(r.get("IsActive")),
            "defaultValue": False,
            "label": r.get("MasterLabel") or r["ApiName"],
            "validFor": None,
            "value": r["ApiName"],
        }
        for r in rows(app)
    ]


def first_open(app: SalesforceApp) -> str:
    """The first active open stage (where a converted lead's opportunity starts)."""
    return next(
        (r["ApiName"] for r in rows(app) if r.get("IsActive") and not r.get("IsClosed")),
        "Prospecting",
    )


def set_stage(
    app: SalesforceApp,
    value: str,
    *,
    label: str | None = None,
    probability: float | None = None,
    closed: bool | None = None,
    won: bool | None = None,
    forecast_category: str | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> str:
    """Add a stage or change one (type, probability, forecast category, label; ``active=False``
    deactivates it), as an admin does in Setup; returns its row id. The StageName picklist
    follows; opportunities already at that stage keep their values until their stage is set
    again. A new open stage needs a ``probability``."""
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValueError("value must be a stage name of 1 to 255 characters")
    labels = forecast_labels(app)
    if forecast_category is not None and forecast_category not in labels:
        raise ValueError(f"forecast_category must be one of {', '.join(labels)}")
    if probability is not None and not 0 <= float(probability) <= 100:
        raise ValueError("probability must be between 0 and 100")
    existing = by_name(app).get(value)
    was_closed = bool(existing and existing.get("IsClosed"))
    was_won = bool(existing and existing.get("IsWon"))
    if won and closed is False:
        raise ValueError("a won stage is closed too")
    is_won = was_won if won is None else bool(won)
    if closed is False:  # reopening a won stage makes it an open one
        is_won = False
    is_closed = is_won or (was_closed if closed is None else bool(closed))
    type_changed = existing is None or (is_closed, is_won) != (was_closed, was_won)
    if probability is None and type_changed and is_closed:
        probability = 100 if is_won else 0
    if probability is None and existing is None:
        raise ValueError("a new open stage needs a probability")
    if forecast_category is None and type_changed:
        forecast_category = _default_forecast(is_closed, is_won)
    changes: dict[str, Any] = {"IsClosed": is_closed, "IsWon": is_won}
    if probability is not None:
        changes["DefaultProbability"] = float(probability)
    if forecast_category is not None:
        changes["ForecastCategory"] = forecast_category
        changes["ForecastCategoryName"] = labels[forecast_category]
    if label is not None:
        changes["MasterLabel"] = label
    if active is not None:
        changes["IsActive"] = bool(active)
    if description is not None:
        changes["Description"] = description or None
    obj = app.schema.objects[OBJECT]
    user = app.org.ui_user_id
    if existing is None:
        orders = [r.get("SortOrder") or 0 for r in by_name(app).values()]
        changes.setdefault("IsActive", True)
        changes.update(
            ApiName=value,
            MasterLabel=label or value,
            SortOrder=max(orders, default=0) + 1,  # Setup appends new values
        )
        return app.writer.insert_raw(obj, changes, user)
    now = app.now_stamp()
    # Straight to the store: an admin's setup change must not take a pending late-commit fault.
    changes.update(LastModifiedDate=now, LastModifiedById=user, SystemModstamp=now)
    app.org.store.update(OBJECT, existing["Id"], changes)
    return existing["Id"]
