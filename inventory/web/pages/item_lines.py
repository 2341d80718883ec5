"""A quantity per item on hand at a site: what a shift tally, an issue to a partner and a parcel ask for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import Form, HiddenField
from wtforms.fields.core import Label
from wtforms.validators import Optional

from inventory.application import rules
from inventory.web.pages.fields import within
from inventory.web.pages.movements import WholeNumber, lots_on_hand, plural, unit_word


class ItemLine(Form):
    """One item's quantity (blank or 0: none), named by its SKU."""

    sku = HiddenField()
    quantity = WholeNumber(
        "Quantity", validators=[Optional(), within(rules.COUNTED)], render_kw={"autocomplete": "off"}
    )


def on_hand_lines(site: str) -> list[dict[str, str]]:
    """A line for each item on hand at the site, by SKU (the form's starting data)."""
    return [{"sku": sku} for sku in sorted({row["sku"] for row in lots_on_hand(site)})]


def label_lines(entries: Iterable[Any], items: dict[str, dict[str, Any]]) -> None:
    """Name each line by its item and unit: "Naloxone 4 mg nasal (kits)"."""
    for entry in entries:
        sku = entry.form.sku.data or ""
        item = items.get(sku) or {"name": sku, "unit": "unit"}
        entry.form.quantity.label = Label(entry.form.quantity.id, f"{item['name']} ({unit_word(2, item['unit'])})")


def lines_entered(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """The lines with a quantity, as the verbs take them."""
    return [{"sku": e.form.sku.data, "quantity": e.form.quantity.data} for e in entries if e.form.quantity.data]


def lines_in_words(lines: Iterable[dict[str, Any]], items: dict[str, dict[str, Any]]) -> str:
    """ "12 kits of NALOX-4MG, 50 strips of FTS" """
    return ", ".join(
        f"{plural(int(line['quantity']), items.get(line['sku'], {}).get('unit', 'unit'))} of {line['sku']}"
        for line in lines
    )
