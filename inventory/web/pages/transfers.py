"""Transfers between sites: load the van, book it in at the other end (with any shortfall), or call it off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.fields.core import Label
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.expiry import expired_on
from inventory.projections import queries, transfer_queries
from inventory.web.pages.common import allow, day_shown, page, principal, today, visible_sites
from inventory.web.pages.fields import within
from inventory.web.pages.lists import ListFilter, chosen, kept, page_asked, pager, site_options
from inventory.web.pages.movements import (
    WholeNumber,
    form_status,
    items_by_sku,
    lots_on_hand,
    option,
    plural,
    show_error,
    site_name,
    sites_for,
    unit_word,
)
from inventory.web.pages.packs import entered_in_words, has_packs, pack_choices, pack_field, units_entered
from inventory.web.services import services

bp = Blueprint("transfers", __name__)

MAX_LINES = 200
# Why a transfer is called off: a fixed list, never free text (it could end up naming someone).
CANCEL_REASONS = ("Entered by mistake", "Wrong items or quantities", "Wrong destination", "Trip called off")


# ----- forms ---------------------------------------------------------------------------------


class DispatchLine(Form):
    sku = HiddenField()
    quantity = WholeNumber(
        "Quantity",
        default=0,
        validators=[Optional(), within(rules.COUNTED)],
    )
    pack = pack_field()
    lot = SelectField("Lot", default="")


class DispatchForm(FlaskForm):
    to_site = SelectField("Send to", default="", validators=[DataRequired("Choose where the stock is going.")])
    lines = FieldList(FormField(DispatchLine), max_entries=MAX_LINES)


class ArrivalLine(Form):
    quantity = WholeNumber(
        "Arrived",
        validators=[
            InputRequired("Enter how many arrived (0 if none did)."),
            within(rules.COUNTED),
        ],
    )


class ArrivalForm(FlaskForm):
    lines = FieldList(FormField(ArrivalLine), max_entries=MAX_LINES)
    note = StringField(
        "Note (no names or personal details)",
        validators=[Length(max=200, message="Keep the note under 200 characters.")],
        render_kw={"autocomplete": "off"},
    )


class CancelForm(FlaskForm):
    reason = SelectField(
        "Why is it called off?",
        choices=[option("", "Choose a reason"), *(option(reason, reason) for reason in CANCEL_REASONS)],
        default="",
        validators=[DataRequired("Choose why the transfer is called off.")],
    )


# ----- helpers -------------------------------------------------------------------------------


def _found(transfer_id: str) -> dict[str, Any]:
    """The transfer from the read model, or 404."""
    found = transfer_queries.transfer(services().store, transfer_id)
    if found is None:
        abort(404, description=f"There is no transfer {transfer_id}.")
    return found


def _described(lines: list[dict[str, Any]], items: dict[str, dict[str, Any]]) -> str:
    """'10 kits of Naloxone 4 mg, 100 syringes of Syringe 1 mL' (lots of one item added up)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line["sku"]] = totals.get(line["sku"], 0) + int(line["quantity"])
    parts = []
    for sku, quantity in totals.items():
        item = items.get(sku)
        parts.append(f"{plural(quantity, item['unit'])} of {item['name']}" if item else f"{quantity:,} of {sku}")
    return ", ".join(parts) or "nothing"


def _sent(form: DispatchForm, sent: list[int], items: dict[str, dict[str, Any]]) -> str:
    """What was sent, as entered: '2 boxes of 100 (200 syringes) of Syringe 1 mL, 10 kits of Naloxone 4 mg'."""
    parts = []
    for line in (form.lines[i].form for i in sent):
        item = items.get(line.sku.data or "")
        name = item["name"] if item else line.sku.data
        parts.append(f"{entered_in_words(line.quantity.data or 0, line.pack.data, item)} of {name}")
    return ", ".join(parts) or "nothing"


def _usable_stock(site: str) -> dict[str, list[dict[str, Any]]]:
    """Lots that may still be sent from `site` (not expired), by SKU."""
    day = today()
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for lot in lots_on_hand(site):
        if lot["quantity"] > 0 and not expired_on(lot["expires_on"], day):
            by_sku.setdefault(lot["sku"], []).append(lot)
    return by_sku


def _line_for(error: InventoryError, skus: list[str]) -> int | None:
    """Which line a ledger refusal is about: ledgers name their SKU in the message, not in the field."""
    named = [index for index, sku in enumerate(skus) if sku in error.message]
    if not named:
        return None
    return max(named, key=lambda index: len(skus[index]))


def _indexed(field: str | None, prefix: str) -> tuple[int, str] | None:
    """('lines[2].quantity', 'lines') -> (2, 'quantity'); None when the field is not about one line."""
    if not field or not field.startswith(prefix + "["):
        return None
    index, _, rest = field[len(prefix) + 1 :].partition("]")
    return (int(index), rest.lstrip(".")) if index.isdigit() else None


# ----- the list ------------------------------------------------------------------------------


STATUS_WORDS = {"in_transit": "In transit", "received": "Received", "cancelled": "Cancelled", "voided": "Voided"}
DONE = "done"  # received, cancelled or voided: what the first view lists under those in transit
IN_TRANSIT_SHOWN = 20


class TransferFilter(ListFilter):
    site = SelectField("Site (sending or receiving)", validate_choice=False)
    status = SelectField("Status", validate_choice=False)


@bp.get("/transfers")
@page(Action.TRANSFER)
def index() -> ResponseReturnValue:
    """What is on its way, then every transfer from or to the person's sites, filtered, a page at a time."""
    who = principal()
    form = TransferFilter(request.args)
    form.site.choices = site_options(visible_sites(who), who.all_sites)
    form.status.choices = [
        option("", "Any status"),
        *(option(code, words) for code, words in STATUS_WORDS.items()),
        option(DONE, "Received, cancelled or voided"),
    ]
    form.start.label.text, form.end.label.text = "Sent from", "Sent to"
    form.checked()
    site, status = chosen(form.site, "a site"), chosen(form.status, "a status")
    filters = kept(form, "site", "status", "start", "end", "sort")
    first_view = not filters and not request.args.get("after")
    if first_view or status == DONE:
        statuses = tuple(code for code in transfer_queries.STATUSES if code != "in_transit")
    else:
        statuses = (status,) if status else transfer_queries.STATUSES
    store = services().store
    sites = [site] if site else (None if who.all_sites else sorted(who.sites))
    sent_from, sent_before = form.moments()
    found = page_asked(
        form,
        lambda after: transfer_queries.transfer_page(
            store,
            sites=sites,
            statuses=statuses,
            sent_from=sent_from,
            sent_before=sent_before,
            newest_first=form.newest_first,
            after=after,
        ),
    )
    in_transit = None
    if first_view:  # what waits to be received comes first
        in_transit = transfer_queries.transfer_page(
            store, sites=sites, statuses=("in_transit",), newest_first=False, limit=IN_TRANSIT_SHOWN
        )
    return render_template(
        "pages/transfers/index.html",
        form=form,
        filters=filters,
        in_transit=in_transit,
        found=found,
        page_links=pager("transfers.index", filters or {"status": DONE}, found) if found else {},
        senders=sites_for(Action.TRANSFER),
        items=items_by_sku(),
        may=lambda code: who.can(Action.TRANSFER, code),
        units=plural,
    ), (200 if found else 422)


# ----- dispatch ------------------------------------------------------------------------------


def _dispatch_form(site: str, stock: dict[str, list[dict[str, Any]]], items: dict[str, dict[str, Any]]) -> DispatchForm:
    form = DispatchForm(data={"lines": [{"sku": sku, "quantity": 0, "lot": ""} for sku in stock]})
    form.to_site.choices = [option("", "Choose a site")] + [
        option(s["code"], f"{s['name']} ({s['code']})")
        for s in queries.sites(services().store, open_only=True)
        if s["code"] != site
    ]
    for entry in form.lines:
        line = entry.form
        lots = stock.get(line.sku.data or "", [])
        unit = items.get(line.sku.data or "", {}).get("unit", "unit")
        line.quantity.label = Label(line.quantity.id, f"{unit_word(2, unit).capitalize()} to send")
        line.quantity.render_kw = {"max": sum(lot["quantity"] for lot in lots) or None}
        line.pack.choices = pack_choices(items.get(line.sku.data or ""))
        line.lot.choices = [option("", "First to expire")] + [
            option(lot["lot"], f"{lot['lot']} · {lot['quantity']:,} on hand" + _expiry(lot)) for lot in lots
        ]
    return form


def _expiry(lot: dict[str, Any]) -> str:
    return f" · expires {day_shown(lot['expires_on'])}" if lot["expires_on"] else ""


def _place_dispatch_error(form: DispatchForm, error: InventoryError, sent: list[int]) -> None:
    """Put a refusal next to the line it is about; `sent[k]` is the form line of the k-th line sent."""
    entries = list(form.lines)
    found = _indexed(error.field, "lines")
    if found is not None and found[0] < len(sent):
        index, part = sent[found[0]], found[1]
    elif error.field in ("quantity", "lot", "occurred_at"):
        named = _line_for(error, [entries[i].form.sku.data or "" for i in sent])
        if named is None:
            show_error(form, error)
            return
        index, part = sent[named], error.field
    else:
        show_error(form, error)
        return
    target = entries[index].form.lot if part == "lot" else entries[index].form.quantity
    target.errors = [*target.errors, error.message]


@bp.route("/sites/<site>/transfers/new", methods=["GET", "POST"])
@page(Action.TRANSFER)
def new(site: str) -> ResponseReturnValue:
    """Load the van: stock leaves `site` now and is in transit to the destination."""
    items = items_by_sku()
    stock = _usable_stock(site)
    form = _dispatch_form(site, stock, items)
    status = 200
    if form.validate_on_submit():
        sent = [i for i, entry in enumerate(form.lines) if entry.form.quantity.data]
        lines = [
            {"sku": line.sku.data, "quantity": units_entered(line.quantity, line.pack, items.get(line.sku.data or "")),
             "lot": line.lot.data or None}
            for line in (form.lines[i].form for i in sent)
        ]  # fmt: skip
        if any(line["quantity"] is None for line in lines):  # a pack the item does not come in: said beside it
            status = 422
        elif not lines:
            form.form_errors.append("Enter a quantity for at least one item to send.")
            status = 422
        else:
            try:
                done = services().app.dispatch_transfer(
                    from_site=site, to_site=form.to_site.data or "", lines=lines, actor=principal().email
                )
            except InventoryError as error:
                _place_dispatch_error(form, error, sent)
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                flash(
                    f"Sent from {site} to {done['to_site']}: {_sent(form, sent, items)}. "
                    f"It is in transit until {done['to_site']} receives it.",
                    "success",
                )
                return redirect(url_for("transfers.index"))
    elif request.method == "POST":
        status = 422
    rows = [_dispatch_row(entry.form, items, stock) for entry in form.lines]
    return render_template(
        "pages/transfers/new.html", form=form, site=site, site_name=site_name(site), rows=rows
    ), status


def _dispatch_row(
    line: Any, items: dict[str, dict[str, Any]], stock: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """What the page shows for one line: the item's name, what is on hand, and the stepper's step."""
    sku = line.sku.data or ""
    item = items.get(sku) or {"name": sku, "unit": "unit", "category": ""}
    on_hand = sum(lot["quantity"] for lot in stock.get(sku, []))
    return {
        "line": line,
        "name": item["name"],
        "on_hand": plural(on_hand, item["unit"]),
        # Syringes go out by tens.
        "step": 10 if item["category"] == "syringe" else 1,
        "packs": has_packs(item),
        "lot_chosen": bool(line.lot.data) or bool(line.lot.errors),
    }


# ----- receive -------------------------------------------------------------------------------


def _arrival_form(transfer: dict[str, Any], items: dict[str, dict[str, Any]]) -> ArrivalForm:
    form = ArrivalForm(data={"lines": [{"quantity": line["quantity"]} for line in transfer["lines"]]})
    for entry, line in zip(form.lines, transfer["lines"], strict=False):
        item = items.get(line["sku"])
        name = item["name"] if item else line["sku"]
        entry.form.quantity.label = Label(entry.form.quantity.id, f"{name}, lot {line['lot']}")
        entry.form.quantity.render_kw = {"max": line["quantity"]}
    return form


def _arrivals_fit(form: ArrivalForm, transfer: dict[str, Any]) -> bool:
    """Each line's arrival is between 0 and what was sent (more is stock found: an adjustment)."""
    if len(form.lines) != len(transfer["lines"]):
        form.form_errors.append("The transfer's lines have changed since this page was opened. Reload it.")
        return False
    fits = True
    for entry, line in zip(form.lines, transfer["lines"], strict=True):
        got = entry.form.quantity.data
        if got is not None and got > line["quantity"]:
            entry.form.quantity.errors = [
                f"Only {line['quantity']:,} were sent. Record any extra as a 'found' adjustment after receiving."
            ]
            fits = False
    return fits


def _place_arrival_error(form: ArrivalForm, error: InventoryError) -> None:
    found = _indexed(error.field, "received")
    entries = list(form.lines)
    if found is not None and found[0] < len(entries):
        target = entries[found[0]].form.quantity
        target.errors = [*target.errors, error.message]
    else:
        show_error(form, error)


def _arrival_said(done: dict[str, Any], items: dict[str, dict[str, Any]]) -> str:
    said = f"Received at {done['to_site']} from {done['from_site']}: {_described(done['received'], items)}."
    if done["shortfall"]:
        units = {sku: item["unit"] for sku, item in items.items()}
        missing = "; ".join(
            f"{plural(int(row['quantity']), units.get(row['sku'], 'unit'))} of {row['sku']} lot {row['lot']}"
            for row in done["shortfall"]
        )
        said += f" Shortfall recorded (did not arrive): {missing}."
    return said


@bp.route("/transfers/<transfer_id>/receive", methods=["GET", "POST"])
@page(Action.TRANSFER)
def receive(transfer_id: str) -> ResponseReturnValue:
    """At the destination: what actually arrived, line by line (as sent unless changed)."""
    transfer = _found(transfer_id)
    allow(Action.TRANSFER, transfer["to_site"])
    items = items_by_sku()
    form = _arrival_form(transfer, items)
    status = 200
    if form.validate_on_submit():
        if _arrivals_fit(form, transfer):
            received = [
                {"sku": line["sku"], "lot": line["lot"], "quantity": entry.form.quantity.data}
                for entry, line in zip(form.lines, transfer["lines"], strict=True)
            ]
            try:
                done = services().app.receive_transfer(
                    transfer_id=transfer["id"], received=received, note=form.note.data or "", actor=principal().email
                )
            except InventoryError as error:
                _place_arrival_error(form, error)
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                flash(_arrival_said(done, items), "success" if not done["shortfall"] else "warning")
                return redirect(url_for("transfers.index"))
        else:
            status = 422
    elif request.method == "POST":
        status = 422
    rows = list(zip(form.lines, transfer["lines"], strict=False))
    return render_template(
        "pages/transfers/receive.html",
        form=form,
        transfer=transfer,
        rows=rows,
        items=items,
        units=plural,
    ), status


# ----- cancel --------------------------------------------------------------------------------


@bp.route("/transfers/<transfer_id>/cancel", methods=["GET", "POST"])
@page(Action.TRANSFER)
def cancel(transfer_id: str) -> ResponseReturnValue:
    """At the sender: call a transfer off while in transit; its stock goes back into the sender's lots."""
    transfer = _found(transfer_id)
    allow(Action.TRANSFER, transfer["from_site"])
    items = items_by_sku()
    form = CancelForm()
    status = 200
    if form.validate_on_submit():
        try:
            services().app.cancel_transfer(
                transfer_id=transfer["id"], reason=form.reason.data or "", actor=principal().email
            )
        except InventoryError as error:
            show_error(form, error)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(
                f"Transfer from {transfer['from_site']} to {transfer['to_site']} cancelled ({form.reason.data}): "
                f"{_described(transfer['lines'], items)} back in stock at {transfer['from_site']}.",
                "success",
            )
            return redirect(url_for("transfers.index"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "pages/transfers/cancel.html", form=form, transfer=transfer, items=items, units=plural
    ), status
