"""Record a visit, phone-first: preset bundles, big steppers, and a key that records it once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import ValidationError

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.discards import DISCARD_REASONS as REASONS_TO_DISCARD
from inventory.domain.errors import IdempotencyConflict, InventoryError
from inventory.domain.expiry import expired_on
from inventory.domain.participant import check_participant_code
from inventory.domain.reach import PERSON_WHO_USES_DRUGS, REFILL_REASONS, channel_for_site
from inventory.domain.values import Category
from inventory.projections import queries
from inventory.web.errors import status_for
from inventory.web.pages.common import field_error, page, principal, today, visible_sites
from inventory.web.pages.fields import within
from inventory.web.pages.movements import option
from inventory.web.pages.reach import channel_options, recipient_options
from inventory.web.services import services

bp = Blueprint("encounters", __name__)


@dataclass(frozen=True)
class Bundle:
    """A preset hand-out: quantities by category, filled in with the site's item of each category, and who it
    is for (a person who uses drugs, collecting for `for_others` more people)."""

    id: str
    label: str
    contents: tuple[tuple[Category, int], ...]
    for_others: int = 0
    recipient: str = PERSON_WHO_USES_DRUGS


# The common hand-outs, one tap each. A bundle is offered where the site stocks every category in it.
BUNDLES = (
    Bundle("naloxone-2-syringes-10", "2 naloxone kits + 10 syringes", ((Category.NALOXONE, 2), (Category.SYRINGE, 10))),
    Bundle("naloxone-1", "1 naloxone kit", ((Category.NALOXONE, 1),)),
    Bundle("naloxone-4-for-others", "4 naloxone kits, collecting for 3 others", ((Category.NALOXONE, 4),), 3),
    Bundle("syringes-10", "Syringes 10", ((Category.SYRINGE, 10),)),
    Bundle("test-strips-5", "Test strips 5", ((Category.TEST_STRIP, 5),)),
)


# Items are listed naloxone first (what matters most in a hurry); syringes go by tens.
CATEGORY_ORDER = {category.value: index for index, category in enumerate(Category)}
STEP = {Category.SYRINGE.value: 10}
# Why a visit kept offline that the server could not record is discarded: a fixed list, never free text.
DISCARD_REASONS = tuple(REASONS_TO_DISCARD.items())
NOTHING_HANDED_OUT = (
    "Nothing is handed out: enter a quantity for at least one item, or tap a quick pick. "
    "(A visit that only returns used syringes or reports a reversal: enter those under More about this visit.)"
)


@dataclass(frozen=True)
class Stocked:
    """An item at the site, with what is on hand and what can still be issued (not expired)."""

    sku: str
    name: str
    category: str
    unit: str
    on_hand: int
    usable: int

    @property
    def field(self) -> str:
        return field_name(self.sku)

    @property
    def hint(self) -> str:
        text = f"{self.on_hand} on hand"
        expired = self.on_hand - self.usable
        if expired > 0:
            text += f" ({expired} expired, cannot be handed out)"
        return text


def field_name(sku: str) -> str:
    """The form field of an item: its SKU, so a posted quantity never lands on another item."""
    return f"qty_{sku}"


class Count(IntegerField):
    """A whole number, 0 or more; blank means 0, and anything else keeps what was typed with a clear message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = 0
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError("Enter a whole number, 0 or more.") from None


def count(label: str, limit: rules.WholeNumbers, **kwargs: Any) -> Count:
    return Count(label, default=0, validators=[within(limit)], **kwargs)


def participant_code_rule(_form: FlaskForm, field: Field) -> None:
    """The domain's rule for the optional code (4 to 12 letters and digits, never a date)."""
    try:
        check_participant_code(field.data)
    except InventoryError as err:
        raise ValidationError(err.message) from None


class EncounterForm(FlaskForm):
    """What a visit records besides the items (one quantity field per item is added per site)."""

    key = HiddenField()
    participant_code = StringField(
        "Participant code",
        validators=[participant_code_rule],
        filters=[lambda value: value.strip().upper() if isinstance(value, str) else value],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": 12},
    )
    reversals_reported = count("Overdose reversals reported", rules.VISIT_REVERSALS)
    syringes_collected = count("Used syringes collected", rules.VISIT_SYRINGES)
    refill_reason = SelectField(
        "Naloxone refill reason",
        choices=[option("", "Not a refill"), *(option(code, label) for code, label in REFILL_REASONS.items())],
        default="",
    )
    recipient = SelectField("Recipient", default=PERSON_WHO_USES_DRUGS)
    for_others = count(
        "Collecting for others: about how many people", rules.VISIT_FOR_OTHERS, render_kw={"data-for-others": ""}
    )
    channel = SelectField("How it was handed out")


def encounter_form(stocked: list[Stocked], site_kind: str) -> EncounterForm:
    """The form for this site: the shared fields plus one stepper per item in stock; who it is for from the
    recipient types (with any an admin added), how it left the site's usual way unless changed."""
    fields = {row.field: count(row.name, rules.COUNTED, render_kw={"data-item": row.sku}) for row in stocked}
    form_class = type("SiteEncounterForm", (EncounterForm,), fields)
    form = form_class()
    assert isinstance(form, EncounterForm)
    form.recipient.choices = recipient_options()
    form.channel.choices = channel_options(site_kind)
    if form.channel.data is None:
        form.channel.data = channel_for_site(site_kind)
    return form


def set_value(field: Field, value: Any) -> None:
    """Replace what a field shows (what was posted would otherwise win)."""
    field.data = value
    field.raw_data = [str(value)]


def stocked_items(site: str, posted: Mapping[str, Any]) -> list[Stocked]:
    """Active items with stock at the site, and any item a posted form named (its stock may just have run out)."""
    store = services().store
    day = today()
    on_hand: dict[str, int] = {}
    usable: dict[str, int] = {}
    for lot in queries.stock_on_hand(store, site):
        on_hand[lot["sku"]] = on_hand.get(lot["sku"], 0) + int(lot["quantity"])
        if not expired_on(lot["expires_on"], day):
            usable[lot["sku"]] = usable.get(lot["sku"], 0) + int(lot["quantity"])
    rows = [
        Stocked(
            item["sku"],
            item["name"],
            item["category"],
            item["unit"],
            on_hand.get(item["sku"], 0),
            usable.get(item["sku"], 0),
        )
        for item in queries.items(store, active_only=True)
        if on_hand.get(item["sku"], 0) > 0 or field_name(item["sku"]) in posted
    ]
    return sorted(rows, key=lambda row: (CATEGORY_ORDER.get(row.category, len(CATEGORY_ORDER)), row.name, row.sku))


def offered_bundles(stocked: list[Stocked]) -> list[dict[str, Any]]:
    """The bundles this site can fill: each category maps to the first item (by SKU) that has enough usable stock."""
    offered = []
    for bundle in BUNDLES:
        fill: dict[str, int] = {}
        for category, quantity in bundle.contents:
            candidates = sorted(
                (row for row in stocked if row.category == category and row.usable > 0), key=lambda r: r.sku
            )
            enough = [row for row in candidates if row.usable >= quantity]
            if not candidates:
                break
            fill[(enough or candidates)[0].field] = quantity
        else:
            offered.append(
                {
                    "id": bundle.id,
                    "label": bundle.label,
                    "fill": fill,
                    "recipient": bundle.recipient,
                    "for_others": bundle.for_others,
                }
            )
    return offered


def lines_of(form: EncounterForm, stocked: list[Stocked]) -> list[dict[str, Any]]:
    return [{"sku": row.sku, "quantity": form[row.field].data} for row in stocked if form[row.field].data]


def summary(result: dict[str, Any], names: dict[str, str]) -> str:
    """What was handed out and reported, for the coordinator's confirmation (never the participant code)."""
    parts = [", ".join(f"{names.get(line['sku'], line['sku'])}: {line['quantity']}" for line in result["lines"])]
    if result["syringes_collected"]:
        parts.append(f"{result['syringes_collected']} used syringes collected")
    if result["for_others"]:
        others = result["for_others"]
        parts.append(f"collecting for {others} other{'s' if others != 1 else ''}")
    if result["reversals_reported"]:
        reversals = result["reversals_reported"]
        parts.append(f"{reversals} overdose reversal{'s' if reversals != 1 else ''} reported")
    return "Visit recorded: " + "; ".join(parts) + "."


def line_field(error: InventoryError, lines: list[dict[str, Any]]) -> str | None:
    """The item field a refusal is about: by line index, or by the SKU the ledger names in its message."""
    found = re.match(r"lines\[(\d+)\]", error.field or "")
    if found and int(found.group(1)) < len(lines):
        return field_name(lines[int(found.group(1))]["sku"])
    if error.field in {"quantity", "lot", "sku"}:
        for line in lines:
            if re.search(rf"(?<![\w.-]){re.escape(line['sku'])}(?![\w-])", error.message):
                return field_name(line["sku"])
    return None


def show_refusal(form: EncounterForm, error: InventoryError, lines: list[dict[str, Any]]) -> None:
    """Put a domain refusal next to the stepper or field it is about, or at the top of the form."""
    target = line_field(error, lines)
    if target is not None:
        form[target].errors = [*form[target].errors, error.message]
    elif error.field == "key" or error.field is None:
        form.form_errors.append(error.message)
    else:
        field_error(form, error)
    if error.field == "key":
        # A used or broken key cannot record this visit; a fresh one lets the next tap record it as a new visit.
        set_value(form.key, new_key())
    if isinstance(error, IdempotencyConflict):
        form.form_errors[-1] = (
            "A visit was already recorded from this form with other amounts. "
            "If this is another visitor, check the amounts and tap Record visit again."
        )


def new_key() -> str:
    return uuid.uuid4().hex


@bp.get("/encounters")
@page(Action.RECORD_ENCOUNTER)
def choose() -> ResponseReturnValue:
    """Where the visit happens: the open sites this person may record at (straight to the form if only one)."""
    sites = visible_sites(principal(), open_only=True)
    if len(sites) == 1:
        return redirect(url_for("encounters.new", site=sites[0]["code"]))
    return render_template("pages/encounters/choose.html", sites=sites)


@bp.route("/sites/<site>/encounters/new", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def new(site: str) -> ResponseReturnValue:
    """The visit form: a quick pick fills it in, Record visit records it (once, whatever the taps)."""
    place = next(s for s in queries.sites(services().store) if s["code"] == site)
    stocked = stocked_items(site, request.form)
    bundles = offered_bundles(stocked)
    form = encounter_form(stocked, place["kind"])
    if not form.key.data:
        set_value(form.key, new_key())
    status, filled = 200, None
    if request.method == "POST" and "bundle" in request.form:
        status, filled = fill_bundle(form, stocked, bundles, request.form["bundle"])
    elif form.validate_on_submit():
        lines = lines_of(form, stocked)
        if not lines and not (form.reversals_reported.data or form.syringes_collected.data):
            form.form_errors.append(NOTHING_HANDED_OUT)
            status = 422
        else:
            try:
                result = services().app.record_encounter(
                    key=str(form.key.data),
                    site=site,
                    lines=lines,
                    participant_code=form.participant_code.data or None,
                    reversals_reported=form.reversals_reported.data,
                    syringes_collected=form.syringes_collected.data,
                    refill_reason=form.refill_reason.data or None,
                    recipient=form.recipient.data,
                    for_others=form.for_others.data,
                    channel=form.channel.data,
                    actor=principal().email,
                    occurred_at=None,
                )
            except InventoryError as error:
                show_refusal(form, error, lines)
                status = status_for(error)
            else:
                services().projector.read_your_writes()
                flash(summary(result, {row.sku: row.name for row in stocked}), "success")
                # The confirmation offers Undo (a visit recorded at the wrong site, or twice).
                return redirect(url_for("encounters.new", site=site, recorded=result["id"]))
    elif request.method == "POST":
        status = 422
    if not place["is_open"]:
        form.form_errors.append(f"{site} is closed: visits cannot be recorded there until it is reopened.")
    return render_template(
        "pages/encounters/new.html",
        form=form,
        place=place,
        stocked=stocked,
        bundles=bundles,
        filled=filled,
        steps=STEP,
        visits_today=visits_today(site),
        more_open=more_open(form),
        other_sites=len(visible_sites(principal(), open_only=True)) > 1,
        discard_reasons=DISCARD_REASONS,
        zone=services().app.zone.key,
        undo=undo_link(request.args.get("recorded", "")) if request.method == "GET" else None,
    ), status


def undo_link(visit_id: str) -> str | None:
    """Where to undo the visit just recorded, while it stands and this person may record at its site."""
    if not re.fullmatch(r"[0-9a-f-]{36}", visit_id):
        return None
    visit = queries.visit(services().store, visit_id)
    if visit is None or visit["voided"] or not principal().can(Action.RECORD_ENCOUNTER, visit["site"]):
        return None
    return url_for("corrections.undo_visit", visit_id=visit_id)


def fill_bundle(
    form: EncounterForm, stocked: list[Stocked], bundles: list[dict[str, Any]], chosen: str
) -> tuple[int, str | None]:
    """Without script, a quick pick sends the form: fill in its quantities (the other fields keep their values)."""
    bundle = next((b for b in bundles if b["id"] == chosen), None)
    if bundle is None:
        form.form_errors.append("That quick pick is not available here any more. Enter the quantities instead.")
        return 422, None
    for row in stocked:
        set_value(form[row.field], bundle["fill"].get(row.field, 0))
    set_value(form.recipient, bundle["recipient"])
    set_value(form.for_others, bundle["for_others"])
    return 200, str(bundle["label"])


def visits_today(site: str) -> int:
    day = today()
    return sum(int(row["encounters"]) for row in queries.daily_encounters(services().store, day, day, site))


def more_open(form: EncounterForm) -> bool:
    """Show the optional fields when one of them holds a value or an error."""
    optional = (form.participant_code, form.reversals_reported, form.syringes_collected, form.refill_reason)
    if form.channel.errors:
        return True
    return any(f.errors or (f.data not in (None, "", 0)) for f in optional)
