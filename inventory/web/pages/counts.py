"""Count and adjust: a physical count lot by lot (differences booked as variances), and corrections with a reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.core import Label
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InvalidInput, InventoryError
from inventory.domain.text import clean_lot
from inventory.domain.values import AdjustmentReason
from inventory.projections import queries
from inventory.web.pages.common import day_shown, page, principal
from inventory.web.pages.fields import DayField, within
from inventory.web.pages.movements import (
    WholeNumber,
    choose_site,
    form_status,
    item_label,
    items_by_sku,
    lots_on_hand,
    option,
    plural,
    show_error,
    signed,
    site_name,
    unit_word,
)
from inventory.web.pages.packs import entered_in_words, has_packs, pack_choices, pack_field, units_entered
from inventory.web.services import services

bp = Blueprint("counts", __name__)

MAX_LOTS = 500
RESULTS = "counts.last"  # the session key holding the count just recorded, shown once after the redirect

REASONS = {
    AdjustmentReason.DAMAGED: "Damaged",
    AdjustmentReason.LOST: "Lost",
    AdjustmentReason.EXPIRED: "Expired (written off)",
    AdjustmentReason.FOUND: "Found",
    AdjustmentReason.RETURNED: "Returned",
    AdjustmentReason.CORRECTION: "Correction of an earlier entry",
}
# Reasons that only ever take stock out, or only put it in; the others may go either way.
OUT_ONLY = {AdjustmentReason.DAMAGED, AdjustmentReason.LOST, AdjustmentReason.EXPIRED}
IN_ONLY = {AdjustmentReason.FOUND}


@bp.get("/count")
@page(Action.COUNT_STOCK)
def choose() -> ResponseReturnValue:
    """Pick the site to count (straight there when there is only one)."""
    who = principal()
    return choose_site(
        Action.COUNT_STOCK,
        "counts.count",
        "pages/counts/choose.html",
        may_adjust=lambda site: who.can(Action.ADJUST_STOCK, site),
    )


# ----- count ---------------------------------------------------------------------------------


class CountLine(Form):
    sku = HiddenField()
    lot = HiddenField()
    counted = WholeNumber(
        "Counted",
        validators=[Optional(), within(rules.COUNTED)],
        render_kw={"inputmode": "numeric", "min": 0, "autocomplete": "off"},
    )
    pack = pack_field()


class CountForm(FlaskForm):
    lines = FieldList(FormField(CountLine), max_entries=MAX_LOTS)

    def counted(self, items: dict[str, dict[str, Any]]) -> dict[int, int] | None:
        """What each lot counted holds, in units of issue, by line; None (said beside the line's choice of
        pack) when a line is counted in a pack its item does not come in."""
        found: dict[int, int] = {}
        refused = False
        for index, entry in enumerate(self.lines):
            line = entry.form
            units = units_entered(line.counted, line.pack, items.get(line.sku.data or ""))
            if units is not None:
                found[index] = units
            elif line.counted.data is not None:
                refused = True
        return None if refused else found


def _count_groups(form: CountForm, site: str, items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The form's lines grouped by item, each with the lot's unit and expiry. A blind count: the figure on
    record is not shown until the count is in (then beside it, with the difference)."""
    expected = {(row["sku"], row["lot"]): row for row in lots_on_hand(site)}
    groups: dict[str, dict[str, Any]] = {}
    for entry in form.lines:
        line = entry.form
        sku, lot = line.sku.data or "", line.lot.data or ""
        item = items.get(sku) or {"name": sku, "unit": "unit"}
        row = expected.get((sku, lot))
        line.counted.label = Label(line.counted.id, f"Lot {lot}")
        line.pack.choices = pack_choices(item)
        hint = f"Count the {unit_word(2, item['unit'])}" if row else "No longer on record as on hand"
        if row and row["expires_on"]:
            hint += f" · expires {day_shown(row['expires_on'])}"
        group = groups.setdefault(sku, {"name": item["name"], "sku": sku, "lines": []})
        group["lines"].append({"line": line, "hint": hint, "packs": has_packs(item)})
    return list(groups.values())


def _record_counts(
    site: str, form: CountForm, counted: dict[int, int], items: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], InventoryError | None]:
    """Record each lot counted (`counted`: in units, by line), in order; stop at the first refusal (shown
    next to its lot)."""
    app, actor = services().app, principal().email
    done: list[dict[str, Any]] = []
    for index, entry in enumerate(form.lines):
        line = entry.form
        if index not in counted:
            continue
        units = counted[index]
        try:
            result = app.count_stock(
                site=site, sku=line.sku.data or "", lot=line.lot.data or "", counted=units, actor=actor
            )
        except InventoryError as error:
            line.counted.errors = [*line.counted.errors, error.message]
            return done, error
        variance = int(result["variance"])
        done.append(
            {
                "sku": line.sku.data,
                "lot": line.lot.data,
                "counted": units,
                # As entered in a pack: "3 boxes of 100 (300 syringes)".
                "counted_words": entered_in_words(
                    line.counted.data or 0, line.pack.data, items.get(line.sku.data or "")
                )
                if line.pack.data
                else None,
                "expected": units - variance,
                "variance": variance,
            }
        )
        # Recorded: not sent again if the person fixes a later line and submits once more.
        line.counted.data, line.counted.raw_data = None, []
    return done, None


def _count_said(site: str, done: list[dict[str, Any]]) -> str:
    differing = [row for row in done if row["variance"]]
    lots = f"{len(done)} lot{'s' if len(done) != 1 else ''}"
    if not differing:
        return f"Count recorded at {site}: {lots}, all as expected."
    return f"Count recorded at {site}: {lots}, {len(differing)} different from the stock on record (see below)."


@bp.route("/sites/<site>/count", methods=["GET", "POST"])
@page(Action.COUNT_STOCK)
def count(site: str) -> ResponseReturnValue:
    """A physical count: every lot on hand; the person enters what is there, not told what to expect."""
    items = items_by_sku()
    form = CountForm(data={"lines": [{"sku": row["sku"], "lot": row["lot"]} for row in lots_on_hand(site)]})
    status = 200
    if form.validate_on_submit():
        if all(entry.form.counted.data is None for entry in form.lines):
            form.form_errors.append("Enter the count for at least one lot (leave lots you did not count empty).")
            status = 422
        elif (counted := form.counted(items)) is None:
            status = 422  # a pack the item does not come in: said beside that lot's choice
        else:
            done, error = _record_counts(site, form, counted, items)
            if done:
                services().projector.read_your_writes()
            if error is None:
                session[RESULTS] = {"site": site, "rows": done}
                flash(_count_said(site, done), "success")
                return redirect(url_for("counts.count", site=site))
            if done:
                flash(_count_said(site, done) + " The lot marked below was not recorded.", "warning")
            status = form_status(error)
    elif request.method == "POST":
        status = 422
    last = session.pop(RESULTS, None) if request.method == "GET" else None
    results = last["rows"] if last and last.get("site") == site else []
    return render_template(
        "pages/counts/count.html",
        form=form,
        site=site,
        site_name=site_name(site),
        groups=_count_groups(form, site, items),
        results=results,
        items=items,
        units=plural,
        signed=signed,
        may_adjust=principal().can(Action.ADJUST_STOCK, site),
    ), status


# ----- adjust --------------------------------------------------------------------------------


class AdjustForm(FlaskForm):
    sku = SelectField("Item", default="", validators=[DataRequired("Choose the item.")])
    lot = SelectField("Lot", default="")
    reason = SelectField(
        "Reason",
        default="",
        choices=[option("", "Choose a reason"), *(option(str(value), label) for value, label in REASONS.items())],
        validators=[DataRequired("Choose the reason.")],
    )
    # Out or in, chosen instead of typing a minus sign (a phone's number pad may have none).
    direction = RadioField(
        "Stock goes",
        choices=[option("out", "Out: take it off the shelf"), option("in", "In: add it")],
        default="",
        validate_choice=False,
    )
    quantity = WholeNumber(
        "How many",
        validators=[InputRequired("Enter how many go out or come in."), within(rules.QUANTITY)],
        render_kw={"autocomplete": "off"},
    )
    note = StringField(
        "Note (no names or personal details)",
        validators=[Length(max=200, message="Keep the note under 200 characters.")],
        render_kw={"autocomplete": "off"},
    )
    new_lot = StringField(
        "Lot number",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Length(max=60, message="A lot number is at most 60 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    expires_on = DayField("Expiry date")
    funding_source = SelectField("Funding source", default="")

    def validate_direction(self, field: RadioField) -> None:
        if field.data not in ("", None, "out", "in"):
            raise ValidationError("Choose whether the stock goes out or comes in.")
        try:
            reason = AdjustmentReason(self.reason.data)
        except ValueError:
            return  # no reason chosen, or one not on the list: the reason's own field says so
        if reason in OUT_ONLY and field.data == "in":
            raise ValidationError(f"{REASONS[reason]} stock goes out: choose Out.")
        if reason in IN_ONLY and field.data == "out":
            raise ValidationError("Found stock comes in: choose In.")
        if reason not in OUT_ONLY | IN_ONLY and not field.data:
            raise ValidationError(f"{REASONS[reason]} can go either way: choose Out or In.")

    def change(self) -> int:
        """The signed change to the lot: out is negative (damaged, lost and expired always go out, found comes in)."""
        quantity = self.quantity.data or 0
        goes_out = self.direction.data == "out" or (not self.direction.data and self.reason.data in OUT_ONLY)
        return -quantity if goes_out else quantity


def _adjust_form(site: str, items: dict[str, dict[str, Any]]) -> tuple[AdjustForm, set[tuple[str, str]]]:
    """The form with the site's items and lots; also the (sku, lot) pairs on hand there."""
    form = AdjustForm(data={"sku": request.args.get("sku", ""), "lot": request.args.get("lot", "")})
    lots = lots_on_hand(site)
    form.sku.choices = [option("", "Choose the item")] + [
        option(sku, item_label(item, sku)) for sku, item in items.items()
    ]
    form.lot.choices = [option("", "Choose the lot")] + [
        option(
            row["lot"],
            f"{row['lot']} · {row['quantity']:,}"
            + (f" · expires {day_shown(row['expires_on'])}" if row["expires_on"] else ""),
            item_label(items.get(row["sku"]), row["sku"]),
            data_sku=row["sku"],
        )
        for row in lots
    ]
    form.funding_source.choices = [option("", "Choose who paid")] + [
        option(f["code"], f"{f['name']} ({f['code']})") for f in queries.funding_sources(services().store)
    ]
    return form, {(row["sku"], row["lot"]) for row in lots}


def _lot_checked(form: AdjustForm, on_hand: set[tuple[str, str]]) -> str | None:
    """The lot to adjust: one on hand for the item, or a new lot for stock found; None after showing why not."""
    if form.new_lot.data:
        try:  # a lot number that could never be stored is the first thing to fix
            clean_lot(form.new_lot.data, "new_lot")
        except InvalidInput as refused:
            form.new_lot.errors = [refused.message]
            return None
        if form.change() < 0:
            form.new_lot.errors = ["Stock can only be added to a new lot; to take stock out, choose a lot above."]
            return None
        if not form.funding_source.data:
            form.funding_source.errors = ["Choose who paid for the stock in this lot."]
            return None
        return str(form.new_lot.data)
    if not form.lot.data:
        form.lot.errors = ["Choose the lot, or enter a new lot below for stock found."]
        return None
    if (form.sku.data, form.lot.data) not in on_hand:
        form.lot.errors = [f"Lot {form.lot.data} of {form.sku.data} is not on hand here: choose one of its lots."]
        return None
    return str(form.lot.data)


def _adjust_said(site: str, form: AdjustForm, lot: str, item: dict[str, Any]) -> str:
    left = sum(
        row["quantity"] for row in queries.stock_on_hand(services().store, site, item["sku"]) if row["lot"] == lot
    )
    quantity = form.change()
    reason = REASONS[AdjustmentReason(form.reason.data)].lower()
    return (
        f"Adjusted {item['name']} lot {lot} at {site} by {signed(quantity)} ({reason}). "
        f"That lot now holds {plural(left, item['unit'])}."
    )


@bp.route("/sites/<site>/adjust", methods=["GET", "POST"])
@page(Action.ADJUST_STOCK)
def adjust(site: str) -> ResponseReturnValue:
    """Correct one lot up or down with a reason (damaged, lost, expired, found, returned, correction)."""
    items = items_by_sku()
    form, on_hand = _adjust_form(site, items)
    status = 200
    if form.validate_on_submit():
        lot = _lot_checked(form, on_hand)
        if lot is None:
            status = 422
        else:
            try:
                services().app.adjust_stock(
                    site=site,
                    sku=form.sku.data or "",
                    lot=lot,
                    quantity=form.change(),
                    reason=form.reason.data or "",
                    note=form.note.data or "",
                    expires_on=form.expires_on.data if form.new_lot.data else None,
                    funding_source=(form.funding_source.data or None) if form.new_lot.data else None,
                    actor=principal().email,
                )
            except InventoryError as error:
                show_error(form, error, "new_lot" if form.new_lot.data and error.field == "lot" else None)
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                flash(_adjust_said(site, form, lot, items[form.sku.data or ""]), "success")
                return redirect(url_for("counts.adjust", site=site))
    elif request.method == "POST":
        status = 422
    new_lot_open = bool(
        form.new_lot.data or form.new_lot.errors or form.expires_on.errors or form.funding_source.errors
    )
    return render_template(
        "pages/counts/adjust.html", form=form, site=site, site_name=site_name(site), new_lot_open=new_lot_open
    ), status
