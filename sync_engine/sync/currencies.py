"""Amounts between a multi-currency Salesforce org and HubSpot's company currency.

A multi-currency org holds each record's amounts in the record's own currency
(``CurrencyIsoCode``); HubSpot holds a company's or contact's amounts (``annualrevenue``) in the
account's company currency. Moved as they are, 1,000,000 in pounds would become 1,000,000 in
euros. So the pairs convert them by the org's own rates (``CurrencyType``, against the corporate
currency), as Salesforce itself converts every amount but an opportunity's. Deals don't: a
deal's amount is in the deal's currency, which syncs with the opportunity's (``deals.py``).

A converted value is compared with the last one synced in Salesforce's terms (to the field's
decimal places), so a value that went one way doesn't come back changed by rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .values import CURRENCY_FIELD, ValueConversionError


class AmountNotConvertible(ValueConversionError):
    """An amount between two currencies the org has no rate for (``unreadable``: the org's
    currencies couldn't be read at all)."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


@dataclass(frozen=True)
class Rates:
    """The org's currencies (``services.salesforce_currency_rates``)."""

    rates: dict[str, Decimal]  # units per unit of the corporate currency
    places: dict[str, int]
    active: frozenset[str]
    corporate: str

    @classmethod
    def kept(cls, data: dict) -> Rates | None:
        """From what the engine keeps; None when nothing is known (never read, or refused)."""
        try:
            rates = {code: Decimal(rate) for code, rate in (data.get("rates") or {}).items()}
        except InvalidOperation:
            return None
        if not rates:
            return None
        return cls(
            rates={code: rate for code, rate in rates.items() if rate > 0},
            places=dict(data.get("places") or {}),
            active=frozenset(data.get("active") or ()),
            corporate=str(data.get("corporate") or ""),
        )

    def convert(self, amount: Decimal, source: str, target: str, places: int) -> Decimal:
        """``amount`` in ``source`` as ``target``, to ``places`` decimals (half up)."""
        missing = [code for code in (source, target) if code not in self.rates]
        if missing:
            raise AmountNotConvertible(
                f"Salesforce has no conversion rate for {' or '.join(missing)}"
            )
        converted = amount / self.rates[source] * self.rates[target]
        return converted.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def unit_fraction(places: int | None) -> Decimal:
    """Half a unit of the last decimal place: what rounding to ``places`` may move a value by
    (a whole half when the places aren't known: the coarsest a currency field rounds to)."""
    return Decimal("0.5").scaleb(-(places or 0))


def amounts_convert(*, converts: bool, fields: Iterable[str], mapped: Iterable[str]) -> bool:
    """Whether an object's amounts are converted: the pair converts (``converts``), the
    object has the record currency (among its ``fields``: a multi-currency org), and no
    mapping uses it (among its ``mapped`` fields: an admin who maps it has HubSpot hold the
    currency, so amounts go as they are). The engine and the mapping table both ask this."""
    return converts and CURRENCY_FIELD in fields and CURRENCY_FIELD not in set(mapped)
