"""Kits at a site: make kits from the parts on the shelf (first expiry first; each part's funder checked),
take kits apart again; and, for admins, what goes into one kit from a given day."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.application.access import Action
from inventory.domain.errors import InventoryError, NotFound
from inventory.domain.expiry import expired_on
from inventory.domain.values import Category
from inventory.projections import queries, recall_queries
from inventory.web.pages.common import page, principal, today
from inventory.web.pages.fields import DayField
from inventory.web.pages.movements import WholeNumber, form_status, items_by_sku, option, plural, show_error, site_name
from inventory.web.services import services

bp = Blueprint("kits", __name__)
PART_ROWS = 6


class MakeForm(FlaskForm):
    kit = SelectField("Kit", validators=[DataRequired("Choose the kit to make.")])
    quantity = WholeNumber("How many kits", validators=[InputRequired("Enter how many kits you made.")])
    lot = StringField(
        "Lot number for the kits (optional)",
        validators=[Optional(), Length(max=40, message="At most 40 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ApartForm(FlaskForm):
    lot = SelectField("Kit lot", validators=[DataRequired("Choose the kit lot.")])
    quantity = WholeNumber("How many kits", validators=[InputRequired("Enter how many kits you took apart.")])


class PartLine(FlaskForm):
    class Meta:
        csrf = False

    sku = SelectField("Part", default="", validate_choice=False)
    quantity = WholeNumber("In one kit", validators=[Optional()])


class RecipeForm(FlaskForm):
    effective_from = DayField("Applies from", validators=[InputRequired("Enter the day it applies from.")])
    parts = FieldList(FormField(PartLine), min_entries=PART_ROWS, max_entries=PART_ROWS)


def _kits(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every kit item, with what goes into one today (None when it has no recipe yet)."""
    found = []
    for item in items.values():
        if item["category"] != Category.KIT or item["retired"]:
            continue
        try:
            recipe = services().app.kit_recipe(item["sku"])
        except NotFound:
            recipe = None
        parts = None
        if recipe:
            applying = [v for v in recipe["versions"] if v["effective_from"] <= today()]
            parts = applying[-1]["components"] if applying else None
        found.append(dict(item, parts=parts, versions=recipe["versions"] if recipe else []))
    return found


def _can_make(site: str, parts: list[dict[str, Any]]) -> int:
    """How many kits the parts on the shelf make now (held and expired lots left out)."""
    store, day = services().store, today()
    held = {(row["sku"], row["lot"]) for row in recall_queries.held_lots(store, site)}
    usable: dict[str, int] = {}
    for row in queries.stock_on_hand(store, site):
        if (row["sku"], row["lot"]) not in held and not expired_on(row["expires_on"], day):
            usable[row["sku"]] = usable.get(row["sku"], 0) + row["quantity"]
    return min((usable.get(part["sku"], 0) // part["quantity"] for part in parts), default=0)


@bp.route("/sites/<site>/kits", methods=["GET", "POST"])
@page(Action.ADJUST_STOCK)
def site_kits(site: str) -> ResponseReturnValue:
    """Make kits here, and the kit lots on the shelf (to take apart)."""
    items = items_by_sku()
    kits = [dict(kit, can_make=_can_make(site, kit["parts"]) if kit["parts"] else 0) for kit in _kits(items)]
    form = MakeForm()
    form.kit.choices = [option(kit["sku"], f"{kit['name']} ({kit['sku']})") for kit in kits if kit["parts"]]
    apart = ApartForm(formdata=None, prefix="apart")
    kit_skus = {kit["sku"] for kit in kits}
    on_hand = [row for row in queries.stock_on_hand(services().store, site) if row["sku"] in kit_skus]
    apart.lot.choices = [option(f"{row['sku']}|{row['lot']}", f"{row['sku']} lot {row['lot']} ({row['quantity']:,})")
                         for row in on_hand]  # fmt: skip
    status = 200
    if form.validate_on_submit():
        try:
            made = services().app.assemble_kits(site=site, kit_sku=form.kit.data, quantity=form.quantity.data or 0,
                                                lot=form.lot.data or None, actor=principal().email)  # fmt: skip
        except InventoryError as error:
            show_error(form, error, "quantity" if error.field not in ("lot", "kit") else None)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            lots = ", ".join(f"lot {row['lot']} ({row['quantity']:,})" for row in made["lots"])
            unit = items.get(made["kit_sku"], {}).get("unit", "kit")
            flash(f"Made {plural(made['quantity'], unit)} of {made['kit_sku']} at {site}: {lots}. Their parts left "
                  "the shelf, lot by lot.", "success")  # fmt: skip
            return redirect(url_for("kits.site_kits", site=site))
    elif request.method == "POST":
        status = 422
    return render_template(
        "pages/kits/site.html", site=site, site_name=site_name(site), kits=kits, items=items, form=form,
        apart=apart, on_hand=on_hand,
    ), status  # fmt: skip


@bp.post("/sites/<site>/kits/apart")
@page(Action.ADJUST_STOCK)
def take_apart(site: str) -> ResponseReturnValue:
    form = ApartForm(prefix="apart")
    kits = {kit["sku"] for kit in _kits(items_by_sku())}
    form.lot.choices = [option(f"{row['sku']}|{row['lot']}", row["lot"])
                        for row in queries.stock_on_hand(services().store, site) if row["sku"] in kits]  # fmt: skip
    if not form.validate_on_submit():
        problems = " ".join(str(message) for messages in form.errors.values() for message in messages)
        flash(problems or "The form was out of date: open the page again.", "error")
        return redirect(url_for("kits.site_kits", site=site))
    kit_sku, _, lot = (form.lot.data or "").partition("|")
    try:
        done = services().app.take_apart_kits(site=site, kit_sku=kit_sku, lot=lot, quantity=form.quantity.data or 0,
                                              actor=principal().email)  # fmt: skip
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        back = ", ".join(f"{part['quantity']:,} {part['sku']} to lot {part['lot']}" for part in done["parts"])
        unit = items_by_sku().get(kit_sku, {}).get("unit", "kit")
        flash(f"Took {plural(done['quantity'], unit)} of lot {lot} apart: {back}.", "success")
    return redirect(url_for("kits.site_kits", site=site))


@bp.route("/admin/kits/<sku>", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def recipe(sku: str) -> ResponseReturnValue:
    """What goes into one kit, from a day on (an earlier version keeps applying to the days before)."""
    items = items_by_sku()
    kit = items.get(sku.upper())
    if kit is None or kit["category"] != Category.KIT:
        abort(404, description=f"{sku.upper()} is not a kit: add it under Items with the category Kits.")
    form = RecipeForm()
    choices = [option("", "(none)"), *(option(code, f"{item['name']} ({code})") for code, item in items.items()
                                       if item["category"] != Category.KIT and not item["retired"])]  # fmt: skip
    for entry in form.parts:
        entry.form.sku.choices = choices
    if request.method == "GET" and not form.effective_from.data:
        form.effective_from.data = today()
    status = 200
    if form.validate_on_submit():
        parts = [{"sku": entry.form.sku.data, "quantity": entry.form.quantity.data}
                 for entry in form.parts if entry.form.sku.data]  # fmt: skip
        try:
            services().app.set_kit_recipe(kit_sku=kit["sku"], components=parts,
                                          effective_from=form.effective_from.data or date.today(),
                                          actor=principal().email)  # fmt: skip
        except InventoryError as error:
            form.form_errors.append(error.message)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(f"Recipe of {kit['sku']} saved: it applies from {form.effective_from.data:%d %b %Y}.", "success")
            return redirect(url_for("kits.recipe", sku=kit["sku"]))
    elif request.method == "POST":
        status = 422
    versions: list[dict[str, Any]] = next((k["versions"] for k in _kits(items) if k["sku"] == kit["sku"]), [])
    return render_template("pages/kits/recipe.html", kit=kit, form=form, versions=versions, items=items), status
