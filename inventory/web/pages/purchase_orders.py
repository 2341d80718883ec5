"""Purchase orders: raise one (from an alert, with a suggested quantity), submit, cancel, close; receive on the
receive page."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from inventory.application import rules
from inventory.application.access import Action
from inventory.application.suggested_order import Suggestion, suggest_quantity
from inventory.domain.errors import InventoryError, UnknownPurchaseOrder
from inventory.domain.packs import FIRST_PACK, Pack, pack_words, packs_from
from inventory.domain.time_words import day_in_words
from inventory.projections import queries
from inventory.projections.order_queries import FINISHED, UNFINISHED, order_page, priced, purchase_order_row
from inventory.projections.suppliers import supplier_key, suppliers
from inventory.web.pages.common import allow, page, principal
from inventory.web.pages.fields import typed_price, within
from inventory.web.pages.lists import ListFilter, chosen, kept, page_asked, pager, site_options
from inventory.web.pages.movements import (
    WholeNumber,
    form_status,
    item_label,
    items_by_sku,
    option,
    plural,
    show_error,
    sites_for,
)
from inventory.web.pages.packs import any_packs, entered_in_words, pack_field, packs_of_items, units_entered
from inventory.web.services import services

bp = Blueprint("purchase_orders", __name__)

LINE_ROWS = 3
MAX_LINES = 20
RECENT = 10
LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")

STATUS_WORDS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "partly_received": "Partly received",
    "received": "Received in full",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
# Why an order is called off: a fixed list, so no free text about anyone is kept.
CANCEL_REASONS = (
    "Supplier cannot deliver",
    "Ordered by mistake",
    "No longer needed",
    "Funding not available",
    "Replaced by another order",
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LineForm(Form):
    """One line: an item, how many, and the price of one unit."""

    sku = SelectField("Item", default="")
    quantity = WholeNumber(
        "Quantity",
        validators=[
            Optional(),
            within(rules.QUANTITY),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    pack = pack_field()
    unit_cost = StringField("Unit cost", filters=[_strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})


class OrderForm(FlaskForm):
    site = SelectField("Deliver to", default="", validators=[DataRequired("Choose the site the order is for.")])
    supplier = StringField(
        "Supplier",
        filters=[_strip],
        validators=[DataRequired("Enter the supplier's name."), Length(max=80, message="At most 80 characters.")],
        render_kw={"list": "known-suppliers", "autocomplete": "off"},
    )
    funding_source = SelectField("Funding source", default="", validators=[DataRequired("Choose who pays for it.")])
    number = StringField(
        "Order number",
        filters=[_strip],
        validators=[Optional(), Length(max=40, message="An order number is at most 40 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    lines = FieldList(FormField(LineForm), min_entries=LINE_ROWS, max_entries=MAX_LINES)

    # Set by the view: the items that may be ordered, by SKU (their packs).
    items: dict[str, dict[str, Any]] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        """Each line with an item needs a quantity; a line without one must be empty; one line at least."""
        valid = bool(super().validate(extra_validators))
        filled = 0
        for entry in self.lines:
            row = entry.form
            if row.sku.data:
                filled += 1
                if row.quantity.data is None and not row.quantity.errors:
                    row.quantity.errors = [*row.quantity.errors, "Enter how many to order."]
                    valid = False
                elif units_entered(row.quantity, row.pack, self.items.get(row.sku.data)) is None:
                    valid = False  # a pack the item does not come in: said beside the choice
            elif row.quantity.data is not None or row.unit_cost.data:
                row.sku.errors = [*row.sku.errors, "Choose the item, or clear this line."]
                valid = False
            if row.unit_cost.data and typed_price(row.unit_cost.data) is None:
                row.unit_cost.errors = [*row.unit_cost.errors, "Enter a price of 0 or more, like 12.50."]
                valid = False
        if not filled and not any(entry.form.sku.errors for entry in self.lines):
            first = self.lines[0].form.sku
            first.errors = [*first.errors, "Choose at least one item to order."]
            valid = False
        return valid

    def filled(self) -> list[tuple[int, dict[str, Any]]]:
        """The lines with an item, as (row on the form, line as the verb takes it)."""
        return [
            (
                index,
                {
                    "sku": row.sku.data,
                    "quantity": units_entered(row.quantity, row.pack, self.items.get(row.sku.data)),
                    "unit_cost": typed_price(row.unit_cost.data) if row.unit_cost.data else None,
                },
            )
            for index, row in ((i, entry.form) for i, entry in enumerate(self.lines))
            if row.sku.data
        ]


class ConfirmForm(FlaskForm):
    """Submit or close: nothing to fill in but the CSRF token."""


class CancelForm(FlaskForm):
    reason = SelectField(
        "Why cancel it?",
        choices=[option("", "Choose a reason"), *(option(reason, reason) for reason in CANCEL_REASONS)],
        default="",
        validators=[DataRequired("Choose why the order is cancelled.")],
    )


def _place_error(form: OrderForm, error: InventoryError, rows: list[int]) -> None:
    """A refusal about the n-th line sent goes next to that line's field on the form (blank rows skipped)."""
    found = LINE_FIELD.match(error.field or "")
    if found and int(found.group(1)) < len(rows):
        row = form.lines[rows[int(found.group(1))]].form
        target = getattr(row, found.group(2) or "sku", None)
        if target is not None:
            target.errors = [*target.errors, error.message]
            return
    if error.field == "lines":
        first = form.lines[rows[0] if rows else 0].form.sku
        first.errors = [*first.errors, error.message]
        return
    show_error(form, error)


def _build_form(items: dict[str, dict[str, Any]]) -> OrderForm:
    form = OrderForm()
    form.site.choices = [option("", "Choose the site")] + [
        option(s["code"], f"{s['name']} ({s['code']})") for s in sites_for(Action.PURCHASE)
    ]
    form.funding_source.choices = [option("", "Choose who pays")] + [
        option(f["code"], f"{f['name']} ({f['code']}{', federal' if f['federal'] else ''})")
        for f in queries.funding_sources(services().store)
    ]
    choices = [option("", "No item")] + [option(sku, item_label(item, sku)) for sku, item in items.items()]
    packs = packs_of_items(items)
    form.items = items
    for entry in form.lines:
        entry.form.sku.choices = choices
        entry.form.pack.choices = packs
    return form


def level_of(site: str, sku: str) -> dict[str, Any] | None:
    """On hand, on order, in transit and the levels set for an item at a site (read model)."""
    found = queries.stock_levels(services().store, site, sku)
    return found[0] if found else None


def suggestion_for(level: dict[str, Any] | None, item: dict[str, Any]) -> Suggestion | None:
    """What to order of `item` to bring its site to par level (None when no par level is set)."""
    if level is None or level["par_level"] is None:
        return None
    return suggest_quantity(
        par_level=int(level["par_level"]),
        on_hand=int(level["on_hand"]),
        on_order=int(level["on_order"]),
        in_transit=int(level["in_transit"]),
        pack_size=int(item["pack_size"] or 1),
    )


def _prefill(form: OrderForm, site: str | None, item: dict[str, Any] | None, suggested: Suggestion | None) -> None:
    """An order started from an alert: its site and item chosen, the suggested quantity filled in."""
    if site:
        form.site.data = site
    if item is not None:
        form.lines[0].form.sku.data = item["sku"]
        if suggested is not None and suggested.quantity > 0:
            form.lines[0].form.quantity.data = suggested.quantity


OPEN, DONE, ANY = "open", "finished", "any"
STATUS_CHOICES = {
    OPEN: UNFINISHED,
    **{code: (code,) for code in STATUS_WORDS},
    DONE: FINISHED,
    ANY: UNFINISHED + FINISHED,
}


class OrderFilter(ListFilter):
    number = StringField(
        "Order number (or how it starts)",
        validators=[Optional(), Length(max=40)],
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )
    site = SelectField("Site", validate_choice=False)
    status = SelectField("Status", validate_choice=False)


@bp.get("/purchase-orders")
@page(Action.PURCHASE)
def index() -> ResponseReturnValue:
    """Open orders first (found by number, site, status and when raised), a page at a time; then the latest
    finished ones."""
    who = principal()
    mine = sites_for(Action.PURCHASE)
    form = OrderFilter(request.args)
    form.site.choices = site_options(mine, who.all_sites)
    form.status.choices = [
        option(OPEN, "Open: drafted, submitted or partly received"),
        *(option(code, words) for code, words in STATUS_WORDS.items()),
        option(DONE, "Finished: received, closed or cancelled"),
        option(ANY, "Any status"),
    ]
    form.start.label.text, form.end.label.text = "Raised from", "Raised to"
    form.status.data = form.status.data or OPEN
    form.checked()
    site, status = chosen(form.site, "a site"), chosen(form.status, "a status") or OPEN
    filters = kept(form, "number", "site", "status", "start", "end", "sort")
    if filters.get("status") == OPEN:
        del filters["status"]
    store = services().store
    sites = [site] if site else (None if who.all_sites else [s["code"] for s in mine])
    raised_from, raised_before = form.moments()
    found = page_asked(
        form,
        lambda after: order_page(
            store,
            statuses=STATUS_CHOICES[status],
            sites=sites,
            number=(form.number.data or "").strip().upper() or None,
            raised_from=raised_from,
            raised_before=raised_before,
            newest_first=form.newest_first,
            after=after,
        ),
    )
    first_view = not filters and not request.args.get("after")
    recent = order_page(store, statuses=FINISHED, sites=sites, limit=RECENT) if first_view else None
    return render_template(
        "pages/purchase_orders/index.html",
        form=form,
        filters=filters,
        found=found,
        recent=recent,
        page_links=pager("purchase_orders.index", filters, found) if found else {},
        items=items_by_sku(),
        words=STATUS_WORDS,
        units=plural,
    ), (200 if found else 422)


@bp.route("/purchase-orders/new", methods=["GET", "POST"])
@page(Action.PURCHASE)
def new() -> ResponseReturnValue:
    """Raise an order (a draft). From an alert, ?site=&sku= choose both and suggest the quantity."""
    items = items_by_sku(active_only=True)
    from_site = (request.args.get("site") or "").upper() or None
    if from_site:
        allow(Action.PURCHASE, from_site)
    item = items.get((request.args.get("sku") or "").upper()) if from_site else None
    level = level_of(from_site, item["sku"]) if from_site and item else None
    suggested = suggestion_for(level, item) if item else None
    form = _build_form(items)
    status = 200
    if request.method == "GET":
        _prefill(form, from_site, item, suggested)
    elif form.validate_on_submit():
        allow(Action.PURCHASE, form.site.data)
        rows = form.filled()
        try:
            order = services().app.raise_purchase_order(
                supplier=form.supplier.data or "",
                site=form.site.data or "",
                funding_source=form.funding_source.data or "",
                lines=[line for _, line in rows],
                number=form.number.data or None,
                actor=principal().email,
            )
        except InventoryError as error:
            _place_error(form, error, [index for index, _ in rows])
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(
                f"Purchase order {order['number']} drafted for {order['site']} from {order['supplier']}, "
                f"paid by {order['funding_source']}: {_entered(form, items)}. "
                "Submit it once it has gone to the supplier.",
                "success",
            )
            return redirect(url_for("purchase_orders.show", order_id=order["id"]))
    else:
        status = 422
    return (
        render_template(
            "pages/purchase_orders/new.html",
            form=form,
            item=item,
            from_site=from_site,
            suggested=suggested,
            supplier_pack=supplier_pack(item, suggested),
            level=level,
            units=plural,
            packs_shown=any_packs(items.values()),
            known_suppliers=(known := suppliers(services().store)),
            last_prices=json.dumps(
                {supplier_key(s["name"]): {sku: p["unit_cost"] for sku, p in s["prices"].items()} for s in known}
            ),
        ),
        status,
    )


def _entered(form: OrderForm, items: dict[str, dict[str, Any]]) -> str:
    """The order's lines as entered: '2 cases of 24 (48 kits) of NALOX-4MG, 100 syringes of SYR-1ML'."""
    return ", ".join(
        f"{entered_in_words(row.quantity.data or 0, row.pack.data, items.get(row.sku.data))} of {row.sku.data}"
        for row in (entry.form for entry in form.lines)
        if row.sku.data
    )


def supplier_pack(item: dict[str, Any] | None, suggested: Suggestion | None) -> str | None:
    """The suggestion in the supplier's packs ('4 boxes of 100'), when it comes in packs."""
    if item is None or suggested is None or suggested.pack_size <= 1:
        return None
    first = packs_from(item.get("packs") or []) or [Pack(FIRST_PACK, suggested.pack_size)]
    return f"{suggested.packs:,} {pack_words(first[0], suggested.packs)}"


def _order(order_id: str) -> dict[str, Any]:
    """The order (from its own events, so always current), if this person may purchase for its site."""
    try:
        order = services().app.purchase_order(order_id)
    except UnknownPurchaseOrder:
        abort(404, description="There is no such purchase order.")
    allow(Action.PURCHASE, order["site"])
    return order


def _show(order: dict[str, Any], status: int = 200, **forms: FlaskForm) -> ResponseReturnValue:
    known = purchase_order_row(services().store, order["id"]) or {}
    return (
        render_template(
            "pages/purchase_orders/show.html",
            order=order,
            known=known,
            items=items_by_sku(),
            words=STATUS_WORDS,
            units=plural,
            submit_form=forms["submit"] if "submit" in forms else ConfirmForm(formdata=None),
            cancel_form=forms["cancel"] if "cancel" in forms else CancelForm(formdata=None),
            close_form=forms["close"] if "close" in forms else ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/purchase-orders/<order_id>")
@page(Action.PURCHASE)
def show(order_id: str) -> ResponseReturnValue:
    """One order: its lines ordered, received and outstanding, and what can be done with it now."""
    return _show(_order(order_id))


@bp.get("/purchase-orders/<order_id>/print")
@page(Action.PURCHASE)
def printable(order_id: str) -> ResponseReturnValue:
    """The order as it goes to the supplier: who orders, where to deliver, who pays, each line with its
    price and total, and the order's total; a page that prints on A4 or Letter as it is."""
    order = _order(order_id)
    known = purchase_order_row(services().store, order["id"]) or {}
    sites = {site["code"]: site for site in queries.sites(services().store)}
    raised = known.get("raised_at")
    return render_template(
        "pages/purchase_orders/print.html",
        order=order,
        # A document's date says its year, and is the day it was raised here (not in UTC).
        raised_on=day_in_words(datetime.fromisoformat(raised).astimezone(services().app.zone).date())
        if raised
        else None,
        priced=priced(order),
        site=sites.get(order["site"]),
        items=items_by_sku(),
        words=STATUS_WORDS,
    )


@bp.get("/suppliers")
@page(Action.PURCHASE)
def suppliers_page() -> ResponseReturnValue:
    """Every supplier ordered from, with the last unit cost of each item ordered from it."""
    return render_template(
        "pages/purchase_orders/suppliers.html", suppliers=suppliers(services().store), items=items_by_sku()
    )


def _act(
    order_id: str, name: str, verb: Callable[..., Any], form: FlaskForm, done: str, **extra: Any
) -> ResponseReturnValue:
    """Run one of submit, cancel or close on the order; its refusal is shown above that action's button."""
    order = _order(order_id)
    if not form.validate_on_submit():
        return _show(order, 422, **{name: form})
    try:
        verb(order_id=order["id"], actor=principal().email, **extra)
    except InventoryError as error:
        show_error(form, error)
        return _show(order, form_status(error), **{name: form})
    services().projector.read_your_writes()
    flash(f"Purchase order {order['number']} {done}.", "success")
    return redirect(url_for("purchase_orders.show", order_id=order["id"]))


@bp.post("/purchase-orders/<order_id>/submit")
@page(Action.PURCHASE)
def submit(order_id: str) -> ResponseReturnValue:
    """The order has gone to the supplier: its quantities count as on order from now."""
    return _act(
        order_id,
        "submit",
        services().app.submit_purchase_order,
        ConfirmForm(),
        "submitted: its quantities now count as on order",
    )


@bp.post("/purchase-orders/<order_id>/cancel")
@page(Action.PURCHASE)
def cancel(order_id: str) -> ResponseReturnValue:
    """Call the order off, with a reason from the list; what was still to come is no longer on order."""
    form = CancelForm()
    return _act(
        order_id,
        "cancel",
        services().app.cancel_purchase_order,
        form,
        f"cancelled ({form.reason.data})",
        reason=form.reason.data or "",
    )


@bp.post("/purchase-orders/<order_id>/close")
@page(Action.PURCHASE)
def close(order_id: str) -> ResponseReturnValue:
    """Nothing more is coming: whatever is still outstanding is no longer on order."""
    return _act(
        order_id, "close", services().app.close_purchase_order, ConfirmForm(), "closed: nothing more is expected on it"
    )
