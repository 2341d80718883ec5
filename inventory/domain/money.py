"""Money as the program counts it: one currency (INVENTORY_CURRENCY, an ISO 4217 code), shown with its
symbol where the code has a well-known one, and to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from inventory.domain.errors import InvalidInput

# The symbols people expect in front of an amount; any other ISO code is written after it ("12.50 CHF").
SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "GBP": "£", "EUR": "€", "IEP": "£"}
DEFAULT_CURRENCY = "USD"


def check_currency(code: str) -> str:
    """An ISO 4217 code, three letters (CAD, USD, GBP, EUR…)."""
    found = code.strip().upper()
    if len(found) != 3 or not found.isascii() or not found.isalpha():
        raise InvalidInput(f"INVENTORY_CURRENCY {code!r} must be a three-letter currency code, like USD or CAD.")
    return found


def money_shown(amount: Decimal | str | int | float | None, currency: str) -> str:
    """ "$1,234.50", "£0.75", "12.50 CHF"; empty for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(amount)
    sign = "-" if value < 0 else ""
    figures = f"{abs(value):,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{figures}" if symbol else f"{sign}{figures} {currency}"
